/**
 * Per-problem status codes of the PnP layer (docs/pnp-maths.md, "Status"); the WGSL kernels use the same
 * numbers. Failed problems (status != Converged) get a finite pose and zero gradients.
 */
import { jacobiEigenSym } from './eigen';
import type { Vec } from './linalg';

export const PnpStatus = {
  Converged: 0,
  /** iteration cap reached, or LM could not decrease the cost any more (lambda overflow) */
  NotConverged: 1,
  /** invalid input: NaN or Inf in K, in a weight, in a point with w > 0 or in initPose; a negative weight; a
   * singular K */
  InvalidInput: 2,
  /** fewer than 4 points with w > 0 */
  TooFewPoints: 3,
  /** 3D points with w > 0 coincident or collinear (second covariance eigenvalue < 1e-6 of the first), or
   * fewer than 4 of them distinct (kCoincidentRatio): 3 distinct points have up to 4 exact poses (P3P) */
  Degenerate: 4,
  /** a point with w > 0 has Xc.z <= 0 at the solution */
  BehindCamera: 5,
  /** solved, but the input's own precision cannot resolve the points' spread (inputRoundingRatio): e.g.
   * UTM coordinates in float32, rounded by up to 0.25 m; the pose may be far from the optimum of the
   * caller's unrounded problem. Centre the points in float64 before they become float32. */
  IllConditioned: 6,
} as const;

export type PnpStatusCode = (typeof PnpStatus)[keyof typeof PnpStatus];

const statusNames: readonly string[] = ['Converged', 'NotConverged', 'InvalidInput', 'TooFewPoints', 'Degenerate', 'BehindCamera', 'IllConditioned'];

/** The PnpStatus key of a code ('Unknown(7)' for anything else). */
export function pnpStatusName(code: number): string {
  return statusNames[code] ?? `Unknown(${code})`;
}

/** Minimum number of points with w > 0. */
export const kMinPoints = 4;
/** Degenerate when lambda_2 < kDegenerateRatio lambda_1 (normalised covariance, descending eigenvalues). */
export const kDegenerateRatio = 1e-6;
/**
 * Two 3D points are one when they lie within this fraction of the points' RMS spread about their centroid
 * (the length ratio of kDegenerateRatio, an eigenvalue ratio): a repeated row of a correspondence list, or a
 * point measured twice, adds no constraint on the pose.
 */
export const kCoincidentRatio = Math.sqrt(kDegenerateRatio);

/**
 * Which of checkProblem's checks a problem failed: a non-finite value or a negative weight (field, and
 * index: the entry of K [9] row-major or the point), a singular K, fewer than kMinPoints points with
 * w > 0, a zero spread or one whose square overflows, fewer than kMinPoints distinct points, collinear
 * points (field '' and index -1 where no one value is at fault).
 */
export interface ProblemFault {
  check: 'nonFinite' | 'negativeWeight' | 'singularK' | 'tooFewPoints' | 'zeroSpread' | 'spreadOverflow' | 'fewDistinct' | 'collinear' | '';
  field: 'K' | 'weights' | 'pts2d' | 'pts3d' | '';
  index: number;
  /** tooFewPoints: the points with w > 0; fewDistinct: the distinct ones among them; else -1. */
  count: number;
}

const sCov = new Float64Array(9);
const sVal = new Float64Array(3);
const sVec = new Float64Array(9);

/**
 * Checks one problem before solving: pts2d [n,2] px, pts3d [n,3], K [9], w [n] or null (all 1).
 * Returns PnpStatus.InvalidInput, TooFewPoints or Degenerate (checked in that order; Degenerate: a zero
 * spread, fewer than 4 distinct points (distinctPoints), or collinear points), or -1 when the problem
 * can be solved. Points with w = 0 do not exist for the problem, whatever their coordinates hold.
 * When the problem can be solved and spread [3] is given, writes the eigenvalues of the normalised
 * covariance to it, ascending (they sum to 1; spread[0] / spread[2] is how flat the points are).
 * When it cannot and fault is given, writes there which check failed and on what.
 */
export function checkProblem(pts2d: Vec, pts3d: Vec, K: Vec, w: Vec | null, n: number, spread?: Float64Array, fault?: ProblemFault): number {
  for (let j = 0; j < 9; j++) if (!Number.isFinite(K[j])) return failed(fault, PnpStatus.InvalidInput, 'nonFinite', 'K', j);
  // A singular K has no K^-1 for the initialiser's normalised image points.
  const det = K[0] * (K[4] * K[8] - K[5] * K[7]) - K[1] * (K[3] * K[8] - K[5] * K[6]) + K[2] * (K[3] * K[7] - K[4] * K[6]);
  if (!(Math.abs(det) > 0) || !Number.isFinite(1 / det)) return failed(fault, PnpStatus.InvalidInput, 'singularK', 'K');
  let count = 0;
  let sw = 0, cx = 0, cy = 0, cz = 0;
  for (let i = 0; i < n; i++) {
    const wi = w === null ? 1 : w[i];
    if (!Number.isFinite(wi)) return failed(fault, PnpStatus.InvalidInput, 'nonFinite', 'weights', i);
    if (wi < 0) return failed(fault, PnpStatus.InvalidInput, 'negativeWeight', 'weights', i);
    if (wi === 0) continue;
    const X = pts3d[3 * i], Y = pts3d[3 * i + 1], Z = pts3d[3 * i + 2];
    if (!(Number.isFinite(pts2d[2 * i]) && Number.isFinite(pts2d[2 * i + 1]))) return failed(fault, PnpStatus.InvalidInput, 'nonFinite', 'pts2d', i);
    if (!(Number.isFinite(X) && Number.isFinite(Y) && Number.isFinite(Z))) return failed(fault, PnpStatus.InvalidInput, 'nonFinite', 'pts3d', i);
    count++;
    sw += wi;
    cx += wi * X; cy += wi * Y; cz += wi * Z;
  }
  if (count < kMinPoints) return failed(fault, PnpStatus.TooFewPoints, 'tooFewPoints', '', -1, count);
  cx /= sw; cy /= sw; cz /= sw;
  sCov.fill(0);
  for (let i = 0; i < n; i++) {
    const wi = w === null ? 1 : w[i];
    if (!(wi > 0)) continue;
    const d0 = pts3d[3 * i] - cx, d1 = pts3d[3 * i + 1] - cy, d2 = pts3d[3 * i + 2] - cz;
    sCov[0] += wi * d0 * d0; sCov[1] += wi * d0 * d1; sCov[2] += wi * d0 * d2;
    sCov[4] += wi * d1 * d1; sCov[5] += wi * d1 * d2; sCov[8] += wi * d2 * d2;
  }
  // Normalised covariance: divide by sum w s^2 = trace, so its eigenvalues sum to 1.
  const tr = sCov[0] + sCov[4] + sCov[8];
  if (!Number.isFinite(tr)) return failed(fault, PnpStatus.Degenerate, 'spreadOverflow');
  if (!(tr > 0)) return failed(fault, PnpStatus.Degenerate, 'zeroSpread');
  const distinct = distinctPoints(pts3d, w, n, kCoincidentRatio * kCoincidentRatio * (tr / sw));
  if (distinct < kMinPoints) return failed(fault, PnpStatus.Degenerate, 'fewDistinct', '', -1, distinct);
  sCov[0] /= tr; sCov[1] /= tr; sCov[2] /= tr; sCov[4] /= tr; sCov[5] /= tr; sCov[8] /= tr;
  sCov[3] = sCov[1]; sCov[6] = sCov[2]; sCov[7] = sCov[5];
  jacobiEigenSym(sCov, 3, sVal, sVec);
  // Ascending: sVal[2] is the first (largest), sVal[1] the second.
  if (!(sVal[1] >= kDegenerateRatio * sVal[2])) return failed(fault, PnpStatus.Degenerate, 'collinear');
  spread?.set(sVal);
  return -1;
}

const sKept = new Int32Array(kMinPoints);

/** status, with what failed written to fault when there is one. */
function failed(fault: ProblemFault | undefined, status: number, check: ProblemFault['check'], field: ProblemFault['field'] = '', index = -1,
  count = -1): number {
  if (fault) { fault.check = check; fault.field = field; fault.index = index; fault.count = count; }
  return status;
}

/**
 * How many of the points with w > 0 of pts3d [n,3] are distinct, counted up to kMinPoints (the answer
 * checkProblem needs): a point is new when its squared distance from each point kept so far exceeds
 * minDist2 (same units squared). Greedy in row order (WGSL distinct_points keeps the same order, so the
 * twins agree): points within twice the tolerance of one another may count once or twice by their order.
 * O(kMinPoints n).
 */
export function distinctPoints(pts3d: Vec, w: Vec | null, n: number, minDist2: number): number {
  let kept = 0;
  for (let i = 0; i < n && kept < kMinPoints; i++) {
    if (!((w === null ? 1 : w[i]) > 0)) continue;
    let isNew = true;
    for (let j = 0; j < kept && isNew; j++) {
      const q = sKept[j];
      const dx = pts3d[3 * i] - pts3d[3 * q], dy = pts3d[3 * i + 1] - pts3d[3 * q + 1], dz = pts3d[3 * i + 2] - pts3d[3 * q + 2];
      isNew = dx * dx + dy * dy + dz * dz > minDist2;
    }
    if (isNew) sKept[kept++] = i;
  }
  return kept;
}

/** Unit roundoff of float32 input (2^-24): what a coordinate loses when it becomes a float32 tensor. */
export const kF32InputEps = 2 ** -24;
/** Unit roundoff of float64 input (2^-53). */
export const kF64InputEps = 2 ** -53;
/**
 * IllConditioned when inputEps * inputRoundingRatio exceeds this: the rounding of the input then moves a
 * point by more than 1e-4 of the points' spread, the accuracy the f32 kernels are held to against the
 * float64 reference (tests/kernels), so the result would no longer be the optimum of the caller's problem
 * to that accuracy. For float32 input the ratio may reach about 1,700: an object 100 mm across may sit up
 * to about 170 m from its model origin, a 2D point spread of 10 px may sit at up to 17,000 px.
 */
export const kInputResolutionTol = 1e-4;

/**
 * How much larger the coordinates are than their spread, for 3D and 2D points alike, over the points with
 * w > 0 (weights as in normalizePoints): max(max_i |X_i|_inf / s3, max_i |x_i|_inf / s2), with s3 and s2
 * the weighted RMS distances of the 3D and 2D points from their weighted centroids. A coordinate rounded
 * to relative precision eps moves by up to eps times this ratio of the spread, so the input resolves its
 * own geometry only while eps * ratio is small (kInputResolutionTol). Large 3D offsets (UTM metres) and a
 * K that squeezes the image points into a tiny patch far from the origin both show here. Call after
 * checkProblem has passed (finite points, at least 4 with w > 0); Infinity when a spread is 0.
 */
export function inputRoundingRatio(pts2d: Vec, pts3d: Vec, w: Vec | null, n: number): number {
  let sw = 0, cx = 0, cy = 0, cz = 0, ux = 0, uy = 0, max3 = 0, max2 = 0;
  for (let i = 0; i < n; i++) {
    const wi = w === null ? 1 : w[i];
    if (!(wi > 0)) continue;
    const X = pts3d[3 * i], Y = pts3d[3 * i + 1], Z = pts3d[3 * i + 2], u = pts2d[2 * i], v = pts2d[2 * i + 1];
    sw += wi;
    cx += wi * X; cy += wi * Y; cz += wi * Z; ux += wi * u; uy += wi * v;
    max3 = Math.max(max3, Math.abs(X), Math.abs(Y), Math.abs(Z));
    max2 = Math.max(max2, Math.abs(u), Math.abs(v));
  }
  cx /= sw; cy /= sw; cz /= sw; ux /= sw; uy /= sw;
  let s3 = 0, s2 = 0;
  for (let i = 0; i < n; i++) {
    const wi = w === null ? 1 : w[i];
    if (!(wi > 0)) continue;
    const dx = pts3d[3 * i] - cx, dy = pts3d[3 * i + 1] - cy, dz = pts3d[3 * i + 2] - cz;
    const du = pts2d[2 * i] - ux, dv = pts2d[2 * i + 1] - uy;
    s3 += wi * (dx * dx + dy * dy + dz * dz);
    s2 += wi * (du * du + dv * dv);
  }
  return Math.max(max3 / Math.sqrt(s3 / sw), max2 / Math.sqrt(s2 / sw));
}
