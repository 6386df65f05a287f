/**
 * Heatmaps and their keypoints (the frames and targets: heatmapTargets.ts).
 *
 * Keypoints come out of the heatmaps by soft-argmax (DSNT, Nibali et al. 2018): a spatial softmax per
 * keypoint, then the expected cell centre. Differentiable, and exact for the targets of gaussianTargets
 * wherever the keypoint lies within the outermost cell centres.
 */
import * as tf from '@tensorflow/tfjs';
import { cellToPx } from './heatmapTargets';

/**
 * Spatial softmax of logits [B, H, W, k] -> log-probabilities [B, k, H W] (row-major cells).
 */
export function spatialLogSoftmax(logits: tf.Tensor4D): tf.Tensor3D {
  const [B, H, W, k] = logits.shape;
  return tf.tidy(() => tf.logSoftmax(tf.transpose(tf.reshape(logits, [B, H * W, k]), [0, 2, 1])) as tf.Tensor3D);
}

/**
 * Soft-argmax: logits [B, H, W, k] -> keypoints [B, k, 2] in crop px. Differentiable.
 */
export function softArgmax(logits: tf.Tensor4D, stride: number): tf.Tensor3D {
  const [, H, W] = logits.shape;
  return tf.tidy(() => softArgmaxOfLogProb(spatialLogSoftmax(logits), H, W, stride));
}

/** softArgmax from spatialLogSoftmax's log-probabilities logp [B, k, H W] of an H x W map. */
export function softArgmaxOfLogProb(logp: tf.Tensor3D, H: number, W: number, stride: number): tf.Tensor3D {
  return tf.tidy(() => {
    const p = tf.exp(logp);
    const xs = new Float32Array(H * W);
    const ys = new Float32Array(H * W);
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) { xs[y * W + x] = cellToPx(x, stride); ys[y * W + x] = cellToPx(y, stride); }
    const grid = tf.tensor2d(interleave(xs, ys), [H * W, 2]);
    const [B, k] = p.shape;
    return tf.reshape(tf.matMul(tf.reshape(p, [B * k, H * W]), grid), [B, k, 2]) as tf.Tensor3D;
  });
}

function interleave(a: Float32Array, b: Float32Array): Float32Array {
  const out = new Float32Array(2 * a.length);
  for (let i = 0; i < a.length; i++) { out[2 * i] = a[i]; out[2 * i + 1] = b[i]; }
  return out;
}

/**
 * Heatmap loss: cross-entropy of the normalised Gaussian target against the spatial softmax, averaged
 * over batch and keypoints, minus the target's own entropy (so it is the KL divergence: 0 at a perfect
 * fit, whatever sigma). targets [B, H, W, k] as from gaussianTargets.
 */
export function heatmapLoss(logits: tf.Tensor4D, targets: tf.Tensor4D): tf.Scalar {
  return tf.tidy(() => heatmapLossOfLogProb(spatialLogSoftmax(logits), targets));
}

/** heatmapLoss from spatialLogSoftmax's log-probabilities logp [B, k, H W]; targets [B, H, W, k]. */
export function heatmapLossOfLogProb(logp: tf.Tensor3D, targets: tf.Tensor4D): tf.Scalar {
  const [B, H, W, k] = targets.shape;
  return tf.tidy(() => {
    const t = tf.transpose(tf.reshape(targets, [B, H * W, k]), [0, 2, 1]);
    const tLogT = tf.mul(t, tf.log(tf.maximum(t, 1e-30)));
    return tf.div(tf.sum(tf.sub(tLogT, tf.mul(t, logp))), B * k) as tf.Scalar;
  });
}
