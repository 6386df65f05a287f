/**
 * Normalisation of a PnP problem (docs/pnp-maths.md, "Normalisation").
 *
 * 3D: c = sum w X / sum w, s = sqrt(sum w |X - c|^2 / sum w) over the points with w > 0, Xn = (X - c) / s,
 * so the normalised pose (R, tn) with Xc / s = R Xn + tn gives tn = (R c + t) / s and t = s tn - R c.
 * 2D (initialiser only): m = dehom(K^-1 [x, 1]).
 */
import { mat3Inverse, type Vec } from './linalg';

/**
 * pts3d [n,3] model points, w [n] weights or null (all 1). Writes xn [n,3] for EVERY point (those with
 * w <= 0 too, so one-sided weight gradients can use them; they are NaN when the point is not finite) and
 * cs [4] = [cx, cy, cz, s]. Returns xn. With no w > 0 point or all of them coincident, s is 0 and xn is
 * not finite: checkProblem rules those problems out first.
 */
export function normalizePoints(xn: Float64Array, cs: Float64Array, pts3d: Vec, w: Vec | null, n: number): Float64Array {
  let sw = 0, cx = 0, cy = 0, cz = 0;
  for (let i = 0; i < n; i++) {
    const wi = w === null ? 1 : w[i];
    if (!(wi > 0)) continue;
    sw += wi;
    cx += wi * pts3d[3 * i]; cy += wi * pts3d[3 * i + 1]; cz += wi * pts3d[3 * i + 2];
  }
  cx /= sw; cy /= sw; cz /= sw;
  let ss = 0;
  for (let i = 0; i < n; i++) {
    const wi = w === null ? 1 : w[i];
    if (!(wi > 0)) continue;
    const dx = pts3d[3 * i] - cx, dy = pts3d[3 * i + 1] - cy, dz = pts3d[3 * i + 2] - cz;
    ss += wi * (dx * dx + dy * dy + dz * dz);
  }
  const s = Math.sqrt(ss / sw);
  const inv = 1 / s;
  for (let i = 0; i < n; i++) {
    xn[3 * i] = (pts3d[3 * i] - cx) * inv;
    xn[3 * i + 1] = (pts3d[3 * i + 1] - cy) * inv;
    xn[3 * i + 2] = (pts3d[3 * i + 2] - cz) * inv;
  }
  cs[0] = cx; cs[1] = cy; cs[2] = cz; cs[3] = s;
  return xn;
}

const sKinv = new Float64Array(9);

/** m [n,2] = dehom(K^-1 [x_i, 1]) for pts2d [n,2] px and K [9] row-major. Returns m. */
export function normalizedImagePoints(m: Float64Array, pts2d: Vec, K: Vec, n: number): Float64Array {
  const ki = mat3Inverse(sKinv, K);
  for (let i = 0; i < n; i++) {
    const u = pts2d[2 * i], v = pts2d[2 * i + 1];
    const z = ki[6] * u + ki[7] * v + ki[8];
    m[2 * i] = (ki[0] * u + ki[1] * v + ki[2]) / z;
    m[2 * i + 1] = (ki[3] * u + ki[4] * v + ki[5]) / z;
  }
  return m;
}

/**
 * 2^-e with 2^e <= max_j |K[2][j]| < 2^(e+1) (1 when that row is zero or not finite; 1 for any camera
 * whose K[2][2] is 1). K and a K scaled by any factor are the same camera (pi divides by K2.Xc), but a K
 * scaled far from 1 under- or overflows in f32 (det K ~ scale^3, the residual scale fbar) although nothing
 * is wrong with it; the solvers therefore use K * cameraScale(K), exact in binary floating point, and
 * multiply dL/dK by the same factor (the scale is piecewise constant in K, so that is the whole derivative).
 */
export function cameraScale(K: Vec): number {
  const m = Math.max(Math.abs(K[6]), Math.abs(K[7]), Math.abs(K[8]));
  if (!(m > 0) || !Number.isFinite(m)) return 1;
  let e = Math.floor(Math.log2(m));
  // log2 may round across a power of two; the exponent itself is exact (WGSL: frexp).
  if (m / 2 ** e >= 2) e++;
  else if (m / 2 ** e < 1) e--;
  // Clamped to the f32 exponent range so the WGSL twin (ldexp on f32) gives the same factor.
  return 2 ** -Math.max(-126, Math.min(126, e));
}
