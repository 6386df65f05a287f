/**
 * Levenberg-Marquardt refinement of the normalised pose (R, tn) (docs/pnp-maths.md, "Forward").
 *
 * Residual of point i: e_i = sqrt(w_i) (pi(K, R Xn_i + tn) - x_i) / fbar, fbar = (K00 + K11) / 2, so the
 * cost sum |e_i|^2 is the pixel objective f over fbar^2 and the damping and tolerances do not depend on
 * the focal length. Left-perturbation chart R <- exp([dr]x) R, tn <- tn + dt: the Jacobian of e_i is
 * sqrt(w_i)/fbar Dpi(Xc) [-[Y]x | I] with Y = R Xn_i, Xc = Y + tn; row k of Dpi [-[Y]x] is (Y x p_k)^T.
 * Normal equations (J^T J + lambda diag(J^T J)) delta = -J^T e by cholSolve6, lambda 1e-3, x10 on a rejected
 * step, /10 on an accepted one (Marquardt 1963; Nocedal & Wright 10.3).
 */
import { addOuterLower6, cholSolve6, mirrorLower6, type Vec } from './linalg';
import { so3LeftUpdate } from './so3';

export interface LmOptions {
  /** converged when |delta| < stepTol (1 + |tn|); f64 1e-12, f32 1e-6 */
  stepTol: number;
  /** converged when an accepted step lowers the cost by less than costTol times the cost; f64 1e-15, f32 1e-7 */
  costTol: number;
  /** not converged after this many iterations (accepted or rejected) */
  maxIters: number;
}

export const kLmDefaultsF64: Readonly<LmOptions> = { stepTol: 1e-12, costTol: 1e-15, maxIters: 100 };
export const kLmDefaultsF32: Readonly<LmOptions> = { stepTol: 1e-6, costTol: 1e-7, maxIters: 100 };
/** Initial damping. */
export const kLambdaInit = 1e-3;
/** LM gives up (not converged) when the damping passes this: no step lowers the cost. */
export const kLambdaMax = 1e32;

export interface LmResult {
  /** rotation model->camera, [9] row-major */
  R: Float64Array;
  /** normalised translation, [3] */
  tn: Float64Array;
  iterations: number;
  converged: boolean;
  /** final pixel objective f = sum w |pi - x|^2 (px^2) */
  cost: number;
}

export function createLmResult(): LmResult {
  return { R: new Float64Array(9), tn: new Float64Array(3), iterations: 0, converged: false, cost: NaN };
}

/** fbar = (K00 + K11) / 2, the residual scale (1 when K is not usable, so the cost stays defined). */
export function focalScale(K: Vec): number {
  const f = 0.5 * (K[0] + K[4]);
  return f > 0 && Number.isFinite(f) ? f : 1;
}

/**
 * Scaled cost sum_i w_i |pi(K, R Xn_i + tn) - x_i|^2 / fbar^2 over points with w > 0.
 * xn [n,3] normalised points, pts2d [n,2] px, w [n] or null.
 */
export function lmCost(K: Vec, R: Vec, tn: Vec, xn: Vec, pts2d: Vec, w: Vec | null, n: number, fbar: number): number {
  let cost = 0;
  const inv = 1 / fbar;
  for (let i = 0; i < n; i++) {
    const wi = w === null ? 1 : w[i];
    if (!(wi > 0)) continue;
    const X = xn[3 * i], Y = xn[3 * i + 1], Z = xn[3 * i + 2];
    const x = R[0] * X + R[1] * Y + R[2] * Z + tn[0];
    const y = R[3] * X + R[4] * Y + R[5] * Z + tn[1];
    const z = R[6] * X + R[7] * Y + R[8] * Z + tn[2];
    const ic3 = 1 / (K[6] * x + K[7] * y + K[8] * z);
    const e0 = ((K[0] * x + K[1] * y + K[2] * z) * ic3 - pts2d[2 * i]) * inv;
    const e1 = ((K[3] * x + K[4] * y + K[5] * z) * ic3 - pts2d[2 * i + 1]) * inv;
    cost += wi * (e0 * e0 + e1 * e1);
  }
  return cost;
}


/**
 * Gauss-Newton normal equations at (R, tn): A [36] = J^T J, g [6] = J^T e (overwritten). Returns the
 * scaled cost sum |e_i|^2.
 */
export function lmNormalEquations(
  A: Float64Array,
  g: Float64Array,
  K: Vec,
  R: Vec,
  tn: Vec,
  xn: Vec,
  pts2d: Vec,
  w: Vec | null,
  n: number,
  fbar: number,
): number {
  // J^T J row by row (addOuterLower6) and J^T e in scalars: the loops over a row array that this replaces were
  // most of the forward's LM time.
  A.fill(0);
  let g0 = 0, g1 = 0, g2 = 0, g3 = 0, g4 = 0, g5 = 0;
  let cost = 0;
  const inv = 1 / fbar;
  const r0 = R[0], r1 = R[1], r2 = R[2], r3 = R[3], r4 = R[4], r5 = R[5], r6 = R[6], r7 = R[7], r8 = R[8];
  const k0 = K[0], k1 = K[1], k2 = K[2], k3 = K[3], k4 = K[4], k5 = K[5], k6 = K[6], k7 = K[7], k8 = K[8];
  for (let i = 0; i < n; i++) {
    const wi = w === null ? 1 : w[i];
    if (!(wi > 0)) continue;
    const sw = Math.sqrt(wi) * inv;
    const X0 = xn[3 * i], X1 = xn[3 * i + 1], X2 = xn[3 * i + 2];
    const y0 = r0 * X0 + r1 * X1 + r2 * X2, y1 = r3 * X0 + r4 * X1 + r5 * X2, y2 = r6 * X0 + r7 * X1 + r8 * X2;
    const x = y0 + tn[0], y = y1 + tn[1], z = y2 + tn[2];
    const ic3 = 1 / (k6 * x + k7 * y + k8 * z);
    for (let k = 0; k < 2; k++) {
      const ka = k === 0 ? k0 : k3, kb = k === 0 ? k1 : k4, kc = k === 0 ? k2 : k5;
      const pik = (ka * x + kb * y + kc * z) * ic3;
      // p_k = (Kk - pi_k K2) / c3, scaled by sqrt(w)/fbar; the row of J is [(Y x p)^T, p^T].
      const p0 = (ka - pik * k6) * ic3 * sw;
      const p1 = (kb - pik * k7) * ic3 * sw;
      const p2 = (kc - pik * k8) * ic3 * sw;
      const j0 = y1 * p2 - y2 * p1, j1 = y2 * p0 - y0 * p2, j2 = y0 * p1 - y1 * p0;
      const e = (pik - pts2d[2 * i + k]) * sw;
      cost += e * e;
      g0 += j0 * e; g1 += j1 * e; g2 += j2 * e; g3 += p0 * e; g4 += p1 * e; g5 += p2 * e;
      addOuterLower6(A, j0, j1, j2, p0, p1, p2);
    }
  }
  mirrorLower6(A);
  g[0] = g0; g[1] = g1; g[2] = g2; g[3] = g3; g[4] = g4; g[5] = g5;
  return cost;
}

const sAinvG = new Float64Array(6);

function dot6(a: Float64Array, b: Float64Array): number {
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2] + a[3] * b[3] + a[4] * b[4] + a[5] * b[5];
}

/** The decrease of the quadratic model m(d) = |e|^2 + 2 g.d + d^T A d predicts for step d: -(2 g.d + d^T A d). */
export function modelDecrease(A: Float64Array, g: Float64Array, d: Float64Array): number {
  let gd = 0, dAd = 0;
  for (let a = 0; a < 6; a++) {
    gd += g[a] * d[a];
    let r = 0;
    for (let b = 0; b < 6; b++) r += A[6 * a + b] * d[b];
    dAd += d[a] * r;
  }
  return -(2 * gd + dAd);
}

const sA = new Float64Array(36);
const sG = new Float64Array(6);
const sM = new Float64Array(36);
const sDelta = new Float64Array(6);
const sR = new Float64Array(9);
const sTn = new Float64Array(3);
const sRc = new Float64Array(9);
const sTc = new Float64Array(3);

/**
 * One PnP problem as LM and its multi-start see it: xn [n,3] the normalised 3D points (solver/normalize),
 * pts2d [n,2] px, K [9] row-major, w [n] weights or null (every point 1), n points.
 */
export interface LmProblem {
  xn: Vec;
  pts2d: Vec;
  K: Vec;
  w: Vec | null;
  n: number;
}

/**
 * Refines (R0, tn0) on one problem. Writes out.R, out.tn (the last accepted iterate), iterations, converged
 * and the pixel cost; returns out. R0/tn0 may alias out.R/out.tn.
 */
export function lmRefine(out: LmResult, problem: LmProblem, R0: Vec, tn0: Vec, options: Partial<LmOptions> = {}): LmResult {
  const { xn, pts2d, K, w, n } = problem;
  const stepTol = options.stepTol ?? kLmDefaultsF64.stepTol;
  const costTol = options.costTol ?? kLmDefaultsF64.costTol;
  const maxIters = options.maxIters ?? kLmDefaultsF64.maxIters;
  const fbar = focalScale(K);
  for (let j = 0; j < 9; j++) sR[j] = R0[j];
  for (let j = 0; j < 3; j++) sTn[j] = tn0[j];
  let cost = lmNormalEquations(sA, sG, K, sR, sTn, xn, pts2d, w, n, fbar);
  let lambda = kLambdaInit;
  let iters = 0;
  let converged = false;
  while (iters < maxIters) {
    iters++;
    for (let j = 0; j < 36; j++) sM[j] = sA[j];
    for (let j = 0; j < 6; j++) {
      sM[7 * j] += lambda * sA[7 * j];
      sDelta[j] = -sG[j];
    }
    if (!cholSolve6(sDelta, sM, sDelta)) {
      lambda *= 10;
      if (lambda > kLambdaMax) break;
      continue;
    }
    // No step the cost can tell apart is left: the Gauss-Newton model's decrease is below costTol of the
    // cost (checked undamped, since damping alone also shrinks the model's decrease).
    // (The undamped step -A^-1 g lowers the model by g . A^-1 g.)
    if (modelDecrease(sA, sG, sDelta) <= costTol * cost && cholSolve6(sAinvG, sA, sG) && dot6(sG, sAinvG) <= costTol * cost) {
      converged = true;
      break;
    }
    const stepNorm = Math.hypot(sDelta[0], sDelta[1], sDelta[2], sDelta[3], sDelta[4], sDelta[5]);
    const small = stepNorm < stepTol * (1 + Math.hypot(sTn[0], sTn[1], sTn[2]));
    so3LeftUpdate(sRc, sDelta, sR);
    sTc[0] = sTn[0] + sDelta[3]; sTc[1] = sTn[1] + sDelta[4]; sTc[2] = sTn[2] + sDelta[5];
    const newCost = lmCost(K, sRc, sTc, xn, pts2d, w, n, fbar);
    if (newCost < cost) {
      const tinyDecrease = cost - newCost <= costTol * cost;
      sR.set(sRc);
      sTn.set(sTc);
      lambda /= 10;
      cost = lmNormalEquations(sA, sG, K, sR, sTn, xn, pts2d, w, n, fbar);
      if (small || tinyDecrease) { converged = true; break; }
    } else {
      // A rejected step below stepTol: the iterate is already optimal to the tolerance.
      if (small) { converged = true; break; }
      lambda *= 10;
      if (lambda > kLambdaMax) break;
    }
  }
  out.R.set(sR);
  out.tn.set(sTn);
  out.iterations = iters;
  out.converged = converged;
  out.cost = cost * fbar * fbar;
  return out;
}
