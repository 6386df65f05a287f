/**
 * Multi-start LM for few points (docs/pnp-maths.md, "Forward: multi-start for few points"): which starts,
 * when the EPnP start is in doubt, and which result wins. float64; the same rules in pnpForward.wgsl.
 */
import type { Vec } from './linalg';
import { createLmResult, kLmDefaultsF64, lmRefine, type LmOptions, type LmProblem, type LmResult } from './lm';

// Module-level scratch (no allocation per call beyond the result).
const lmTry = createLmResult();
const sG = new Float64Array(9);
const bRk = new Float64Array(9);

/**
 * Multi-start LM (docs/pnp-maths.md, "Forward: multi-start for few points"). With few points and pixel
 * noise the reprojection error has several local minima whose costs lie far apart (P4P to P6P: e.g.
 * 158.8 against 9.54 px^2 on one problem), and which basin the EPnP pose falls in can be decided by
 * rounding, so float32 and float64 returned different poses. The op promises the least-squares pose, the
 * global minimum. So up to kMultiStartMaxPoints points (with w > 0), LM runs from kMultiStartCount starts
 * R_k = G_k R0, tn0, G_k the rotations about the camera's x, y and z axes by multiples of pi/2 (identity
 * first): in the normalised frame the 3D centroid is the origin, so every start keeps tn0 and the
 * projected centroid of the EPnP pose and only turns the object about it. Each start gets
 * kMultiStartScreenIters LM iterations; the best of them is then refined to convergence.
 * Measured in float64 on 3,200 LINEMOD-like problems (n = 4 to 9, 0-3 px noise) against the lowest cost
 * among 200 random starts: EPnP alone reaches it on 97.4%, these 10 starts screened for 8 iterations on
 * 99.97%, the same as all 24 rotations of the octahedral group run to convergence. Above 9 points the
 * EPnP start alone costs least and rarely misses (see the doc).
 */
export const kMultiStartMaxPoints = 9;
/** Starts of the multi-start: the rows of kMultiStartRotations. */
export const kMultiStartCount = 10;
/** LM iterations of each start before the best one is refined to convergence. */
export const kMultiStartScreenIters = 8;
/**
 * A later start replaces the kept one only when its cost is lower by more than this fraction, so that
 * float32 and float64 pick the same start when two costs agree to within float32 resolution.
 */
export const kMultiStartCostMargin = 1e-4;
/**
 * The multi-start runs only where the pose from EPnP is in doubt: LM from the EPnP pose runs to convergence
 * first, and its result stands when it converged with every point in front of the camera and its pixel
 * cost is what noise of kMultiStartDoubtPx px per coordinate explains: cost <= kMultiStartDoubtPx^2 *
 * max(1, 2 m - 6) * (sum w / m) (m points with w > 0; 2 m - 6 degrees of freedom; weights scale the cost).
 * The wrong minima seen (158.8, 92.1, 17.4 px^2 against 9.54, 1.38, 1.10) lie far above that; with less
 * noise than this a problem pays for one LM, as for many points. Measured: docs/pnp-maths.md.
 */
export const kMultiStartDoubtPx = 1.5;
/**
 * Flat point sets are always in doubt: a planar target has two minima of nearly equal cost (the pose and
 * its reflection about the plane, Schweighofer & Pinz 2006), both within what noise explains, and the
 * cost test cannot tell which is lower. Flat: smallest over largest eigenvalue of the normalised
 * covariance below this (a box 100 mm across and 10 mm deep is at 0.01).
 */
export const kMultiStartFlatRatio = 1e-2;

/** The pixel cost up to which the result of the EPnP start stands without screening the other starts. */
export function multiStartDoubtCost(w: Vec | null, n: number): number {
  let m = 0, sw = 0;
  for (let i = 0; i < n; i++) {
    const wi = w === null ? 1 : w[i];
    if (!(wi > 0)) continue;
    m++;
    sw += wi;
  }
  return kMultiStartDoubtPx * kMultiStartDoubtPx * Math.max(1, 2 * m - 6) * (sw / m);
}

/**
 * G_k as signed permutations, one code per row: row r of G_k is sign(c) e_(|c|-1)^T. The identity; pi
 * about the camera x, y, z axes; +pi/2 and -pi/2 about x, y, z. Same table in pnpForward.wgsl.
 */
export const kMultiStartRotations: readonly (readonly [number, number, number])[] = [
  [1, 2, 3],
  [1, -2, -3], [-1, 2, -3], [-1, -2, 3],
  [1, -3, 2], [1, 3, -2], [3, 2, -1], [-3, 2, 1], [-2, 1, 3], [2, -1, 3],
];

/** out = G_k R0 (row-major 3x3): row r of out is sign(c) times row |c| - 1 of R0, c = kMultiStartRotations[k][r]. out may alias R0. */
export function multiStartRotation(out: Float64Array, k: number, R0: Vec): Float64Array {
  const rows = kMultiStartRotations[k];
  for (let r = 0; r < 3; r++) {
    const c = rows[r];
    const src = 3 * (Math.abs(c) - 1);
    const sg = c > 0 ? 1 : -1;
    sG[3 * r] = sg * R0[src];
    sG[3 * r + 1] = sg * R0[src + 1];
    sG[3 * r + 2] = sg * R0[src + 2];
  }
  out.set(sG);
  return out;
}

/** True when every point with w > 0 is in front of the camera at (R, tn): (R Xn_i + tn).z > 0. */
export function inFrontOfCamera(R: Vec, tn: Vec, xn: Vec, w: Vec | null, n: number): boolean {
  for (let i = 0; i < n; i++) {
    if (w !== null && !(w[i] > 0)) continue;
    const z = R[6] * xn[3 * i] + R[7] * xn[3 * i + 1] + R[8] * xn[3 * i + 2] + tn[2];
    if (!(z > 0)) return false;
  }
  return true;
}

/** Points with w > 0 (all n when w is null). */
export function effectivePoints(w: Vec | null, n: number): number {
  if (w === null) return n;
  let m = 0;
  for (let i = 0; i < n; i++) if (w[i] > 0) m++;
  return m;
}

const screenOptions: LmOptions = { ...kLmDefaultsF64 };
const bRBest = new Float64Array(9);
const bTnBest = new Float64Array(3);

/**
 * LM from the EPnP pose (R0, tn0) on `problem` into out. Above kMultiStartMaxPoints points with w > 0, plain lmRefine.
 * Otherwise LM from (R0, tn0) to convergence first; when that result is in doubt (not converged, a point
 * behind the camera, a cost above multiStartDoubtCost, or flat points: flatness, the smallest over the
 * largest covariance eigenvalue, below kMultiStartFlatRatio), each other start multiStartRotation(k, R0), tn0
 * (k >= 1) gets kMultiStartScreenIters LM iterations (fewer when options.maxIters is lower), and the best
 * screened iterate, when it beats the first result, is refined by a full lmRefine; the better of the two
 * full results is out's. Best: every point in front of the camera beats not (a behind-camera twin can
 * reproject as well: for planar points -Xc projects like Xc); then a later start wins only when its cost is
 * lower by more than kMultiStartCostMargin (relative); a non-finite cost ranks last.
 */
export function refineMultiStart(
  out: LmResult,
  problem: LmProblem,
  R0: Vec,
  tn0: Vec,
  options: Partial<LmOptions> = {},
  flatness = 0,
): LmResult {
  const { xn, w, n } = problem;
  lmRefine(out, problem, R0, tn0, options);
  if (effectivePoints(w, n) > kMultiStartMaxPoints) return out;
  let bestFront = inFrontOfCamera(out.R, out.tn, xn, w, n);
  if (out.converged && bestFront && out.cost <= multiStartDoubtCost(w, n) && !(flatness < kMultiStartFlatRatio)) return out;
  screenOptions.stepTol = options.stepTol ?? kLmDefaultsF64.stepTol;
  screenOptions.costTol = options.costTol ?? kLmDefaultsF64.costTol;
  screenOptions.maxIters = Math.min(kMultiStartScreenIters, options.maxIters ?? kLmDefaultsF64.maxIters);
  let bestCost = out.cost;
  let bestK = 0;
  for (let k = 1; k < kMultiStartCount; k++) {
    lmRefine(lmTry, problem, multiStartRotation(bRk, k, R0), tn0, screenOptions);
    const front = inFrontOfCamera(lmTry.R, lmTry.tn, xn, w, n);
    if (!multiStartBetter(front, lmTry.cost, bestFront, bestCost)) continue;
    bestK = k;
    bestFront = front;
    bestCost = lmTry.cost;
    bRBest.set(lmTry.R);
    bTnBest.set(lmTry.tn);
  }
  if (bestK === 0) return out;
  lmRefine(lmTry, problem, bRBest, bTnBest, options);
  const front0 = inFrontOfCamera(out.R, out.tn, xn, w, n);
  if (multiStartBetter(inFrontOfCamera(lmTry.R, lmTry.tn, xn, w, n), lmTry.cost, front0, out.cost)) copyLmResult(out, lmTry);
  return out;
}

/** Whether a result (front, cost) replaces the kept one (bestFront, bestCost) in refineMultiStart. */
export function multiStartBetter(front: boolean, cost: number, bestFront: boolean, bestCost: number): boolean {
  if (front !== bestFront) return front;
  return Number.isFinite(bestCost) ? cost < (1 - kMultiStartCostMargin) * bestCost : Number.isFinite(cost);
}

function copyLmResult(out: LmResult, from: LmResult): void {
  out.R.set(from.R);
  out.tn.set(from.tn);
  out.iterations = from.iterations;
  out.converged = from.converged;
  out.cost = from.cost;
}
