/**
 * The training objective of BPnP's LINEMOD experiment (Chen et al., CVPR 2020, section 4.3):
 *   L = L_heatmap + w_kp L_keypoint + beta L_pose
 * L_heatmap: KL divergence of the Gaussian targets at the projected GT keypoints from the spatial
 *   softmax of the heatmaps (heatmaps.ts).
 * L_keypoint: mean squared distance of the soft-argmax keypoints to the GT keypoints, in heatmap cells^2
 *   (DSNT's coordinate term; it keeps the soft-argmax's expectation on the heatmap's mode).
 * L_pose: the model's points reprojected with the pose bpnp solves from the predicted keypoints, against
 *   their projection with the GT pose; mean squared distance in heatmap cells^2 (px / stride). Problems
 *   bpnp failed on (status != 0) count 0: their predicted pose is swapped for the GT pose before
 *   projecting, so neither a value nor a gradient comes from them.
 */
import * as tf from '@tensorflow/tfjs';
import { bpnp } from '../ops/bpnp';
import { projectPoints } from '../ops/projectPoints';
import { kLossUnitPx, type LossConfig } from './config';
import { heatmapLoss, softArgmax } from './heatmaps';
import type { NetOutputs } from './model';

export interface LossBatch {
  /** [B, k, 2] GT keypoints, crop px */
  kpGtPx: tf.Tensor3D;
  /** [B, H, W, k] normalised Gaussian targets */
  targets: tf.Tensor4D;
  /** [B, 3, 3] crop intrinsics */
  kCrop: tf.Tensor3D;
  /** [B, 6] GT pose, axis-angle + t mm */
  poseGt: tf.Tensor2D;
}

export interface LossPoints {
  /** [k, 3] keypoints, mm */
  keypointsMm: tf.Tensor2D;
  /** [m, 3] points reprojected by the pose loss, mm */
  posePointsMm: tf.Tensor2D;
}

export interface NetTerms {
  heatmap: tf.Scalar;
  keypoint: tf.Scalar;
  /** [B, k, 2] crop px */
  kpPx: tf.Tensor3D;
}

/** The network's own terms and its keypoints. */
export function networkTerms(out: NetOutputs, batch: LossBatch): NetTerms {
  const kpPx = softArgmax(out.logits, out.stride);
  const heatmap = heatmapLoss(out.logits, batch.targets);
  const keypoint = tf.tidy(() => tf.div(tf.mean(tf.sum(tf.squaredDifference(kpPx, batch.kpGtPx), 2)), kLossUnitPx ** 2) as tf.Scalar);
  return { heatmap, keypoint, kpPx };
}

export interface PoseTerm {
  loss: tf.Scalar;
  /** [B] int32 bpnp status */
  status: tf.Tensor1D;
  /** [B, 6] solved pose */
  pose: tf.Tensor2D;
}

/**
 * L_pose from keypoints kpPx [B, k, 2] and optional confidences [B, k] (bpnp's weights).
 */
export function poseTerm(kpPx: tf.Tensor3D, confidence: tf.Tensor2D | undefined, batch: LossBatch, pts: LossPoints,
  cfg: Pick<LossConfig, 'pnpInit'>): PoseTerm {
  const { pose, status } = bpnp(kpPx, pts.keypointsMm, batch.kCrop, {
    weights: confidence,
    initPose: cfg.pnpInit === 'gt' ? batch.poseGt : undefined,
  });
  const loss = tf.tidy(() => {
    const ok = tf.equal(status, 0);
    const B = kpPx.shape[0];
    const safePose = tf.where(tf.reshape(ok, [B, 1]).tile([1, 6]), pose, batch.poseGt) as tf.Tensor2D;
    const pHat = projectPoints(safePose, pts.posePointsMm, batch.kCrop);
    const pGt = projectPoints(batch.poseGt, pts.posePointsMm, batch.kCrop);
    const d2 = tf.sum(tf.squaredDifference(pHat, pGt), 2); // [B, m]
    return tf.div(tf.mean(d2), kLossUnitPx ** 2) as tf.Scalar;
  });
  return { loss, status, pose };
}
