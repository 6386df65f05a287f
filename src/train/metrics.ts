/**
 * Pose metrics, pure float64 over typed arrays (no tfjs). Poses as R [9] row-major, model to camera,
 * and t [3] mm; points [m, 3] mm in the model frame; K [9] row-major px.
 *
 * ADD (Hinterstoisser et al., ACCV 2012): mean distance between the model points under the two poses;
 *   ADD-S for symmetric objects: mean distance from each point under the estimate to the closest point
 *   under the GT. Correct when below 0.1 x the object's diameter (ADD-0.1d).
 * 2D projection (Brachmann et al., CVPR 2016): mean distance of the projected points, correct < 5 px.
 * 5 cm 5 deg (Shotton et al., CVPR 2013): translation error < 50 mm and rotation error < 5 degrees.
 */
import type { KdTree3 } from './kdtree';

export interface PoseRt {
  /** [9] row-major rotation */
  R: ArrayLike<number>;
  /** [3] mm */
  t: ArrayLike<number>;
}

function transform(p: PoseRt, pts: ArrayLike<number>, i: number, out: Float64Array): Float64Array {
  const x = pts[3 * i], y = pts[3 * i + 1], z = pts[3 * i + 2];
  const R = p.R, t = p.t;
  out[0] = R[0] * x + R[1] * y + R[2] * z + t[0];
  out[1] = R[3] * x + R[4] * y + R[5] * z + t[1];
  out[2] = R[6] * x + R[7] * y + R[8] * z + t[2];
  return out;
}

const sA = new Float64Array(3);
const sB = new Float64Array(3);

/** ADD: mean |(R X + t) - (R_gt X + t_gt)| over points [m, 3], mm. */
export function addErrorMm(est: PoseRt, gt: PoseRt, pts: ArrayLike<number>): number {
  const m = Math.floor(pts.length / 3);
  let sum = 0;
  for (let i = 0; i < m; i++) {
    transform(est, pts, i, sA);
    transform(gt, pts, i, sB);
    sum += Math.hypot(sA[0] - sB[0], sA[1] - sB[1], sA[2] - sB[2]);
  }
  return m > 0 ? sum / m : 0;
}

/**
 * ADD-S: mean over the GT-posed points of the distance to the closest estimate-posed point, mm
 * (bop_toolkit pose_error.adi). With `model` (a k-d tree over the whole model's vertices, model frame) the
 * closest point is searched exactly among all of them while the mean runs over pts (which may be a
 * subsample): |R_g X + t_g - (R_e Y + t_e)| = |R_e^T (R_g X + t_g - t_e) - Y|, so each query is moved
 * into the model frame and the tree never depends on the pose. Without it, the search runs over pts
 * itself, O(m^2).
 */
export function addsErrorMm(est: PoseRt, gt: PoseRt, pts: ArrayLike<number>, model?: KdTree3): number {
  const m = Math.floor(pts.length / 3);
  if (model) {
    const R = est.R, t = est.t;
    let sum = 0;
    for (let i = 0; i < m; i++) {
      transform(gt, pts, i, sB);
      const dx = sB[0] - t[0], dy = sB[1] - t[1], dz = sB[2] - t[2];
      // R_e^T d
      const x = R[0] * dx + R[3] * dy + R[6] * dz;
      const y = R[1] * dx + R[4] * dy + R[7] * dz;
      const z = R[2] * dx + R[5] * dy + R[8] * dz;
      sum += Math.sqrt(model.nearestSq(x, y, z));
    }
    return m > 0 ? sum / m : 0;
  }
  const e = new Float64Array(3 * m);
  for (let j = 0; j < m; j++) e.set(transform(est, pts, j, sA), 3 * j);
  let sum = 0;
  for (let i = 0; i < m; i++) {
    transform(gt, pts, i, sB);
    let best = Infinity;
    for (let j = 0; j < m; j++) {
      const dx = e[3 * j] - sB[0], dy = e[3 * j + 1] - sB[1], dz = e[3 * j + 2] - sB[2];
      const d = dx * dx + dy * dy + dz * dz;
      if (d < best) best = d;
    }
    sum += Math.sqrt(best);
  }
  return m > 0 ? sum / m : 0;
}

/** Mean distance between the points projected with K under the two poses, px. A point at or behind the camera counts Infinity. */
export function projection2dErrorPx(est: PoseRt, gt: PoseRt, pts: ArrayLike<number>, K: ArrayLike<number>): number {
  const m = Math.floor(pts.length / 3);
  let sum = 0;
  for (let i = 0; i < m; i++) {
    transform(est, pts, i, sA);
    transform(gt, pts, i, sB);
    if (!(sA[2] > 0) || !(sB[2] > 0)) return Infinity;
    const ua = (K[0] * sA[0] + K[1] * sA[1] + K[2] * sA[2]) / sA[2], va = (K[3] * sA[0] + K[4] * sA[1] + K[5] * sA[2]) / sA[2];
    const ub = (K[0] * sB[0] + K[1] * sB[1] + K[2] * sB[2]) / sB[2], vb = (K[3] * sB[0] + K[4] * sB[1] + K[5] * sB[2]) / sB[2];
    sum += Math.hypot(ua - ub, va - vb);
  }
  return m > 0 ? sum / m : 0;
}

/** Geodesic angle between two rotations, degrees: acos((trace(R_est^T R_gt) - 1) / 2), clamped. */
export function rotationErrorDeg(rEst: ArrayLike<number>, rGt: ArrayLike<number>): number {
  let tr = 0;
  for (let k = 0; k < 9; k++) tr += rEst[k] * rGt[k]; // trace(A^T B) = sum of elementwise products
  const c = Math.min(1, Math.max(-1, (tr - 1) / 2));
  return (Math.acos(c) * 180) / Math.PI;
}

export function translationErrorMm(tEst: ArrayLike<number>, tGt: ArrayLike<number>): number {
  return Math.hypot(tEst[0] - tGt[0], tEst[1] - tGt[1], tEst[2] - tGt[2]);
}

/** One evaluated instance. */
export interface InstanceErrors {
  /** ADD, or ADD-S for a symmetric object, mm */
  addMm: number;
  proj2dPx: number;
  rotDeg: number;
  transMm: number;
  /** bpnp status (0 = converged) */
  status: number;
  /**
   * The localiser's box against the ground truth's: IoU, and whether the detection counts (score at
   * least the config's minScore). Oracle crops: iou NaN, detected true.
   */
  iou: number;
  detected: boolean;
}

/** model: the whole model's k-d tree, for exact ADD-S nearest neighbours (addsErrorMm). */
export function instanceErrors(est: PoseRt, gt: PoseRt, pts: ArrayLike<number>, kPx: ArrayLike<number>, symmetric: boolean,
  status = 0, model?: KdTree3, detection: { iou: number; detected: boolean } = { iou: NaN, detected: true }): InstanceErrors {
  return {
    addMm: symmetric ? addsErrorMm(est, gt, pts, model) : addErrorMm(est, gt, pts),
    proj2dPx: projection2dErrorPx(est, gt, pts, kPx),
    rotDeg: rotationErrorDeg(est.R, gt.R),
    transMm: translationErrorMm(est.t, gt.t),
    status,
    ...detection,
  };
}

export interface PoseMetrics {
  instances: number;
  /** Fraction with ADD (ADD-S when symmetric) < 0.1 diameter */
  add01d: number;
  /** Fraction with 2D projection error < 5 px */
  proj5px: number;
  /** Fraction with < 50 mm and < 5 degrees */
  cm5deg5: number;
  meanRotDeg: number;
  meanTransMm: number;
  /** Medians over the same instances as the means: a few gross failures move a mean, not a median. */
  medianRotDeg: number;
  medianTransMm: number;
  /** Instances whose PnP did not converge (they count as wrong in every fraction) */
  pnpFailures: number;
  /** Where the crops came from: the localiser's boxes, or the ground truth's ('oracle': a reference, cut once). */
  crops: 'detected' | 'oracle';
  /** Fraction of instances detected with IoU >= 0.5 (NaN with oracle crops). */
  detectionRecall: number;
  /** Detections scoring below minScore: misses, wrong in every fraction. */
  missed: number;
  /** Wall time per test image (network + PnP), ms */
  msPerImage: number;
  symmetric: boolean;
}

/**
 * Aggregates instance errors. A missed detection or a failed PnP counts as wrong in every fraction; the
 * means and medians are over the rest only (NaN when none is left).
 */
export function summarise(errs: readonly InstanceErrors[], diameterMm: number, symmetric: boolean, msPerImage: number,
  crops: 'detected' | 'oracle' = 'oracle'): PoseMetrics {
  const n = errs.length;
  let add = 0, proj = 0, cmdeg = 0, failures = 0, missed = 0, found = 0;
  const rots: number[] = [], transs: number[] = [];
  for (const e of errs) {
    if (e.detected && e.iou >= 0.5) found++;
    if (!e.detected) { missed++; continue; }
    if (e.status !== 0) { failures++; continue; }
    if (e.addMm < 0.1 * diameterMm) add++;
    if (e.proj2dPx < 5) proj++;
    if (e.transMm < 50 && e.rotDeg < 5) cmdeg++;
    rots.push(e.rotDeg);
    transs.push(e.transMm);
  }
  const ok = rots.length;
  const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);
  return {
    instances: n,
    add01d: n ? add / n : 0,
    proj5px: n ? proj / n : 0,
    cm5deg5: n ? cmdeg / n : 0,
    meanRotDeg: ok ? sum(rots) / ok : NaN,
    meanTransMm: ok ? sum(transs) / ok : NaN,
    medianRotDeg: median(rots),
    medianTransMm: median(transs),
    pnpFailures: failures,
    crops,
    detectionRecall: crops === 'oracle' ? NaN : n ? found / n : 0,
    missed,
    msPerImage,
    symmetric,
  };
}

/** The middle value (mean of the two middle ones for an even count); NaN for none. */
export function median(xs: readonly number[]): number {
  if (!xs.length) return NaN;
  const a = [...xs].sort((x, y) => x - y);
  const m = a.length >> 1;
  return a.length % 2 ? a[m] : (a[m - 1] + a[m]) / 2;
}

/** Pretty one-line summary for logs. */
export function metricsLine(m: PoseMetrics): string {
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const det = m.crops === 'oracle' ? '[oracle crops] ' : `detected ${pct(m.detectionRecall)} (IoU >= 0.5; ${m.missed} below the score threshold)  `;
  // No pose at all (nothing detected) leaves the error means undefined: said, not printed as NaN.
  const errors = Number.isFinite(m.meanRotDeg)
    ? `rot mean ${m.meanRotDeg.toFixed(2)} / median ${m.medianRotDeg.toFixed(2)} deg  trans mean ${m.meanTransMm.toFixed(1)} / median ${m.medianTransMm.toFixed(1)} mm`
    : 'no pose estimated: no errors to average';
  return `${det}${m.symmetric ? 'ADD-S' : 'ADD'}-0.1d ${pct(m.add01d)}  2D-5px ${pct(m.proj5px)}  5cm5deg ${pct(m.cm5deg5)}  ` +
    `${errors}  PnP failures ${m.pnpFailures}/${m.instances}  ${m.msPerImage.toFixed(1)} ms/image`;
}
