/**
 * EPnP initialiser (Lepetit, Moreno-Noguer, Fua, "EPnP: An Accurate O(n) Solution to the PnP Problem",
 * IJCV 2009) in the normalised frame of docs/pnp-maths.md, float64.
 *
 * Conventions: rotations are model->camera, 3x3 row-major (`R[3*row + col]`); a camera point is
 * `Xc / s = R xn + tn`. Image coordinates are normalised (`m = dehom(K^-1 [x, 1])`), so the camera is
 * the identity and the projection is `(X/Z, Y/Z)`.
 *
 * Outline (each step is a function with a snake_case twin in src/kernels/epnp.wgsl; steps 1-3 are in
 * epnpControlPoints.ts, 5-6 in epnpBetas.ts, 7-8 in epnpPose.ts, and this file runs them):
 *  1. `pointSpread` + `chooseControlPoints`: weighted centroid plus principal axes of the points, scaled
 *     by the square root of their variance. Four control points, or three in the plane when the smallest
 *     variance is below `kPlanarRatio` of the largest (the paper's planar case, Sec. 3.4); between
 *     `kNearPlanarRatio` and `kPlanarRatio` both are solved (`solveWithControlPoints`) and the better
 *     reprojection wins, since the planar solution of nearly planar points is only approximate.
 *  2. `computeAlphas`: barycentric coordinates of each point in the control points (sum to 1).
 *  3. `accumulateMoments` + `assembleMtM`: `M^T M` (12x12 or 9x9) streamed over the points. The 3x3 block
 *     (j, k) of `M^T M` is `sum_i w_i a_ij a_ik [[1, 0, -u], [0, 1, -v], [-u, -v, u^2 + v^2]]`, so four
 *     weighted moments of `a_j a_k` suffice: no per-point storage (the WGSL twin streams the points).
 *  4. `mtmNullSpace4` (general, from `kNullSpaceMinPoints` points): four orthonormal vectors spanning the
 *     null space of `M^T M` from 4x4 steps (the Schur complement on the control points' depths; the function
 *     and docs/pnp-maths.md give the derivation); else `tridiagonalQlEigenSym`: the `nc` smallest eigenvectors
 *     of `M^T M` (only those formed: QL's recorded rotations replayed on their unit vectors, then the
 *     reflectors). (The f32 twin takes those by `jacobi_eigen_sym`: QL's accuracy is absolute, eps |A|, and in
 *     f32 that lost the null space, where Jacobi's relative accuracy keeps it.)
 *  5. `computeL` / `computeRho`: the distance constraints between control points, linear in the
 *     products `b_i b_j` (paper eq. 13; OpenCV epnp.cpp compute_L_6x10 / compute_rho).
 *  6. Linearised betas, each refined by `gaussNewton` on all betas (paper Sec. 3.3, eq. 15). General:
 *     OpenCV's `findBetasApprox1/2/3` and the paper's N = 4 by relinearisation (`findBetasRelin`, which
 *     makes n = 4 exact without noise: there the null space is 4-dim and the approximations miss it).
 *     Planar: `findBetasN1` (N = 1), `findBetasApprox2` (N = 2), `findBetasApprox1` (N = 3, linear in b_0).
 *  7. `computeCcs`, `solveForSign`, `estimateRt`: camera control points, positive depth, then R, tn by
 *     absolute orientation (Horn 1987, unit quaternions: the top eigenvector of a 4x4 symmetric matrix).
 *     Because every point is the same affine combination of control points in both frames, the point
 *     cross-covariance is `sum_jk B_jk cw_j ccs_k^T` with `B` the weighted covariance of the alphas:
 *     fitting the control points with `B` equals fitting all the points (as OpenCV does), without them.
 *  8. `reprojectionError`: the candidate with the least weighted squared error in normalised coordinates.
 */
import {
  computeL, computeRho, findBetasApprox1, findBetasApprox2, findBetasApprox3, findBetasN1, findBetasRelin, gaussNewton, kGaussNewtonIters,
  kGaussNewtonItersQuick,
} from './epnpBetas';
import { accumulateMoments, assembleMtM, chooseControlPoints, mtmNullSpace4, pointSpread, type EpnpMoments } from './epnpControlPoints';
import { computeCcs, estimateRt, reprojectionError, solveForSign } from './epnpPose';
import { tridiagonalQlEigenSym } from './eigen';

export interface EpnpResult {
  ok: boolean;
  /** rotation model->camera, [9] row-major */
  R: Float64Array;
  /** normalised translation tn, [3] */
  t: Float64Array;
}

/** Planar when the smallest variance of the points is below this fraction of the largest (docs/pnp-maths.md). */
export const kPlanarRatio = 1e-4;
/**
 * Below kPlanarRatio but above this, the points are nearly planar: both the planar and the general
 * solution are tried and the one that reprojects better wins (the planar one ignores the points' small
 * offsets from their plane, the general one has large alphas). Exactly planar points fall below it.
 */
export const kNearPlanarRatio = 1e-7;
/** No pose when the second variance is below this fraction of the largest (collinear or coincident points). */
export const kDegenerateRatio = 1e-12;
/**
 * Relinearisation makes 4 points exact (a 4-dimensional null space, which approximations 1-3 miss); from
 * 6 points (with w > 0) the noise-free null space has one dimension and the linear approximations cover it.
 * From kRelinMinPoints to kMultiStartMaxPoints points, where a doubtful LM start is screened by the
 * multi-start anyway, the PnP forward (pnp.ts, and its WGSL twin) asks for OpenCV's EPnP instead of the
 * thorough one (`thorough` false): no relinearisation, whose 10x10 eigenproblem and 20x14 least squares took a
 * fifth of the forward pass and changed no final cost (0 of 12,000 problems of 6 to 9 points, 0.5 to 5 px
 * noise, planar or not), and kGaussNewtonItersQuick Gauss-Newton iterations instead of kGaussNewtonIters (a
 * sixth of the forward pass at n = 8; no final cost or status changed on 10,800 problems of 4 to 12 points,
 * docs/pnp-maths.md). Above kMultiStartMaxPoints nothing screens the start: without relinearisation LM
 * ended in a higher minimum on 17 of 10,500 problems of 10 to 12 points, and with 5 iterations on 21 of
 * 3,600 (20 of them planar); for 4 and 5 points, 5 iterations cost one of 1,200. The thorough EPnP stays there.
 */
export const kRelinMinPoints = 6;
/**
 * From this many points (w > 0) the general null space comes from mtmNullSpace4 (4x4 steps, the Schur
 * complement on the depths), below it from tridiagonalQlEigenSym on the 12x12: with 5 points the noise-free
 * null space has two dimensions, and the f32 twin's Schur complement resolved it less well than its 12x12
 * Jacobi (489 against 497 of 500 noise-free problems within 1e-3 of float64; from 6 points 500/500).
 */
export const kNullSpaceMinPoints = 6;

// Module-level scratch (no allocation per call beyond the result).
const sMtM = new Float64Array(144);
const sVal12 = new Float64Array(12);
const sVec12 = new Float64Array(144);
const sL = new Float64Array(60);
const sRho = new Float64Array(6);
const sBetas = new Float64Array(4);
const sCcs = new Float64Array(12);
const sR = new Float64Array(9);
const sT = new Float64Array(3);
const sMoments: EpnpMoments = {
  s1: new Float64Array(10),
  su: new Float64Array(10),
  sv: new Float64Array(10),
  suv: new Float64Array(10),
  alphaSum: new Float64Array(4),
  wSum: 0,
};

/** The candidate initialisations of the betas, tried in turn (the best by reprojection error wins). */
type BetaApprox = (L: ArrayLike<number>, rho: ArrayLike<number>, nc: number, betas: Float64Array) => Float64Array;
const kApproxNonPlanar: readonly BetaApprox[] = [findBetasApprox1, findBetasApprox2, findBetasApprox3, findBetasRelin];
const kApproxNonPlanarLinear: readonly BetaApprox[] = kApproxNonPlanar.slice(0, 3);
const kApproxPlanar: readonly BetaApprox[] = [findBetasN1, findBetasApprox2, findBetasApprox1];

const sCentroid = new Float64Array(3);
const sVars = new Float64Array(3);
const sAxes = new Float64Array(9);
const sCw = new Float64Array(12);
const sAlphaMap = new Float64Array(12);

/**
 * One EPnP solve with nc control points (4 general, 3 planar): every beta candidate, refined, turned into
 * a pose; the best pose by reprojection error is written to R, t when its error is below bestErr.
 * useNullSpace4 (nc = 4, kNullSpaceMinPoints points or more): the null space by mtmNullSpace4, else (and where
 * that fails) by the eigenvectors of M^T M. Returns the new best error.
 */
export function solveWithControlPoints(
  xn: ArrayLike<number>,
  m: ArrayLike<number>,
  w: ArrayLike<number> | null,
  n: number,
  nc: number,
  bestErr: number,
  R: Float64Array,
  t: Float64Array,
  thorough = true,
  useNullSpace4 = false,
): number {
  chooseControlPoints(sCentroid, sVars, sAxes, nc, sCw, sAlphaMap);
  const mom = accumulateMoments(xn, m, w, n, sAlphaMap, nc, sMoments);
  const d = 3 * nc;
  if (!useNullSpace4 || !mtmNullSpace4(mom, sVec12)) {
    assembleMtM(mom, nc, sMtM);
    // Only the nc smallest eigenvectors are read (computeL, computeCcs).
    tridiagonalQlEigenSym(sMtM.subarray(0, d * d), d, sVal12.subarray(0, d), sVec12.subarray(0, d * d), nc);
  }
  computeL(sVec12, nc, sL);
  computeRho(sCw, nc, sRho);
  for (const approx of nc === 4 ? (thorough ? kApproxNonPlanar : kApproxNonPlanarLinear) : kApproxPlanar) {
    approx(sL, sRho, nc, sBetas);
    gaussNewton(sL, sRho, nc, sBetas, thorough ? kGaussNewtonIters : kGaussNewtonItersQuick);
    computeCcs(sVec12, nc, sBetas, sCcs);
    solveForSign(sCcs, nc, mom.alphaSum);
    estimateRt(sCw, sCcs, nc, mom, sR, sT);
    const err = reprojectionError(xn, m, w, n, sR, sT);
    if (err < bestErr && sR.every(Number.isFinite) && sT.every(Number.isFinite)) {
      bestErr = err;
      R.set(sR);
      t.set(sT);
    }
  }
  return bestErr;
}

/**
 * xn [n,3] normalised 3D points, m [n,2] normalised image coordinates (K^-1 x), w [n] weights or null.
 * Returns the pose with Xc/s = R xn + tn that best reprojects, without any pose guess; planar or not.
 * ok is false only when no finite pose comes out (no weight, collinear or coincident points, non-finite
 * input); then R is the identity and t zero. thorough: the general case also tries the paper's N = 4 by
 * relinearisation (findBetasRelin) as the fourth candidate, and the betas get kGaussNewtonIters Gauss-Newton
 * iterations; else OpenCV's EPnP, approximations 1-3 and kGaussNewtonItersQuick iterations (kRelinMinPoints).
 */
export function epnpInit(xn: Float64Array, m: Float64Array, w: Float64Array | null, n: number, thorough = true): EpnpResult {
  if (xn.length < 3 * n) throw new Error(`epnpInit: xn must be [n,3] = [${n},3], got length ${xn.length}`);
  if (m.length < 2 * n) throw new Error(`epnpInit: m must be [n,2] = [${n},2], got length ${m.length}`);
  if (w && w.length < n) throw new Error(`epnpInit: w must be [n] = [${n}], got length ${w.length}`);
  const R = new Float64Array([1, 0, 0, 0, 1, 0, 0, 0, 1]);
  const t = new Float64Array(3);
  const fail: EpnpResult = { ok: false, R, t };
  const count = pointSpread(xn, w, n, sCentroid, sVars, sAxes);
  if (!(count > 0)) return fail;
  const vMax = sVars[2];
  if (!(vMax > 0) || !Number.isFinite(vMax) || !(sVars[1] > kDegenerateRatio * vMax)) return fail;
  const ratio = sVars[0] / vMax;
  let bestErr = Infinity;
  if (ratio < kPlanarRatio) bestErr = solveWithControlPoints(xn, m, w, n, 3, bestErr, R, t, thorough);
  if (ratio >= kNearPlanarRatio) bestErr = solveWithControlPoints(xn, m, w, n, 4, bestErr, R, t, thorough, count >= kNullSpaceMinPoints);
  if (!(bestErr < Infinity)) {
    R.set([1, 0, 0, 0, 1, 0, 0, 0, 1]);
    t.fill(0);
    return fail;
  }
  return { ok: true, R, t };
}
