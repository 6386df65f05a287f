/**
 * Soft-argmax (DSNT) and the KL heatmap loss, against values that can be written down: a one-hot map, a
 * Gaussian target read back, and a zero loss at a perfect fit. On the cpu backend (pure tensor maths; no
 * WebGPU needed).
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { useCpuBackend } from '../../src/kernels/setup';
import { heatmapLoss, softArgmax } from '../../src/train/heatmaps';
import { cellToPx, gaussianTargets } from '../../src/train/heatmapTargets';

beforeAll(async () => {
  await useCpuBackend();
});

describe('softArgmax', () => {
  it('a near one-hot map gives that cell centre in crop px', () => {
    const H = 6, W = 5;
    const logits = new Float32Array(H * W * 2).fill(-50);
    logits[(4 * W + 1) * 2 + 0] = 50; // keypoint 0 at column 1, row 4
    logits[(0 * W + 3) * 2 + 1] = 50; // keypoint 1 at column 3, row 0
    const kp = softArgmax(tf.tensor4d(logits, [1, H, W, 2]), 4);
    expect(kp.shape).toEqual([1, 2, 2]);
    const v = kp.dataSync();
    expect(v[0]).toBeCloseTo(cellToPx(1, 4), 4);
    expect(v[1]).toBeCloseTo(cellToPx(4, 4), 4);
    expect(v[2]).toBeCloseTo(cellToPx(3, 4), 4);
    expect(v[3]).toBeCloseTo(cellToPx(0, 4), 4);
  });

  it('recovers a sub-cell keypoint from log of its Gaussian target (symmetric, away from the borders)', () => {
    const side = 16;
    const kp = [23.3, 37.9, 30.05, 28.6];
    const t = gaussianTargets(kp, 1, 2, side, 1.5, 4);
    const out = softArgmax(tf.log(tf.tensor4d(t, [1, side, side, 2])) as tf.Tensor4D, 4).dataSync();
    kp.forEach((v, i) => expect(out[i]).toBeCloseTo(v, 2));
  });

  it('is differentiable: moving mass to the right moves x right', () => {
    const g = tf.grad((l: tf.Tensor) => tf.sum(tf.slice(softArgmax(l as tf.Tensor4D, 4), [0, 0, 0], [1, 1, 1])))(tf.zeros([1, 2, 2, 1]));
    const d = g.dataSync(); // cells (0,0) (1,0) (0,1) (1,1); x of cell 1 is larger
    expect(d[1]).toBeGreaterThan(0);
    expect(d[0]).toBeLessThan(0);
  });
});

describe('heatmapLoss', () => {
  it('is the KL divergence: 0 when the softmax equals the target, positive otherwise', () => {
    const side = 8;
    const t = tf.tensor4d(gaussianTargets([10, 12, 20, 3], 1, 2, side, 1, 4), [1, side, side, 2]);
    expect(heatmapLoss(tf.log(t) as tf.Tensor4D, t).dataSync()[0]).toBeCloseTo(0, 5);
    expect(heatmapLoss(tf.zeros([1, side, side, 2]) as tf.Tensor4D, t).dataSync()[0]).toBeGreaterThan(0.5);
  });

  it('of uniform logits against a one-hot target is log(H W)', () => {
    const target = new Float32Array(16);
    target[5] = 1;
    const l = heatmapLoss(tf.zeros([1, 4, 4, 1]) as tf.Tensor4D, tf.tensor4d(target, [1, 4, 4, 1])).dataSync()[0];
    expect(l).toBeCloseTo(Math.log(16), 5);
  });
});
