/**
 * Pinhole projection in the general-K form of docs/pnp-maths.md and its first and second derivatives.
 *
 * pi(K, Xc) = (K0.Xc / K2.Xc, K1.Xc / K2.Xc), K 3x3 row-major with rows Kk, Xc a camera-frame point. The
 * general form (K2 not assumed [0, 0, 1]) keeps dL/dK defined for all nine entries.
 * Pure functions `fn(out, ...): out`; points are read at an offset so arrays of points need no views.
 */
import type { Vec } from './linalg';
import { so3Exp } from './so3';

/** out[2] = pi(K, Xc) in pixels, Xc = xc[off..off+3]. */
export function projectPoint(out: Float64Array, K: Vec, xc: Vec, off = 0): Float64Array {
  const x = xc[off], y = xc[off + 1], z = xc[off + 2];
  const c3 = K[6] * x + K[7] * y + K[8] * z;
  const u = (K[0] * x + K[1] * y + K[2] * z) / c3;
  const v = (K[3] * x + K[4] * y + K[5] * z) / c3;
  out[0] = u; out[1] = v;
  return out;
}

/**
 * out[6] = Dpi = dpi/dXc, 2x3 row-major: row k is p_k = (Kk - pi_k K2) / (K2.Xc).
 */
export function projectionDpi(out: Float64Array, K: Vec, xc: Vec, off = 0): Float64Array {
  const x = xc[off], y = xc[off + 1], z = xc[off + 2];
  const inv = 1 / (K[6] * x + K[7] * y + K[8] * z);
  const u = (K[0] * x + K[1] * y + K[2] * z) * inv;
  const v = (K[3] * x + K[4] * y + K[5] * z) * inv;
  for (let j = 0; j < 3; j++) {
    out[j] = (K[j] - u * K[6 + j]) * inv;
    out[3 + j] = (K[3 + j] - v * K[6 + j]) * inv;
  }
  return out;
}

/**
 * out[9] = Hpi_k = d^2 pi_k / dXc^2 (3x3 row-major, symmetric) for pixel row k in {0, 1}:
 * Hpi_k = -(K2 p_k^T + p_k K2^T) / (K2.Xc).
 */
export function projectionHpi(out: Float64Array, K: Vec, xc: Vec, k: number, off = 0): Float64Array {
  const x = xc[off], y = xc[off + 1], z = xc[off + 2];
  const inv = 1 / (K[6] * x + K[7] * y + K[8] * z);
  const pik = (K[3 * k] * x + K[3 * k + 1] * y + K[3 * k + 2] * z) * inv;
  const p0 = (K[3 * k] - pik * K[6]) * inv;
  const p1 = (K[3 * k + 1] - pik * K[7]) * inv;
  const p2 = (K[3 * k + 2] - pik * K[8]) * inv;
  const k0 = K[6], k1 = K[7], k2 = K[8];
  out[0] = -2 * k0 * p0 * inv;
  out[1] = -(k0 * p1 + p0 * k1) * inv;
  out[2] = -(k0 * p2 + p0 * k2) * inv;
  out[3] = out[1];
  out[4] = -2 * k1 * p1 * inv;
  out[5] = -(k1 * p2 + p1 * k2) * inv;
  out[6] = out[2];
  out[7] = out[5];
  out[8] = -2 * k2 * p2 * inv;
  return out;
}

const sR = new Float64Array(9);

/** The one float64 projection loop: out[outOff + 2i..] = pi(K, R X_i + t) for n points read at ptsOff, t at tOff, K at kOff. */
function projectRigid(out: Float64Array, outOff: number, pts: Vec, ptsOff: number, n: number, R: Vec, t: Vec, tOff: number, K: Vec, kOff: number): void {
  const tx = t[tOff], ty = t[tOff + 1], tz = t[tOff + 2];
  for (let i = 0; i < n; i++) {
    const X = pts[ptsOff + 3 * i], Y = pts[ptsOff + 3 * i + 1], Z = pts[ptsOff + 3 * i + 2];
    const x = R[0] * X + R[1] * Y + R[2] * Z + tx;
    const y = R[3] * X + R[4] * Y + R[5] * Z + ty;
    const z = R[6] * X + R[7] * Y + R[8] * Z + tz;
    const inv = 1 / (K[kOff + 6] * x + K[kOff + 7] * y + K[kOff + 8] * z);
    out[outOff + 2 * i] = (K[kOff] * x + K[kOff + 1] * y + K[kOff + 2] * z) * inv;
    out[outOff + 2 * i + 1] = (K[kOff + 3] * x + K[kOff + 4] * y + K[kOff + 5] * z) * inv;
  }
}

/**
 * Projects model points with poses: out [B,n,2] px = pi(K_b, R(r_b) X_i + t_b), the float64 twin of the
 * ops/projectPoints op. pts3d [n,3] (sharedPts3d) or [B,n,3]; poses [B,6] = [r, t]; K [9] (sharedK) or
 * [B,9], row-major.
 */
export function projectPoints(
  out: Float64Array,
  pts3d: Vec,
  poses: Vec,
  K: Vec,
  B: number,
  n: number,
  sharedPts3d: boolean,
  sharedK: boolean,
): Float64Array {
  for (let b = 0; b < B; b++) {
    so3Exp(sR, poses, 6 * b);
    projectRigid(out, 2 * n * b, pts3d, sharedPts3d ? 0 : 3 * n * b, n, sR, poses, 6 * b + 3, K, sharedK ? 0 : 9 * b);
  }
  return out;
}

/** Points [n,3] seen with a rotation matrix: [n,2] px = pi(K, R X_i + t), R [9] and K [9] row-major, t [3] in the points' unit. */
export function projectModelPoints(pts3d: Vec, R: Vec, t: Vec, K: Vec): Float64Array {
  const n = Math.floor(pts3d.length / 3);
  const out = new Float64Array(2 * n);
  projectRigid(out, 0, pts3d, 0, n, R, t, 0, K, 0);
  return out;
}
