/**
 * Synthetic LINEMOD-like PnP problems for the EPnP tests, in both the raw (mm, px) and the normalised
 * frame of docs/pnp-maths.md. Rotations are model->camera, 3x3 row-major.
 */

/** LINEMOD camera intrinsics, 3x3 row-major (px). */
export const kLinemodK = [572.4114, 0, 325.2611, 0, 573.57043, 242.04899, 0, 0, 1] as const;

/** Seeded uniform [0, 1) generator (mulberry32): deterministic test problems. */
export function makeRng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal sample (Box-Muller). */
export function gaussian(rng: () => number): number {
  const u = Math.max(rng(), 1e-300);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}

/** Uniformly random rotation (Shoemake's quaternion), [9] row-major. */
export function randomRotation(rng: () => number): Float64Array {
  const u1 = rng(), u2 = rng(), u3 = rng();
  const a = Math.sqrt(1 - u1), b = Math.sqrt(u1);
  const w = a * Math.sin(2 * Math.PI * u2), x = a * Math.cos(2 * Math.PI * u2);
  const y = b * Math.sin(2 * Math.PI * u3), z = b * Math.cos(2 * Math.PI * u3);
  return new Float64Array([
    1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y),
    2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
    2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y),
  ]);
}

export interface EpnpProblem {
  n: number;
  planar: boolean;
  /** model points [n,3] mm */
  pts3dMm: Float64Array;
  /** image points [n,2] px (with the requested noise) */
  pts2dPx: Float64Array;
  /** ground-truth rotation model->camera [9] row-major, translation [3] mm */
  rGt: Float64Array;
  tGtMm: Float64Array;
  /** normalised problem: xn [n,3], m [n,2], centroid c [3] mm, scale s mm, ground-truth tn [3] */
  xn: Float64Array;
  m: Float64Array;
  c: Float64Array;
  s: number;
  tnGt: Float64Array;
}

/**
 * One LINEMOD-like problem: an object of diameter 50..300 mm (a box of random extents, or a random plane
 * through it when `planar`), its model origin off its centroid, at depth 400..1500 mm, centred on a random
 * pixel of the 640x480 image, in a random rotation; pixel noise of `noisePx` (standard deviation, px).
 * With `planar` and `thickness` > 0 the points lie within +-thickness times the plane's larger half-extent of it.
 */
export function makeEpnpProblem(rng: () => number, n: number, planar: boolean, noisePx = 0, thickness = 0): EpnpProblem {
  const K = kLinemodK;
  const diam = 50 + 250 * rng();
  const half = [0, 1, 2].map(() => (0.3 + 0.7 * rng()) * diam * 0.5);
  const off = [0, 1, 2].map(() => (rng() - 0.5) * diam * 0.5);
  const pts3dMm = new Float64Array(3 * n);
  for (let i = 0; i < n; i++) {
    for (let r = 0; r < 3; r++) pts3dMm[3 * i + r] = off[r] + (2 * rng() - 1) * half[r];
    // A nearly planar object (thickness > 0): the plane's normal spread is thickness times its largest half-extent.
    if (planar) pts3dMm[3 * i + 2] = off[2] + (thickness > 0 ? thickness * Math.max(half[0], half[1]) * (2 * rng() - 1) : 0);
  }
  const rGt = randomRotation(rng);
  const z = 400 + 1100 * rng();
  const u0 = 100 + 440 * rng();
  const v0 = 80 + 320 * rng();
  // Put the model origin on the ray through (u0, v0) at depth z.
  const tGtMm = new Float64Array([(z * (u0 - K[2])) / K[0], (z * (v0 - K[5])) / K[4], z]);
  const pts2dPx = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    const X = pts3dMm.subarray(3 * i, 3 * i + 3);
    const xc = [0, 1, 2].map((r) => rGt[3 * r] * X[0] + rGt[3 * r + 1] * X[1] + rGt[3 * r + 2] * X[2] + tGtMm[r]);
    pts2dPx[2 * i] = K[0] * (xc[0] / xc[2]) + K[2] + noisePx * gaussian(rng);
    pts2dPx[2 * i + 1] = K[4] * (xc[1] / xc[2]) + K[5] + noisePx * gaussian(rng);
  }
  const norm = normaliseProblem(pts3dMm, pts2dPx, n);
  const tnGt = new Float64Array(3);
  for (let r = 0; r < 3; r++) {
    tnGt[r] = (rGt[3 * r] * norm.c[0] + rGt[3 * r + 1] * norm.c[1] + rGt[3 * r + 2] * norm.c[2] + tGtMm[r]) / norm.s;
  }
  return { n, planar, pts3dMm, pts2dPx, rGt, tGtMm, ...norm, tnGt };
}

/** The normalisation of docs/pnp-maths.md (unweighted): xn = (X - c) / s, m = dehom(K^-1 [x, 1]). */
export function normaliseProblem(pts3dMm: Float64Array, pts2dPx: Float64Array, n: number, K: ArrayLike<number> = kLinemodK) {
  const c = new Float64Array(3);
  for (let i = 0; i < n; i++) for (let r = 0; r < 3; r++) c[r] += pts3dMm[3 * i + r] / n;
  let ss = 0;
  for (let i = 0; i < n; i++) for (let r = 0; r < 3; r++) ss += (pts3dMm[3 * i + r] - c[r]) ** 2;
  const s = Math.sqrt(ss / n);
  const xn = new Float64Array(3 * n);
  for (let i = 0; i < n; i++) for (let r = 0; r < 3; r++) xn[3 * i + r] = (pts3dMm[3 * i + r] - c[r]) / s;
  // K upper triangular: K^-1 [x, y, 1] by back substitution.
  const m = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    const v = (pts2dPx[2 * i + 1] - K[5]) / K[4];
    m[2 * i] = (pts2dPx[2 * i] - K[2] - K[1] * v) / K[0];
    m[2 * i + 1] = v;
  }
  return { xn, m, c, s };
}

/** Angle (rad) of Ra Rb^T, accurate near 0 (atan2 of the skew and symmetric parts). */
export function rotationAngle(Ra: ArrayLike<number>, Rb: ArrayLike<number>): number {
  const D = new Float64Array(9);
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) {
    for (let k = 0; k < 3; k++) D[3 * i + j] += Ra[3 * i + k] * Rb[3 * j + k];
  }
  const sx = D[7] - D[5], sy = D[2] - D[6], sz = D[3] - D[1];
  return Math.atan2(0.5 * Math.hypot(sx, sy, sz), 0.5 * (D[0] + D[4] + D[8] - 1));
}

/** |ta - tb| / |tb|. */
export function relativeError(ta: ArrayLike<number>, tb: ArrayLike<number>): number {
  return Math.hypot(ta[0] - tb[0], ta[1] - tb[1], ta[2] - tb[2]) / Math.hypot(tb[0], tb[1], tb[2]);
}

/** Rodrigues: exp([r]x), [9] row-major. */
export function expSo3(r: ArrayLike<number>): Float64Array {
  const th = Math.hypot(r[0], r[1], r[2]);
  const a = th < 1e-8 ? 1 - (th * th) / 6 : Math.sin(th) / th;
  const b = th < 1e-8 ? 0.5 - (th * th) / 24 : (1 - Math.cos(th)) / (th * th);
  const [x, y, z] = [r[0], r[1], r[2]];
  return new Float64Array([
    1 - b * (y * y + z * z), -a * z + b * x * y, a * y + b * x * z,
    a * z + b * x * y, 1 - b * (x * x + z * z), -a * x + b * y * z,
    -a * y + b * x * z, a * x + b * y * z, 1 - b * (x * x + y * y),
  ]);
}

/** Sum of squared reprojection residuals in normalised image coordinates (no weights). */
export function reprojCost(xn: Float64Array, m: Float64Array, n: number, R: ArrayLike<number>, t: ArrayLike<number>): number {
  let c = 0;
  for (let i = 0; i < n; i++) {
    const p = [0, 1, 2].map((r) => R[3 * r] * xn[3 * i] + R[3 * r + 1] * xn[3 * i + 1] + R[3 * r + 2] * xn[3 * i + 2] + t[r]);
    if (!(p[2] > 0)) return Infinity;
    c += (p[0] / p[2] - m[2 * i]) ** 2 + (p[1] / p[2] - m[2 * i + 1]) ** 2;
  }
  return c;
}

/**
 * A small independent Levenberg-Marquardt on the normalised reprojection cost (left perturbation
 * R <- exp([dr]x) R, t <- t + dt), for the tests only: the optimum that an initialiser must lead to.
 */
export function refinePoseLm(xn: Float64Array, m: Float64Array, n: number, R0: ArrayLike<number>, t0: ArrayLike<number>, iters = 100) {
  let R = Float64Array.from(R0);
  let t = Float64Array.from(t0);
  let cost = reprojCost(xn, m, n, R, t);
  let lambda = 1e-3;
  for (let it = 0; it < iters && Number.isFinite(cost); it++) {
    const H = new Float64Array(36);
    const g = new Float64Array(6);
    for (let i = 0; i < n; i++) {
      const Y = [0, 1, 2].map((r) => R[3 * r] * xn[3 * i] + R[3 * r + 1] * xn[3 * i + 1] + R[3 * r + 2] * xn[3 * i + 2]);
      const X = [Y[0] + t[0], Y[1] + t[1], Y[2] + t[2]];
      const iz = 1 / X[2];
      const res = [X[0] * iz - m[2 * i], X[1] * iz - m[2 * i + 1]];
      const D = [[iz, 0, -X[0] * iz * iz], [0, iz, -X[1] * iz * iz]];
      // dXc/d(dr) = -[Y]x, dXc/d(dt) = I.
      const skew = [[0, Y[2], -Y[1]], [-Y[2], 0, Y[0]], [Y[1], -Y[0], 0]];
      for (let k = 0; k < 2; k++) {
        const J = new Float64Array(6);
        for (let c = 0; c < 3; c++) {
          J[c] = D[k][0] * skew[0][c] + D[k][1] * skew[1][c] + D[k][2] * skew[2][c];
          J[3 + c] = D[k][c];
        }
        for (let a = 0; a < 6; a++) {
          g[a] += J[a] * res[k];
          for (let b = 0; b < 6; b++) H[6 * a + b] += J[a] * J[b];
        }
      }
    }
    let improved = false;
    for (let tries = 0; tries < 10 && !improved; tries++) {
      const A = H.slice();
      for (let a = 0; a < 6; a++) A[7 * a] *= 1 + lambda;
      const dx = solveDense(A, g.map((v) => -v), 6);
      const Rn = expSo3(dx.subarray(0, 3));
      const R2 = new Float64Array(9);
      for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 3; k++) R2[3 * i + j] += Rn[3 * i + k] * R[3 * k + j];
      const t2 = Float64Array.from([t[0] + dx[3], t[1] + dx[4], t[2] + dx[5]]);
      const c2 = reprojCost(xn, m, n, R2, t2);
      if (c2 <= cost) {
        const rel = (cost - c2) / Math.max(cost, 1e-300);
        R = R2; t = t2; cost = c2; lambda = Math.max(lambda / 10, 1e-12); improved = true;
        if (rel < 1e-15 || Math.hypot(...dx) < 1e-14) return { R, t, cost };
      } else lambda *= 10;
    }
    if (!improved) break;
  }
  return { R, t, cost };
}

/** Dense solve by Gaussian elimination with partial pivoting (test helper, small d). */
export function solveDense(A: Float64Array, b: Float64Array, d: number): Float64Array {
  const a = A.slice();
  const x = b.slice();
  for (let k = 0; k < d; k++) {
    let p = k;
    for (let i = k + 1; i < d; i++) if (Math.abs(a[i * d + k]) > Math.abs(a[p * d + k])) p = i;
    for (let j = 0; j < d; j++) [a[k * d + j], a[p * d + j]] = [a[p * d + j], a[k * d + j]];
    [x[k], x[p]] = [x[p], x[k]];
    for (let i = k + 1; i < d; i++) {
      const f = a[i * d + k] / a[k * d + k];
      for (let j = k; j < d; j++) a[i * d + j] -= f * a[k * d + j];
      x[i] -= f * x[k];
    }
  }
  for (let k = d - 1; k >= 0; k--) {
    let s = x[k];
    for (let j = k + 1; j < d; j++) s -= a[k * d + j] * x[j];
    x[k] = s / a[k * d + k];
  }
  return x;
}
