/**
 * What `npm run pnp` says of each problem beside its pose, in float64 on the JSON's own numbers whichever
 * backend solved it: the RMS reprojection error of the pose it returns, and for a problem that failed, why,
 * naming the value at fault in the input's own indices (`pts2d[b][i]`, `K[b][r][c]`, or `K[r][c]` when K is
 * shared). `Converged` says only that LM stopped at a minimum: the RMS error tells a good fit from
 * correspondences that do not belong together.
 */
import { projectPoints } from '../solver/projection';
import { so3Exp } from '../solver/so3';
import { checkProblem, inputRoundingRatio, kCoincidentRatio, kDegenerateRatio, kMinPoints, PnpStatus, type ProblemFault } from '../solver/status';
import type { PnpProblemsJson } from './pnpInput';

export interface PnpReport {
  /** [B] px: sqrt(mean over the points with w > 0 of |pi(K, R X + t) - x|^2), unweighted; null where the
   * problem has no pose to measure (statuses InvalidInput, TooFewPoints, Degenerate) or a point lies at or
   * behind the camera. */
  rmsPx: (number | null)[];
  /** [B]: null for a converged problem, else one sentence saying why it is not. */
  why: (string | null)[];
}

/**
 * What the GPU solved, where it was not the JSON's numbers as they are: pts2d [B,n,2] and pts3d [B,n,3]
 * centred in float64 (centrePts2d, centrePts3d) before they became float32. The IllConditioned reason is
 * measured on these.
 */
export interface SolvedAsFloat32 {
  pts2d: Float64Array;
  pts3d: Float64Array;
}

/** Statuses that reject a problem before it is solved: no pose to measure. */
const kRejected: readonly number[] = [PnpStatus.InvalidInput, PnpStatus.TooFewPoints, PnpStatus.Degenerate];

/**
 * p's problems with their returned poses [B,6] ([r, t] in pts3d's unit) and statuses [B] (PnpStatus);
 * gpu: what the float32 kernels were given (absent for the float64 solver, which takes the JSON as it is).
 */
export function pnpReport(p: PnpProblemsJson, pose: ArrayLike<number>, status: ArrayLike<number>, gpu?: SolvedAsFloat32): PnpReport {
  const { B, n } = p;
  const proj = projectPoints(new Float64Array(2 * n * B), p.pts3d, pose, p.K, B, n, p.sharedPts3d, p.sharedK);
  const rmsPx: (number | null)[] = [];
  const why: (string | null)[] = [];
  const R = new Float64Array(9);
  for (let b = 0; b < B; b++) {
    const v = views(p, b);
    const poseB = Array.prototype.slice.call(pose, 6 * b, 6 * b + 6) as number[];
    so3Exp(R, poseB);
    const behind: number[] = [];
    let sum = 0, m = 0;
    for (let i = 0; i < n; i++) {
      if (!(v.w === null || v.w[i] > 0)) continue;
      const X = v.pts3d.subarray(3 * i, 3 * i + 3);
      if (!(R[6] * X[0] + R[7] * X[1] + R[8] * X[2] + poseB[5] > 0)) behind.push(i);
      sum += (proj[2 * (n * b + i)] - v.pts2d[2 * i]) ** 2 + (proj[2 * (n * b + i) + 1] - v.pts2d[2 * i + 1]) ** 2;
      m++;
    }
    const rms = Math.sqrt(sum / m);
    rmsPx.push(kRejected.includes(status[b]) || behind.length > 0 || !Number.isFinite(rms) ? null : rms);
    why.push(status[b] === PnpStatus.Converged ? null : whyNot(p, b, status[b], v, behind, gpu));
  }
  return { rmsPx, why };
}

interface ProblemView {
  pts2d: Float64Array;
  pts3d: Float64Array;
  K: Float64Array;
  w: Float64Array | null;
}

function views(p: PnpProblemsJson, b: number): ProblemView {
  const { n } = p;
  return {
    pts2d: p.pts2d.subarray(2 * n * b, 2 * n * (b + 1)),
    pts3d: p.sharedPts3d ? p.pts3d : p.pts3d.subarray(3 * n * b, 3 * n * (b + 1)),
    K: p.sharedK ? p.K : p.K.subarray(9 * b, 9 * (b + 1)),
    w: p.weights ? p.weights.subarray(n * b, n * (b + 1)) : null,
  };
}

function whyNot(p: PnpProblemsJson, b: number, status: number, v: ProblemView, behind: number[], gpu?: SolvedAsFloat32): string {
  const { n } = p;
  const fault: ProblemFault = { check: '', field: '', index: -1, count: -1 };
  const pre = checkProblem(v.pts2d, v.pts3d, v.K, v.w, n, undefined, fault);
  const used = v.w === null ? n : v.w.reduce((c, x) => c + (x > 0 ? 1 : 0), 0);
  const point = (field: 'pts2d' | 'pts3d', i: number) => (field === 'pts3d' && p.sharedPts3d ? `pts3d[${i}]` : `${field}[${b}][${i}]`);
  // The float64 checks explain the status only where they reach it too: near a limit, float32 may not.
  if (pre === status) {
    switch (fault.check) {
      case 'nonFinite': {
        if (fault.field === 'K') {
          const at = `[${Math.floor(fault.index / 3)}][${fault.index % 3}]`;
          return `K${p.sharedK ? '' : `[${b}]`}${at} is ${valueText(v.K[fault.index])}`;
        }
        if (fault.field === 'weights') return `weights[${b}][${fault.index}] is ${valueText(v.w![fault.index])}`;
        const f = fault.field as 'pts2d' | 'pts3d';
        const vals = f === 'pts2d' ? v.pts2d.subarray(2 * fault.index, 2 * fault.index + 2) : v.pts3d.subarray(3 * fault.index, 3 * fault.index + 3);
        return `${point(f, fault.index)} is [${Array.from(vals, valueText).join(', ')}] (a point with weight > 0 must be finite)`;
      }
      case 'negativeWeight':
        return `weights[${b}][${fault.index}] is ${v.w![fault.index]}: weights must be >= 0`;
      case 'singularK':
        return `K${p.sharedK ? '' : `[${b}]`} is singular (determinant 0): it has no inverse for the image points`;
      case 'tooFewPoints':
        return `${fault.count} point${fault.count === 1 ? '' : 's'} with weight > 0; at least ${kMinPoints} are needed`;
      case 'zeroSpread':
        return `all ${used} 3D points with weight > 0 are the same point`;
      case 'spreadOverflow':
        return 'the 3D points\' spread overflows: their coordinates square to infinity (beyond about 1e154)';
      case 'fewDistinct':
        return `only ${fault.count} distinct 3D point${fault.count === 1 ? '' : 's'} among the ${used} with weight > 0 (points within ${kCoincidentRatio} of their RMS spread of each other count as one); at least ${kMinPoints} are needed${fault.count === 3 ? ': 3 points have up to 4 exact poses' : ''}`;
      case 'collinear':
        return `the 3D points with weight > 0 are collinear (second eigenvalue of their covariance below ${kDegenerateRatio} of the first): the rotation about their line is free`;
      default:
        break;
    }
  }
  if (status === PnpStatus.InvalidInput) {
    const j = p.initPose ? p.initPose.subarray(6 * b, 6 * b + 6).findIndex((x) => !Number.isFinite(x)) : -1;
    if (j >= 0) return `initPose[${b}][${j}] is ${valueText(p.initPose![6 * b + j])}`;
    return 'invalid once rounded to float32 for the GPU (a value beyond float32\'s range, or K singular once rounded)';
  }
  if (status === PnpStatus.TooFewPoints || status === PnpStatus.Degenerate) {
    return `${status === PnpStatus.Degenerate ? 'degenerate' : 'too few points'} once rounded to float32 for the GPU (in float64 the problem passes the checks: near their limits, or coordinates whose squares overflow float32, beyond about 1e19)`;
  }
  if (status === PnpStatus.BehindCamera) {
    if (behind.length === 0) return 'a point with weight > 0 was at or behind the camera at the solution (the float32 solve\'s pose; in float64 none is)';
    const more = behind.length > 1 ? ` and ${behind.length - 1} more` : '';
    // LM keeps the side of the camera it starts on: from a given start, the start may be what put them there.
    const cause = p.initPose ? `LM started from initPose[${b}]; without it EPnP chooses the start` : 'the correspondences fit no pose with every point in front';
    return `${point('pts3d', behind[0])}${more} at or behind the camera (z <= 0) at the solution: ${cause}`;
  }
  if (status === PnpStatus.IllConditioned) {
    if (gpu) {
      const ratio = inputRoundingRatio(gpu.pts2d.subarray(2 * n * b, 2 * n * (b + 1)), gpu.pts3d.subarray(3 * n * b, 3 * n * (b + 1)), v.w, n);
      return `centred in float64 and then rounded to float32 for the GPU, coordinates still reach ${ratio.toPrecision(3)} times the points' weighted RMS spread (one point weighted far above the others shrinks it): float32 moves the points by more than 1e-4 of their spread`;
    }
    const ratio = inputRoundingRatio(v.pts2d, v.pts3d, v.w, n);
    return `coordinates reach ${ratio.toPrecision(3)} times the points' weighted RMS spread: float64 moves the points by more than 1e-4 of their spread`;
  }
  if (status === PnpStatus.NotConverged) {
    return 'LM stopped short of a minimum: the iteration cap was reached, or no step lowered the cost any more';
  }
  return `status ${status}`;
}

/** A number as the JSON had it: NaN stands for null there. */
function valueText(x: number): string {
  return Number.isNaN(x) ? 'null' : String(x);
}
