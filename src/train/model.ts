/**
 * The keypoint-heatmap network: a compact fully convolutional encoder-decoder built with tf.layers, so
 * it saves as a TensorFlow.js Layers model (model.json + weights) that tf.loadLayersModel reads as is.
 *
 *   input [B, S, S, 3] (normalised RGB)
 *   stem   conv3x3/2 -> width                     1/2
 *   down0  conv3x3/2 -> 2 width, blocks x res     1/4  (skip)
 *   down_i conv3x3/2 -> x2 channels, blocks x res 1/(4 2^i), i = 1..depth
 *   up_i   nearest x2, conv1x1 to the skip's channels, add the skip, blocks x res   back to 1/4
 *   up_0   (heatmapStride 2) the same onto the stem's features                       1/2
 *   head   conv3x3 + relu -> conv1x1 -> k heatmap logits [B, S/stride, S/stride, k]
 *   conf   (optional) conv1x1 -> k, global average, sigmoid -> [B, k]
 *
 * Residual blocks: x + conv3x3(relu(conv3x3(x))), then relu; the second convolution starts at a small
 * scale so every block begins close to the identity (no normalisation layers: nothing differs between
 * training and inference, and export needs no moving statistics). Initialisation is seeded per layer.
 */
import * as tf from '@tensorflow/tfjs';
import { hashSeed } from '../data/rng';
import type { ModelConfig } from './config';

export const kInputName = 'crop';
export const kHeatmapOutput = 'heatmaps';
export const kConfidenceOutput = 'confidence';

class Builder {
  private layer = 0;
  constructor(private readonly seed: number) {}

  conv(x: tf.SymbolicTensor, filters: number, kernelSize: number, strides: number, name: string,
    activation: 'relu' | 'linear' = 'relu', gain = 1): tf.SymbolicTensor {
    // Never 0: tfjs's seeded random generators read a seed of 0 as "no seed" and draw from Math.random.
    const seed = 1 + (hashSeed(this.seed, 0x1a7e, this.layer++) % 2_147_483_646);
    const kernelInitializer = gain === 1
      ? tf.initializers.heNormal({ seed })
      : tf.initializers.varianceScaling({ scale: 2 * gain * gain, mode: 'fanIn', distribution: 'truncatedNormal', seed });
    return tf.layers.conv2d({
      filters, kernelSize, strides, padding: 'same', activation, kernelInitializer, biasInitializer: 'zeros', name,
    }).apply(x) as tf.SymbolicTensor;
  }

  res(x: tf.SymbolicTensor, channels: number, name: string): tf.SymbolicTensor {
    const y = this.conv(x, channels, 3, 1, `${name}_a`);
    const z = this.conv(y, channels, 3, 1, `${name}_b`, 'linear', 0.1);
    const sum = tf.layers.add({ name: `${name}_add` }).apply([x, z]) as tf.SymbolicTensor;
    return tf.layers.activation({ activation: 'relu', name: `${name}_relu` }).apply(sum) as tf.SymbolicTensor;
  }
}

/**
 * Builds the network for `keypoints` heatmaps. The same (config, keypoints, seed) gives the same
 * initial weights on every backend.
 */
export function buildModel(cfg: ModelConfig, keypoints: number, seed: number): tf.LayersModel {
  const b = new Builder(seed);
  const input = tf.input({ shape: [cfg.inputPx, cfg.inputPx, 3], name: kInputName });
  const ch = (level: number) => Math.min(cfg.maxChannels, cfg.width * 2 ** level);
  const stem = b.conv(input, ch(0), 3, 2, 'stem');
  let x = b.conv(stem, ch(1), 3, 2, 'down0');
  for (let j = 0; j < cfg.blocks; j++) x = b.res(x, ch(1), `down0_res${j}`);
  const skips: tf.SymbolicTensor[] = [];
  for (let i = 1; i <= cfg.depth; i++) {
    skips.push(x);
    x = b.conv(x, ch(i + 1), 3, 2, `down${i}`);
    for (let j = 0; j < cfg.blocks; j++) x = b.res(x, ch(i + 1), `down${i}_res${j}`);
  }
  if (cfg.heatmapStride === 2) skips.unshift(stem);
  const lowest = cfg.heatmapStride === 2 ? 0 : 1;
  for (let i = cfg.depth; i >= lowest; i--) {
    const skip = skips[i - lowest];
    const c = ch(i);
    x = tf.layers.upSampling2d({ size: [2, 2], name: `up${i}_resize` }).apply(x) as tf.SymbolicTensor;
    x = b.conv(x, c, 1, 1, `up${i}_proj`, 'linear');
    x = tf.layers.add({ name: `up${i}_skip` }).apply([x, skip]) as tf.SymbolicTensor;
    x = tf.layers.activation({ activation: 'relu', name: `up${i}_relu` }).apply(x) as tf.SymbolicTensor;
    for (let j = 0; j < cfg.blocks; j++) x = b.res(x, c, `up${i}_res${j}`);
  }
  const feat = b.conv(x, ch(lowest), 3, 1, 'head');
  const heat = b.conv(feat, keypoints, 1, 1, kHeatmapOutput, 'linear');
  const outputs = [heat];
  if (cfg.confidence) {
    let c = b.conv(feat, keypoints, 1, 1, 'confidence_logits', 'linear');
    c = tf.layers.globalAveragePooling2d({ name: 'confidence_pool' }).apply(c) as tf.SymbolicTensor;
    c = tf.layers.activation({ activation: 'sigmoid', name: kConfidenceOutput }).apply(c) as tf.SymbolicTensor;
    outputs.push(c);
  }
  return tf.model({ inputs: input, outputs, name: 'poselab_heatmap_net' });
}

export interface NetOutputs {
  /** [B, S/stride, S/stride, k] heatmap logits */
  logits: tf.Tensor4D;
  /** crop px per heatmap cell (the model's heatmapStride) */
  stride: number;
  /** [B, k] in [0, 1], when the model has a confidence head */
  confidence?: tf.Tensor2D;
}

/** Runs the model on a normalised batch [B, S, S, 3]. Differentiable (use inside a gradient scope). */
export function runModel(model: tf.LayersModel, x: tf.Tensor4D): NetOutputs {
  const out = model.apply(x, { training: true }) as tf.Tensor | tf.Tensor[];
  const logits = (Array.isArray(out) ? out[0] : out) as tf.Tensor4D;
  const stride = x.shape[1] / logits.shape[1];
  return { logits, stride, confidence: Array.isArray(out) ? out[1] as tf.Tensor2D | undefined : undefined };
}

/** The trainable variables, in the model's weight order (the order of checkpoints and optimiser state). */
export function trainableVariables(model: tf.LayersModel): tf.Variable[] {
  return model.trainableWeights.map((w) => w.read() as tf.Variable);
}

export function parameterCount(model: tf.LayersModel): number {
  return model.trainableWeights.reduce((n, w) => n + w.shape.reduce<number>((a, b) => a * (b ?? 1), 1), 0);
}

/** (x - mean) / std per channel, on RGB in [0, 1], [B, S, S, 3]. */
export function normalise(rgb: tf.Tensor4D, mean: readonly number[], std: readonly number[]): tf.Tensor4D {
  return tf.tidy(() => tf.div(tf.sub(rgb, tf.tensor1d(mean as number[])), tf.tensor1d(std as number[])));
}
