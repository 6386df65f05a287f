/**
 * The training objective of BPnP's LINEMOD experiment (Chen et al., CVPR 2020, section 4.3):
 *   L = L_heatmap + w_kp L_keypoint + beta L_pose
 * L_heatmap: KL divergence of the Gaussian targets at the projected GT keypoints from the spatial
 *   softmax of the heatmaps (heatmaps.ts).
 * L_keypoint: mean squared distance of the soft-argmax keypoints to the GT keypoints, in heatmap cells^2
 *   (DSNT's coordinate term; it keeps the soft-argmax's expectation on the heatmap's mode).
 * L_pose: the model's points under the pose bpnp solves from the predicted keypoints against the same
 *   points under the GT pose (loss.poseError): 'reprojection', their 2D projections in the crop (the
 *   paper's); '3d', their camera-frame positions (PoseCNN's and DeepIM's point-matching loss, ADD's error),
 *   in mm times fx / t_z of the GT pose, so crop px at the object's distance. Mean squared distance in
 *   loss units^2 (kLossUnitPx). Problems bpnp failed on (status != 0) count 0: their predicted pose is
 *   swapped for the GT pose first, so neither a value nor a gradient comes from them.
 */
import * as tf from '@tensorflow/tfjs';
import { bpnp } from '../ops/bpnp';
import { projectPoints, transformPoints } from '../ops/projectPoints';
import { kLossUnitPx, type LossConfig } from './config';
import { heatmapLossOfLogProb, softArgmaxOfLogProb, spatialLogSoftmax } from './heatmaps';
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
  // One spatial softmax for both terms: on wasm its exp is a fifth of the loss's time, forward and backward.
  const [, H, W] = out.logits.shape;
  const logp = spatialLogSoftmax(out.logits);
  const kpPx = softArgmaxOfLogProb(logp, H, W, out.stride);
  const heatmap = heatmapLossOfLogProb(logp, batch.targets);
  logp.dispose();
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
  cfg: Pick<LossConfig, 'pnpInit' | 'poseError'>): PoseTerm {
  const { pose, status } = bpnp(kpPx, pts.keypointsMm, batch.kCrop, {
    weights: confidence,
    initPose: cfg.pnpInit === 'gt' ? batch.poseGt : undefined,
  });
  const loss = tf.tidy(() => {
    const ok = tf.equal(status, 0);
    const B = kpPx.shape[0];
    const safePose = tf.where(tf.reshape(ok, [B, 1]).tile([1, 6]), pose, batch.poseGt) as tf.Tensor2D;
    if (cfg.poseError === '3d') {
      const d2Mm = tf.sum(tf.squaredDifference(transformPoints(safePose, pts.posePointsMm), transformPoints(batch.poseGt, pts.posePointsMm)), 2); // [B, m]
      // mm to crop px at the object's distance: fx / t_z of the GT pose, per problem.
      const pxPerMm = tf.div(tf.reshape(tf.slice(batch.kCrop, [0, 0, 0], [B, 1, 1]), [B, 1]), tf.slice(batch.poseGt, [0, 5], [B, 1]));
      return tf.div(tf.mean(tf.mul(d2Mm, tf.square(pxPerMm))), kLossUnitPx ** 2) as tf.Scalar;
    }
    const pHat = projectPoints(safePose, pts.posePointsMm, batch.kCrop);
    const pGt = projectPoints(batch.poseGt, pts.posePointsMm, batch.kCrop);
    const d2 = tf.sum(tf.squaredDifference(pHat, pGt), 2); // [B, m]
    return tf.div(tf.mean(d2), kLossUnitPx ** 2) as tf.Scalar;
  });
  return { loss, status, pose };
}
