/**
 * Similarity alignment of two point sets in float64: the s, R, t minimising sum_i |dst_i - (s R src_i + t)|^2
 * (Umeyama, "Least-squares estimation of transformation parameters between two point patterns", PAMI 1991).
 * The rotation comes from Horn's unit quaternion (JOSA A 4(4), 1987): the eigenvector of the largest
 * eigenvalue of a symmetric 4x4 built from the cross-covariance, which is always a proper rotation, so no
 * reflection fix-up is needed as with the SVD route. Structure from motion recovers its points only up to
 * such a similarity, so its error is measured after this alignment.
 *
 * Points are [n,3] row-major; R is [9] row-major; everything is pure and allocation-light.
 */
import { jacobiEigenSym } from '../solver/eigen';

export interface Similarity {
  /** scale */
  s: number;
  /** rotation, [9] row-major */
  R: Float64Array;
  /** translation [3] */
  t: Float64Array;
}

function centroid(pts: ArrayLike<number>, n: number): [number, number, number] {
  let x = 0, y = 0, z = 0;
  for (let i = 0; i < n; i++) {
    x += pts[3 * i]; y += pts[3 * i + 1]; z += pts[3 * i + 2];
  }
  return [x / n, y / n, z / n];
}

function checkPoints(fn: string, name: string, pts: ArrayLike<number>, n: number): void {
  if (pts.length !== 3 * n) throw new Error(`${fn}: ${name} must hold (n, 3) = (${n}, 3) values, got ${pts.length}`);
}

/** The similarity taking src [n,3] onto dst [n,3] in the least-squares sense (n >= 3, src not collinear). */
export function alignSimilarity(src: ArrayLike<number>, dst: ArrayLike<number>, n: number): Similarity {
  checkPoints('alignSimilarity', 'src', src, n);
  checkPoints('alignSimilarity', 'dst', dst, n);
  if (n < 3) throw new Error(`alignSimilarity: needs at least 3 points, got ${n}`);
  const ms = centroid(src, n);
  const md = centroid(dst, n);
  // S[a][b] = sum_i (src_i - ms)_a (dst_i - md)_b, and the source's spread for the scale.
  const S = new Float64Array(9);
  let srcVar = 0;
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < 3; a++) {
      const pa = src[3 * i + a] - ms[a];
      srcVar += pa * pa;
      for (let b = 0; b < 3; b++) S[3 * a + b] += pa * (dst[3 * i + b] - md[b]);
    }
  }
  const [xx, xy, xz, yx, yy, yz, zx, zy, zz] = S;
  // Horn's N: q^T N q = sum_i (R(q) a_i) . b_i for a unit quaternion q = (w, x, y, z).
  const N = [
    xx + yy + zz, yz - zy, zx - xz, xy - yx,
    yz - zy, xx - yy - zz, xy + yx, zx + xz,
    zx - xz, xy + yx, -xx + yy - zz, yz + zy,
    xy - yx, zx + xz, yz + zy, -xx - yy + zz,
  ];
  const values = new Float64Array(4);
  const vectors = new Float64Array(16);
  jacobiEigenSym(N, 4, values, vectors);
  // Ascending eigenvalues: column 3 is the largest's eigenvector.
  const w = vectors[3], x = vectors[7], y = vectors[11], z = vectors[15];
  const R = Float64Array.of(
    w * w + x * x - y * y - z * z, 2 * (x * y - w * z), 2 * (x * z + w * y),
    2 * (x * y + w * z), w * w - x * x + y * y - z * z, 2 * (y * z - w * x),
    2 * (x * z - w * y), 2 * (y * z + w * x), w * w - x * x - y * y + z * z,
  );
  // Umeyama's scale: trace(R^T S^T) / spread of src = sum_i (R a_i) . b_i / sum_i |a_i|^2 = lambda_max / spread.
  const s = srcVar > 0 ? values[3] / srcVar : 1;
  const t = new Float64Array(3);
  for (let a = 0; a < 3; a++) t[a] = md[a] - s * (R[3 * a] * ms[0] + R[3 * a + 1] * ms[1] + R[3 * a + 2] * ms[2]);
  return { s, R, t };
}

/** out [n,3] = s R pts + t. out may alias pts. */
export function applySimilarity(out: Float64Array, sim: Similarity, pts: ArrayLike<number>, n: number): Float64Array {
  const { s, R, t } = sim;
  for (let i = 0; i < n; i++) {
    const x = pts[3 * i], y = pts[3 * i + 1], z = pts[3 * i + 2];
    for (let a = 0; a < 3; a++) out[3 * i + a] = s * (R[3 * a] * x + R[3 * a + 1] * y + R[3 * a + 2] * z) + t[a];
  }
  return out;
}

export interface StructureError {
  /** RMS distance between the aligned estimate and the truth, in the truth's unit */
  rms: number;
  /** rms over the truth's RMS radius about its centroid: scale-free */
  relative: number;
  /** the estimate after alignment onto the truth, [n,3] */
  aligned: Float64Array;
}

/** How far estimate [n,3] is from truth [n,3] once the best similarity has been applied to it. */
export function structureError(estimate: ArrayLike<number>, truth: ArrayLike<number>, n: number): StructureError {
  const sim = alignSimilarity(estimate, truth, n);
  const aligned = applySimilarity(new Float64Array(3 * n), sim, estimate, n);
  const mt = centroid(truth, n);
  let err = 0, spread = 0;
  for (let j = 0; j < 3 * n; j++) {
    err += (aligned[j] - truth[j]) ** 2;
    spread += (truth[j] - mt[j % 3]) ** 2;
  }
  const rms = Math.sqrt(err / n);
  return { rms, relative: spread > 0 ? rms / Math.sqrt(spread / n) : Infinity, aligned };
}
