/**
 * Backward pass of the PnP layer by implicit differentiation (docs/pnp-maths.md, "Backward"; Gould et al.
 * 2016, BPnP Chen et al. CVPR 2020 eq. 7), with the EXACT Hessian of the pixel objective
 * f = sum_i w_i |pi(K, R X_i + t) - x_i|^2 (Gauss-Newton term plus residual times second derivatives).
 *
 * Everything is taken in the local chart xi = (xi_r, xi_t) at the optimum: R = exp([xi_r]x) R*,
 * tn = tn* + xi_t (normalised frame, Xc / s = R Xn + tn). With g = dL/dxi (upstreamToChart), H = d2f/dxi2
 * (accumulateHessian) and v = H^-1 g, every input z gets dL/dz = -v^T d(df/dxi)/dz = -2 sum_i w_i
 * d/dz (rho_i^T Dpi_i dXc_i) with dXc_i = w_ x Y_i + vt (pointGradients).
 */
import { addOuterLower6, cholSolve6, mat3Apply, type Vec } from './linalg';
import { normalizePoints } from './normalize';
import { so3Exp, so3LeftJacobianInv } from './so3';

const sJli = new Float64Array(9);

/**
 * Step 1. out [6] = dL/dxi from gradPose [6] = (a = dL/dr, b = dL/dt) read at gradPose[off..off+6]:
 * g_r = Jl(r)^-T a - [R c]x b, g_t = s b. r [3] the pose's axis-angle, R [9] = exp(r), c [3], s the
 * normalisation. (dr/dxi_r = Jl(r)^-1 for a left perturbation; t = s tn - R c gives dt/dxi_r = [R c]x.)
 */
export function upstreamToChart(out: Float64Array, gradPose: Vec, r: Vec, R: Vec, c: Vec, s: number, off = 0): Float64Array {
  so3LeftJacobianInv(sJli, r);
  const a0 = gradPose[off], a1 = gradPose[off + 1], a2 = gradPose[off + 2];
  const b0 = gradPose[off + 3], b1 = gradPose[off + 4], b2 = gradPose[off + 5];
  const rc0 = R[0] * c[0] + R[1] * c[1] + R[2] * c[2];
  const rc1 = R[3] * c[0] + R[4] * c[1] + R[5] * c[2];
  const rc2 = R[6] * c[0] + R[7] * c[1] + R[8] * c[2];
  // Jl^-T a, minus (R c) x b.
  out[0] = sJli[0] * a0 + sJli[3] * a1 + sJli[6] * a2 - (rc1 * b2 - rc2 * b1);
  out[1] = sJli[1] * a0 + sJli[4] * a1 + sJli[7] * a2 - (rc2 * b0 - rc0 * b2);
  out[2] = sJli[2] * a0 + sJli[5] * a1 + sJli[8] * a2 - (rc0 * b1 - rc1 * b0);
  out[3] = s * b0; out[4] = s * b1; out[5] = s * b2;
  return out;
}

const sGn = new Float64Array(36);
const sY = new Float64Array(3);
const sXc = new Float64Array(3);
const sDxc = new Float64Array(3);

/**
 * Step 2. Adds point i's term of the exact chart Hessian to H [36] (row-major, full):
 * H += 2 w ( J^T J + sum_k rho_k ( Jx^T Hpi_k Jx + S(p_k, Y) ) ), J = Dpi Jx, Jx = [-[Y]x | I],
 * Y = R Xn_i, Xc = Y + tn, rho = pi(K, Xc) - x_i (px), S(p, Y)_ab = (p_a Y_b + p_b Y_a)/2 - (p.Y) delta_ab
 * in the rotation block only (the second derivative of exp([xi_r]x) Y). xn [n,3], pts2d [n,2]; w the
 * point's weight (the caller skips w <= 0). Returns H.
 * In scalars: row k of J is [Y x p_k, p_k]; with A = -[Y]x and M = sum_k rho_k Hpi_k (symmetric),
 * Jx^T M Jx = [[A^T M A, A^T M], [M A, M]].
 */
export function accumulateHessian(H: Float64Array, K: Vec, R: Vec, tn: Vec, xn: Vec, pts2d: Vec, i: number, w: number): Float64Array {
  const X0 = xn[3 * i], X1 = xn[3 * i + 1], X2 = xn[3 * i + 2];
  const y0 = R[0] * X0 + R[1] * X1 + R[2] * X2, y1 = R[3] * X0 + R[4] * X1 + R[5] * X2, y2 = R[6] * X0 + R[7] * X1 + R[8] * X2;
  const xc0 = y0 + tn[0], xc1 = y1 + tn[1], xc2 = y2 + tn[2];
  const k6 = K[6], k7 = K[7], k8 = K[8];
  const ic3 = 1 / (k6 * xc0 + k7 * xc1 + k8 * xc2);
  const G = sGn; // this point's J^T J, lower triangle
  G.fill(0);
  let m00 = 0, m01 = 0, m02 = 0, m11 = 0, m12 = 0, m22 = 0;
  let P0 = 0, P1 = 0, P2 = 0; // P = sum_k rho_k p_k = Dpi^T rho
  for (let k = 0; k < 2; k++) {
    const ka = K[3 * k], kb = K[3 * k + 1], kc = K[3 * k + 2];
    const pik = (ka * xc0 + kb * xc1 + kc * xc2) * ic3;
    const rho = pik - pts2d[2 * i + k];
    const p0 = (ka - pik * k6) * ic3;
    const p1 = (kb - pik * k7) * ic3;
    const p2 = (kc - pik * k8) * ic3;
    P0 += rho * p0; P1 += rho * p1; P2 += rho * p2;
    const j0 = y1 * p2 - y2 * p1, j1 = y2 * p0 - y0 * p2, j2 = y0 * p1 - y1 * p0;
    addOuterLower6(G, j0, j1, j2, p0, p1, p2);
    // rho_k Hpi_k, Hpi_k = -(K2 p^T + p K2^T) / c3.
    const f = rho * ic3;
    m00 -= f * 2 * k6 * p0; m01 -= f * (k6 * p1 + p0 * k7); m02 -= f * (k6 * p2 + p0 * k8);
    m11 -= f * 2 * k7 * p1; m12 -= f * (k7 * p2 + p1 * k8); m22 -= f * 2 * k8 * p2;
  }
  // T = M A, A = -[Y]x = [[0, y2, -y1], [-y2, 0, y0], [y1, -y0, 0]].
  const t00 = -m01 * y2 + m02 * y1, t01 = m00 * y2 - m02 * y0, t02 = -m00 * y1 + m01 * y0;
  const t10 = -m11 * y2 + m12 * y1, t11 = m01 * y2 - m12 * y0, t12 = -m01 * y1 + m11 * y0;
  const t20 = -m12 * y2 + m22 * y1, t21 = m02 * y2 - m22 * y0, t22 = -m02 * y1 + m12 * y0;
  // A^T T (symmetric), plus S(P, Y) = (P Y^T + Y P^T) / 2 - (P.Y) I.
  const pdy = P0 * y0 + P1 * y1 + P2 * y2;
  const r00 = -y2 * t10 + y1 * t20 + P0 * y0 - pdy;
  const r10 = y2 * t00 - y0 * t20 + 0.5 * (P1 * y0 + P0 * y1);
  const r11 = y2 * t01 - y0 * t21 + P1 * y1 - pdy;
  const r20 = -y1 * t00 + y0 * t10 + 0.5 * (P2 * y0 + P0 * y2);
  const r21 = -y1 * t01 + y0 * t11 + 0.5 * (P2 * y1 + P1 * y2);
  const r22 = -y1 * t02 + y0 * t12 + P2 * y2 - pdy;
  const w2 = 2 * w;
  // Rows 0-2: rotation; rows 3-5: translation. Block (rotation a, translation b) = (A^T M)_ab = T_ba.
  const e00 = w2 * (G[0] + r00), e10 = w2 * (G[6] + r10), e11 = w2 * (G[7] + r11), e20 = w2 * (G[12] + r20), e21 = w2 * (G[13] + r21), e22 = w2 * (G[14] + r22);
  const e30 = w2 * (G[18] + t00), e31 = w2 * (G[19] + t01), e32 = w2 * (G[20] + t02);
  const e40 = w2 * (G[24] + t10), e41 = w2 * (G[25] + t11), e42 = w2 * (G[26] + t12);
  const e50 = w2 * (G[30] + t20), e51 = w2 * (G[31] + t21), e52 = w2 * (G[32] + t22);
  const e33 = w2 * (G[21] + m00), e43 = w2 * (G[27] + m01), e44 = w2 * (G[28] + m11), e53 = w2 * (G[33] + m02), e54 = w2 * (G[34] + m12), e55 = w2 * (G[35] + m22);
  H[0] += e00; H[1] += e10; H[2] += e20; H[3] += e30; H[4] += e40; H[5] += e50;
  H[6] += e10; H[7] += e11; H[8] += e21; H[9] += e31; H[10] += e41; H[11] += e51;
  H[12] += e20; H[13] += e21; H[14] += e22; H[15] += e32; H[16] += e42; H[17] += e52;
  H[18] += e30; H[19] += e31; H[20] += e32; H[21] += e33; H[22] += e43; H[23] += e53;
  H[24] += e40; H[25] += e41; H[26] += e42; H[27] += e43; H[28] += e44; H[29] += e54;
  H[30] += e50; H[31] += e51; H[32] += e52; H[33] += e53; H[34] += e54; H[35] += e55;
  return H;
}

/** Layout of pointGradients' out: [dL/dx (2), dL/dX (3), dL/dw (1), dL/dK (9)]. */
export const kPointGradLength = 15;

/**
 * Step 4 for point i. out [15] = [dL/dx_i (2), dL/dX_i (3), dL/dw_i, dL/dK term of this point (9)] from
 * v [6] = H^-1 g = (w_, vt), with Y = R Xn_i, Xc = Y + tn, rho = pi - x_i, dXc = w_ x Y + vt, q = Dpi dXc:
 * dL/dx = 2 w q; dL/dw = -2 rho.q;
 * dL/dX = -(2 w / s) R^T (Dpi^T q + sum_k rho_k Hpi_k dXc - w_ x (Dpi^T rho));
 * dL/dK = -2 w sum_k (q_k dpi_k/dK + rho_k dq_k/dK) (formulas in the doc; invariant to the scale of Xc).
 * w is the point's weight (pass 0 for a point that does not exist: only dL/dw is then non-zero).
 */
export function pointGradients(out: Float64Array, K: Vec, R: Vec, s: number, tn: Vec, v: Vec, xn: Vec, pts2d: Vec, i: number, w: number): Float64Array {
  const Yv = mat3Apply(sY, R, xn, 3 * i);
  const y0 = Yv[0], y1 = Yv[1], y2 = Yv[2];
  const xc = sXc;
  xc[0] = y0 + tn[0]; xc[1] = y1 + tn[1]; xc[2] = y2 + tn[2];
  const w0 = v[0], w1 = v[1], w2 = v[2];
  // dXc = w_ x Y + vt.
  const dxc = sDxc;
  dxc[0] = w1 * y2 - w2 * y1 + v[3]; dxc[1] = w2 * y0 - w0 * y2 + v[4]; dxc[2] = w0 * y1 - w1 * y0 + v[5];
  const c3 = K[6] * xc[0] + K[7] * xc[1] + K[8] * xc[2];
  const ic3 = 1 / c3;
  const kd = K[6] * dxc[0] + K[7] * dxc[1] + K[8] * dxc[2];
  let u0 = 0, u1 = 0, u2 = 0; // Dpi^T q + sum_k rho_k Hpi_k dXc
  let P0 = 0, P1 = 0, P2 = 0; // Dpi^T rho
  let rq = 0;
  for (let j = 0; j < 9; j++) out[6 + j] = 0;
  const wm2 = -2 * w;
  for (let k = 0; k < 2; k++) {
    const pik = (K[3 * k] * xc[0] + K[3 * k + 1] * xc[1] + K[3 * k + 2] * xc[2]) * ic3;
    const rho = pik - pts2d[2 * i + k];
    const p0 = (K[3 * k] - pik * K[6]) * ic3;
    const p1 = (K[3 * k + 1] - pik * K[7]) * ic3;
    const p2 = (K[3 * k + 2] - pik * K[8]) * ic3;
    const q = p0 * dxc[0] + p1 * dxc[1] + p2 * dxc[2];
    out[k] = 2 * w * q;
    rq += rho * q;
    P0 += rho * p0; P1 += rho * p1; P2 += rho * p2;
    // Hpi_k dXc = -(K2 (p.dXc) + p (K2.dXc)) / c3 = -(K2 q + p kd) / c3.
    u0 += q * p0 - rho * (K[6] * q + p0 * kd) * ic3;
    u1 += q * p1 - rho * (K[7] * q + p1 * kd) * ic3;
    u2 += q * p2 - rho * (K[8] * q + p2 * kd) * ic3;
    for (let j = 0; j < 3; j++) {
      const dpiRow = xc[j] * ic3; // d pi_k / d K[k][j]
      const dqRow = (dxc[j] - xc[j] * kd * ic3) * ic3; // d q_k / d K[k][j]
      const dpi2 = -pik * xc[j] * ic3; // d pi_k / d K[2][j]
      const dq2 = (pik * xc[j] * kd * ic3 - pik * dxc[j] - q * xc[j]) * ic3; // d q_k / d K[2][j]
      out[6 + 3 * k + j] += wm2 * (q * dpiRow + rho * dqRow);
      out[12 + j] += wm2 * (q * dpi2 + rho * dq2);
    }
  }
  out[5] = -2 * rq;
  // u -= w_ x P.
  u0 -= w1 * P2 - w2 * P1;
  u1 -= w2 * P0 - w0 * P2;
  u2 -= w0 * P1 - w1 * P0;
  const f = wm2 / s;
  out[2] = f * (R[0] * u0 + R[3] * u1 + R[6] * u2);
  out[3] = f * (R[1] * u0 + R[4] * u1 + R[7] * u2);
  out[4] = f * (R[2] * u0 + R[5] * u1 + R[8] * u2);
  return out;
}

/** Outputs of pnpBackwardOne for one problem (written, not accumulated). */
export interface PnpGradOne {
  /** dL/dx [n,2] */
  gradPts2d: Float64Array;
  /** dL/dX [n,3] */
  gradPts3d: Float64Array;
  /** dL/dK [9] row-major */
  gradK: Float64Array;
  /** dL/dw [n] (one-sided at w = 0) */
  gradWeights: Float64Array;
}

let sXn = new Float64Array(0);
const sCs = new Float64Array(4);
const sR = new Float64Array(9);
const sTn = new Float64Array(3);
const sG = new Float64Array(6);
const sH = new Float64Array(36);
const sV = new Float64Array(6);
const sPt = new Float64Array(kPointGradLength);

/**
 * Backward of one CONVERGED problem: pts2d [n,2] px, pts3d [n,3], K [9], w [n] or null, pose [6] = the
 * solver's optimum (r, t), gradPose [6] = dL/dpose. Writes every field of out (zero first) and returns
 * true, or returns false with all gradients zero when H is not positive definite.
 * Points with w <= 0 get zero gradients except dL/dw, the one-sided derivative as w rises from 0 (zero when
 * the point is not finite or not in front of the camera).
 */
export function pnpBackwardOne(
  out: PnpGradOne,
  pts2d: Vec,
  pts3d: Vec,
  K: Vec,
  w: Vec | null,
  n: number,
  pose: Vec,
  gradPose: Vec,
): boolean {
  out.gradPts2d.fill(0, 0, 2 * n);
  out.gradPts3d.fill(0, 0, 3 * n);
  out.gradK.fill(0, 0, 9);
  out.gradWeights.fill(0, 0, n);
  if (sXn.length < 3 * n) sXn = new Float64Array(3 * n);
  normalizePoints(sXn, sCs, pts3d, w, n);
  const s = sCs[3];
  so3Exp(sR, pose);
  // tn = (R c + t) / s.
  for (let a = 0; a < 3; a++) {
    sTn[a] = (sR[3 * a] * sCs[0] + sR[3 * a + 1] * sCs[1] + sR[3 * a + 2] * sCs[2] + pose[3 + a]) / s;
  }
  upstreamToChart(sG, gradPose, pose, sR, sCs, s);
  sH.fill(0);
  for (let i = 0; i < n; i++) {
    const wi = w === null ? 1 : w[i];
    if (wi > 0) accumulateHessian(sH, K, sR, sTn, sXn, pts2d, i, wi);
  }
  if (!cholSolve6(sV, sH, sG)) return false;
  for (let i = 0; i < n; i++) {
    const wi = w === null ? 1 : w[i];
    if (wi > 0) {
      pointGradients(sPt, K, sR, s, sTn, sV, sXn, pts2d, i, wi);
      for (let j = 0; j < 2; j++) out.gradPts2d[2 * i + j] = sPt[j];
      for (let j = 0; j < 3; j++) out.gradPts3d[3 * i + j] = sPt[2 + j];
      out.gradWeights[i] = sPt[5];
      for (let j = 0; j < 9; j++) out.gradK[j] += sPt[6 + j];
    } else {
      pointGradients(sPt, K, sR, s, sTn, sV, sXn, pts2d, i, 0);
      const zc = sR[6] * sXn[3 * i] + sR[7] * sXn[3 * i + 1] + sR[8] * sXn[3 * i + 2] + sTn[2];
      out.gradWeights[i] = zc > 0 && Number.isFinite(sPt[5]) ? sPt[5] : 0;
    }
  }
  return true;
}
