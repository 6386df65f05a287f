/**
 * The poses document written for images without ground truth, shared by `npm run predict` (its JSON
 * output) and the page's Try-it view (its download), so both write the same fields in the same order:
 *
 *   {"model": {"obj_id", "name", "step"}, "camera": {"K": [9], "source"},
 *    "images": [{"file", "width", "height", "ms", "detections": [{"obj_id", "score", "box_xywh_px": [4],
 *                "R": [9] row-major, "t_mm": [3], "keypoints_px": [[x, y], ...], "status", "refined"}]}],
 *    "skipped": [{"file", "reason"}]}
 *
 * An image whose detection scored below the threshold has no detections.
 */
import { pnpStatusName } from '../solver/status';
import type { ImagePose } from './predict';

export interface DetectionJson {
  obj_id: number;
  score: number;
  /** [x, y, w, h] image px */
  box_xywh_px: number[];
  /** [9] row-major, model to camera */
  R: number[];
  t_mm: number[];
  /** [k][2] image px, heatmap order */
  keypoints_px: number[][];
  /** The solver's status in snake case: 'converged', 'not_converged', ... */
  status: string;
  /** Whether the pose is from the second crop, around the first pose's outline (refine.ts). */
  refined: boolean;
}

export interface ImagePosesJson {
  file: string;
  width: number;
  height: number;
  /** Time per image, ms. */
  ms: number;
  detections: DetectionJson[];
}

export interface PosesJson {
  model: { obj_id: number; name: string; step: number };
  camera: { K: number[]; source: string };
  images: ImagePosesJson[];
  skipped: { file: string; reason: string }[];
}

/** An image's detections: its pose when the detection scored at least the threshold, else none. */
export function detectionsJson(pose: ImagePose | undefined, objId: number): DetectionJson[] {
  if (!pose || !pose.detected) return [];
  const kp = pose.keypointsImagePx;
  return [{
    obj_id: objId,
    score: pose.detection.score,
    box_xywh_px: Array.from(pose.detection.boxPx),
    R: Array.from(pose.prediction.R),
    t_mm: Array.from(pose.prediction.tMm),
    keypoints_px: Array.from({ length: kp.length / 2 }, (_, i) => [kp[2 * i], kp[2 * i + 1]]),
    status: statusName(pose.prediction.status),
    refined: pose.refined,
  }];
}

/**
 * The document as text: one-space indentation and a final newline. Fields are copied in the documented
 * order, so objects built elsewhere (the page's, sent through the worker) print exactly as the CLI's.
 */
export function posesJsonText(d: PosesJson): string {
  const doc: PosesJson = {
    model: { obj_id: d.model.obj_id, name: d.model.name, step: d.model.step },
    camera: { K: d.camera.K, source: d.camera.source },
    images: d.images.map((im) => ({
      file: im.file, width: im.width, height: im.height, ms: im.ms,
      detections: im.detections.map((x) => ({
        obj_id: x.obj_id, score: x.score, box_xywh_px: x.box_xywh_px, R: x.R, t_mm: x.t_mm, keypoints_px: x.keypoints_px, status: x.status, refined: x.refined,
      })),
    })),
    skipped: d.skipped.map((s) => ({ file: s.file, reason: s.reason })),
  };
  return `${JSON.stringify(doc, null, 1)}\n`;
}

/** The solver's status name in snake case: 'converged', 'not_converged', 'ill_conditioned', ... */
export function statusName(s: number): string {
  return pnpStatusName(s).replace(/(?<=[a-z])(?=[A-Z])/g, '_').toLowerCase();
}
