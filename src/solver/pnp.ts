/**
 * The batched PnP layer in float64: forward (solvePnpBatch) and implicit backward (pnpBackwardBatch), the
 * cpu backend's implementation and the reference the WGSL kernels are tested against (docs/pnp-maths.md).
 *
 * Pose convention: [rx, ry, rz, tx, ty, tz], axis-angle (OpenCV Rodrigues) and translation, model to
 * camera, Xc = R(r) X + t, t in the unit of pts3d (mm for datasets). K row-major, pts2d in pixels.
 * Per problem: checkProblem -> normalise -> EPnP -> LM (refineMultiStart, multiStart.ts: from several
 * rotations of the EPnP pose when there are few points), or LM from initPose -> pose, status.
 * Failed problems (status != Converged) get a finite pose (zeros for InvalidInput, TooFewPoints and
 * Degenerate; the last iterate for NotConverged and BehindCamera, zeros for NotConverged when EPnP
 * reports failure or LM ends non-finite) and zero gradients. A non-finite initPose is InvalidInput. A solved problem whose
 * input cannot resolve its own points' spread at inputEps (inputRoundingRatio) is IllConditioned.
 * K is used as K * cameraScale(K) (the same camera, kept inside the f32 range), dL/dK scaled alike.
 */
import { epnpInit, kRelinMinPoints } from './epnp';
import { allFinite, type Vec } from './linalg';
import { createLmResult, lmRefine, type LmOptions, type LmProblem } from './lm';
import { effectivePoints, inFrontOfCamera, kMultiStartMaxPoints, refineMultiStart } from './multiStart';
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
  const problem: LmProblem = { xn: bXn, pts2d: bx, K: bK, w, n };
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
      lmRefine(lmOut, problem, bR0, bTn0, inp.options);
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
      const points = effectivePoints(w, n);
      const thorough = points < kRelinMinPoints || points > kMultiStartMaxPoints;
      const init = epnpInit(bXn.subarray(0, 3 * n), bM.subarray(0, 2 * n), w === null ? null : bW.subarray(0, n), n, thorough);
      if (!(init.ok && allFinite(init.R, 0, 9) && allFinite(init.t, 0, 3))) {
        status[b] = PnpStatus.NotConverged; // no iterate yet: pose stays all-zero
        continue;
      }
      refineMultiStart(lmOut, problem, init.R, init.t, inp.options, bSpread[0] / bSpread[2]);
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
