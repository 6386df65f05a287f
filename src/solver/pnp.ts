/**
 * The batched PnP layer in float64: forward (solvePnpBatch) and implicit backward (pnpBackwardBatch), the
 * cpu backend's implementation and the reference the WGSL kernels are tested against (docs/pnp-maths.md).
 *
 * Pose convention: [rx, ry, rz, tx, ty, tz], axis-angle (OpenCV Rodrigues) and translation, model to
 * camera, Xc = R(r) X + t, t in the unit of pts3d (mm for datasets). K row-major, pts2d in pixels.
 * Per problem: checkProblem -> normalise -> EPnP -> LM (refineMultiStart: from several rotations of the
 * EPnP pose when there are few points), or LM from initPose -> pose, status.
 * Failed problems (status != Converged) get a finite pose (zeros for InvalidInput, TooFewPoints and
 * Degenerate; the last iterate for NotConverged and BehindCamera, zeros for NotConverged when EPnP
 * reports failure or LM ends non-finite) and zero gradients. A non-finite initPose is InvalidInput. A solved problem whose
 * input cannot resolve its own points' spread at inputEps (inputRoundingRatio) is IllConditioned.
 * K is used as K * cameraScale(K) (the same camera, kept inside the f32 range), dL/dK scaled alike.
 */
import { epnpInit } from './epnp';
import { allFinite, type Vec } from './linalg';
import { createLmResult, kLmDefaultsF64, lmRefine, type LmOptions, type LmResult } from './lm';
import { cameraScale, normalizedImagePoints, normalizePoints } from './normalize';
import { so3Exp, so3Log } from './so3';
import { checkProblem, inputRoundingRatio, kF64InputEps, kInputResolutionTol, PnpStatus } from './status';
import { pnpBackwardOne, type PnpGradOne } from './backward';

export type PnpOptions = Partial<LmOptions>;

export interface PnpBatchInput {
  /** [B,n,2] image points, px */
  pts2d: Vec;
  /** [n,3] model points when sharedPts3d, else [B,n,3] */
  pts3d: Vec;
  /** [9] row-major when sharedK, else [B,9] */
  K: Vec;
  /** [B,n] per-point weights >= 0 (all 1 when absent); w = 0 removes a point */
  weights?: Vec;
  /** [B,6] starting poses [r, t] for LM; EPnP initialises when absent */
  initPose?: Vec;
  B: number;
  n: number;
  sharedPts3d: boolean;
  sharedK: boolean;
  /** LM tolerances; float64 defaults (kLmDefaultsF64) */
  options?: PnpOptions;
  /** unit roundoff of the caller's input: kF64InputEps (default) for float64 data, kF32InputEps when the
   * values come from float32 tensors (the op's cpu backend); decides IllConditioned */
  inputEps?: number;
}

export interface PnpBatchOutput {
  /** [B,6] poses [r, t], finite for every problem */
  pose: Float64Array;
  /** [B] PnpStatus codes */
  status: Int32Array;
  /** [B] LM iterations (0 when the problem was rejected before LM) */
  iterations: Int32Array;
}

export interface PnpBackwardInput {
  pts2d: Vec;
  pts3d: Vec;
  K: Vec;
  weights?: Vec;
  B: number;
  n: number;
  sharedPts3d: boolean;
  sharedK: boolean;
  /** [B,6] the forward's poses */
  pose: Vec;
  /** [B] the forward's status: only Converged problems get gradients */
  status: ArrayLike<number>;
  /** [B,6] dL/dpose */
  gradPose: Vec;
}

export interface PnpBackwardOutput {
  /** [B,n,2] dL/dpts2d */
  gradPts2d: Float64Array;
  /** [n,3] summed over the batch when sharedPts3d, else [B,n,3] */
  gradPts3d: Float64Array;
  /** [9] summed over the batch when sharedK, else [B,9] */
  gradK: Float64Array;
  /** [B,n], only when weights were given */
  gradWeights?: Float64Array;
}

/** Throws, naming the argument and the shape, when a's length is not the expected one. */
function checkShape(name: string, a: Vec | undefined, expected: number, shape: string): void {
  if (a === undefined) throw new Error(`${name}: missing, expected ${shape} = ${expected} values`);
  if (a.length !== expected) throw new Error(`${name}: expected ${shape} = ${expected} values, got ${a.length}`);
}

function checkBatchShapes(inp: {
  pts2d: Vec; pts3d: Vec; K: Vec; weights?: Vec; B: number; n: number; sharedPts3d: boolean; sharedK: boolean;
}): void {
  const { B, n } = inp;
  if (!(Number.isInteger(B) && B >= 0)) throw new Error(`B: expected a non-negative integer, got ${B}`);
  if (!(Number.isInteger(n) && n >= 0)) throw new Error(`n: expected a non-negative integer, got ${n}`);
  checkShape('pts2d', inp.pts2d, B * n * 2, `(B, n, 2) = (${B}, ${n}, 2)`);
  if (inp.sharedPts3d) checkShape('pts3d', inp.pts3d, n * 3, `(n, 3) = (${n}, 3) (sharedPts3d)`);
  else checkShape('pts3d', inp.pts3d, B * n * 3, `(B, n, 3) = (${B}, ${n}, 3)`);
  if (inp.sharedK) checkShape('K', inp.K, 9, '(3, 3) (sharedK)');
  else checkShape('K', inp.K, B * 9, `(B, 3, 3) = (${B}, 3, 3)`);
  if (inp.weights !== undefined) checkShape('weights', inp.weights, B * n, `(B, n) = (${B}, ${n})`);
}

/** Per-problem float64 copies of the batch inputs (grown on demand, reused across calls). */
let bx = new Float64Array(0);
let bX = new Float64Array(0);
let bW = new Float64Array(0);
let bXn = new Float64Array(0);
let bM = new Float64Array(0);
const bK = new Float64Array(9);
const bCs = new Float64Array(4);
const bR = new Float64Array(9);
const bTn = new Float64Array(3);
const bR0 = new Float64Array(9);
const bTn0 = new Float64Array(3);
const bPose = new Float64Array(6);
const bSpread = new Float64Array(3);
const lmOut = createLmResult();
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
 * about the camera x, y, z axes; +pi/2 and -pi/2 about x, y, z. Same table in pnp_forward.wgsl.
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
 * LM from the EPnP pose (R0, tn0) into out. Above kMultiStartMaxPoints points with w > 0, plain lmRefine.
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
  xn: Vec,
  pts2d: Vec,
  K: Vec,
  w: Vec | null,
  n: number,
  R0: Vec,
  tn0: Vec,
  options: PnpOptions = {},
  flatness = 0,
): LmResult {
  lmRefine(out, xn, pts2d, K, w, n, R0, tn0, options);
  if (effectivePoints(w, n) > kMultiStartMaxPoints) return out;
  let bestFront = inFrontOfCamera(out.R, out.tn, xn, w, n);
  if (out.converged && bestFront && out.cost <= multiStartDoubtCost(w, n) && !(flatness < kMultiStartFlatRatio)) return out;
  screenOptions.stepTol = options.stepTol ?? kLmDefaultsF64.stepTol;
  screenOptions.costTol = options.costTol ?? kLmDefaultsF64.costTol;
  screenOptions.maxIters = Math.min(kMultiStartScreenIters, options.maxIters ?? kLmDefaultsF64.maxIters);
  let bestCost = out.cost;
  let bestK = 0;
  for (let k = 1; k < kMultiStartCount; k++) {
    lmRefine(lmTry, xn, pts2d, K, w, n, multiStartRotation(bRk, k, R0), tn0, screenOptions);
    const front = inFrontOfCamera(lmTry.R, lmTry.tn, xn, w, n);
    if (!multiStartBetter(front, lmTry.cost, bestFront, bestCost)) continue;
    bestK = k;
    bestFront = front;
    bestCost = lmTry.cost;
    bRBest.set(lmTry.R);
    bTnBest.set(lmTry.tn);
  }
  if (bestK === 0) return out;
  lmRefine(lmTry, xn, pts2d, K, w, n, bRBest, bTnBest, options);
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

function ensureScratch(n: number): void {
  if (bx.length < 2 * n) {
    bx = new Float64Array(2 * n);
    bX = new Float64Array(3 * n);
    bW = new Float64Array(n);
    bXn = new Float64Array(3 * n);
    bM = new Float64Array(2 * n);
  }
}

/** Copies problem b of the batch into bx, bX, bK, bW (bW only when weights are given), K times
 * cameraScale(K). Returns that scale. */
function loadProblem(
  inp: { pts2d: Vec; pts3d: Vec; K: Vec; weights?: Vec; n: number; sharedPts3d: boolean; sharedK: boolean },
  b: number,
): number {
  const { n } = inp;
  for (let j = 0; j < 2 * n; j++) bx[j] = inp.pts2d[2 * n * b + j];
  const po = inp.sharedPts3d ? 0 : 3 * n * b;
  for (let j = 0; j < 3 * n; j++) bX[j] = inp.pts3d[po + j];
  const ko = inp.sharedK ? 0 : 9 * b;
  for (let j = 0; j < 9; j++) bK[j] = inp.K[ko + j];
  const ks = cameraScale(bK);
  for (let j = 0; j < 9; j++) bK[j] *= ks;
  if (inp.weights !== undefined) for (let j = 0; j < n; j++) bW[j] = inp.weights[n * b + j];
  return ks;
}

/**
 * Solves B PnP problems: min over (r, t) of sum_i w_i |pi(K, R(r) X_i + t) - x_i|^2 (see PnpBatchInput for
 * the shapes). Every problem gets a finite pose and a PnpStatus. Throws only on malformed shapes.
 */
export function solvePnpBatch(inp: PnpBatchInput): PnpBatchOutput {
  checkBatchShapes(inp);
  const { B, n } = inp;
  if (inp.initPose !== undefined) checkShape('initPose', inp.initPose, B * 6, `(B, 6) = (${B}, 6)`);
  const pose = new Float64Array(B * 6);
  const status = new Int32Array(B);
  const iterations = new Int32Array(B);
  ensureScratch(n);
  const w = inp.weights === undefined ? null : bW;
  const inputEps = inp.inputEps ?? kF64InputEps;
  for (let b = 0; b < B; b++) {
    loadProblem(inp, b);
    const pre = checkProblem(bx, bX, bK, w, n, bSpread);
    if (pre >= 0) {
      status[b] = pre; // pose stays all-zero
      continue;
    }
    normalizePoints(bXn, bCs, bX, w, n);
    const s = bCs[3];
    if (inp.initPose !== undefined) {
      for (let j = 0; j < 6; j++) bPose[j] = inp.initPose[6 * b + j];
      if (!allFinite(bPose, 0, 6)) {
        status[b] = PnpStatus.InvalidInput; // pose stays all-zero
        continue;
      }
      so3Exp(bR0, bPose);
      for (let a = 0; a < 3; a++) {
        bTn0[a] = (bR0[3 * a] * bCs[0] + bR0[3 * a + 1] * bCs[1] + bR0[3 * a + 2] * bCs[2] + bPose[3 + a]) / s;
      }
      // A given start is the caller's choice of basin: LM from it alone.
      lmRefine(lmOut, bXn, bx, bK, w, n, bR0, bTn0, inp.options);
    } else {
      normalizedImagePoints(bM, bx, bK, n);
      // Points with w <= 0 do not exist: zero them so no NaN of theirs reaches the initialiser.
      if (w !== null) {
        for (let i = 0; i < n; i++) {
          if (w[i] > 0) continue;
          bXn[3 * i] = bXn[3 * i + 1] = bXn[3 * i + 2] = 0;
          bM[2 * i] = bM[2 * i + 1] = 0;
        }
      }
      const init = epnpInit(bXn.subarray(0, 3 * n), bM.subarray(0, 2 * n), w === null ? null : bW.subarray(0, n), n);
      if (!(init.ok && allFinite(init.R, 0, 9) && allFinite(init.t, 0, 3))) {
        status[b] = PnpStatus.NotConverged; // no iterate yet: pose stays all-zero
        continue;
      }
      refineMultiStart(lmOut, bXn, bx, bK, w, n, init.R, init.t, inp.options, bSpread[0] / bSpread[2]);
    }
    iterations[b] = lmOut.iterations;
    bR.set(lmOut.R);
    bTn.set(lmOut.tn);
    // r = log(R), t = s tn - R c.
    so3Log(bPose, bR);
    for (let a = 0; a < 3; a++) {
      bPose[3 + a] = s * bTn[a] - (bR[3 * a] * bCs[0] + bR[3 * a + 1] * bCs[1] + bR[3 * a + 2] * bCs[2]);
    }
    if (!allFinite(bPose, 0, 6)) {
      // LM only accepts steps that lower a finite cost, so this needs a start it cannot evaluate.
      status[b] = PnpStatus.NotConverged; // pose stays all-zero
      continue;
    }
    pose.set(bPose, 6 * b);
    const behind = !inFrontOfCamera(bR, bTn, bXn, w, n);
    status[b] = behind ? PnpStatus.BehindCamera : lmOut.converged ? PnpStatus.Converged : PnpStatus.NotConverged;
    // The rounding of the input, not the solver, then limits the pose: say so rather than "converged".
    if (inputEps * inputRoundingRatio(bx, bX, w, n) > kInputResolutionTol) status[b] = PnpStatus.IllConditioned;
  }
  return { pose, status, iterations };
}

let gOne: PnpGradOne = {
  gradPts2d: new Float64Array(0),
  gradPts3d: new Float64Array(0),
  gradK: new Float64Array(9),
  gradWeights: new Float64Array(0),
};

/**
 * Implicit backward of solvePnpBatch: from gradPose [B,6] = dL/dpose to the gradients of every input.
 * Problems whose status is not Converged, or whose Hessian is not positive definite, contribute zeros.
 */
export function pnpBackwardBatch(inp: PnpBackwardInput): PnpBackwardOutput {
  checkBatchShapes(inp);
  const { B, n } = inp;
  checkShape('pose', inp.pose, B * 6, `(B, 6) = (${B}, 6)`);
  checkShape('status', inp.status, B, `(B) = (${B})`);
  checkShape('gradPose', inp.gradPose, B * 6, `(B, 6) = (${B}, 6)`);
  const gradPts2d = new Float64Array(B * n * 2);
  const gradPts3d = new Float64Array(inp.sharedPts3d ? n * 3 : B * n * 3);
  const gradK = new Float64Array(inp.sharedK ? 9 : B * 9);
  const gradWeights = inp.weights === undefined ? undefined : new Float64Array(B * n);
  ensureScratch(n);
  if (gOne.gradPts2d.length < 2 * n) {
    gOne = { gradPts2d: new Float64Array(2 * n), gradPts3d: new Float64Array(3 * n), gradK: new Float64Array(9), gradWeights: new Float64Array(n) };
  }
  const w = inp.weights === undefined ? null : bW;
  const gradPoseB = new Float64Array(6);
  for (let b = 0; b < B; b++) {
    if (inp.status[b] !== PnpStatus.Converged) continue;
    const ks = loadProblem(inp, b);
    for (let j = 0; j < 6; j++) {
      bPose[j] = inp.pose[6 * b + j];
      gradPoseB[j] = inp.gradPose[6 * b + j];
    }
    if (!pnpBackwardOne(gOne, bx, bX, bK, w, n, bPose, gradPoseB)) continue;
    for (let j = 0; j < 2 * n; j++) gradPts2d[2 * n * b + j] = gOne.gradPts2d[j];
    const po = inp.sharedPts3d ? 0 : 3 * n * b;
    for (let j = 0; j < 3 * n; j++) gradPts3d[po + j] += gOne.gradPts3d[j];
    const ko = inp.sharedK ? 0 : 9 * b;
    for (let j = 0; j < 9; j++) gradK[ko + j] += ks * gOne.gradK[j];
    if (gradWeights !== undefined) for (let j = 0; j < n; j++) gradWeights[n * b + j] = gOne.gradWeights[j];
  }
  return gradWeights === undefined ? { gradPts2d, gradPts3d, gradK } : { gradPts2d, gradPts3d, gradK, gradWeights };
}
