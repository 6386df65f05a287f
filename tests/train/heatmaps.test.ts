/**
 * Heatmap frames, Gaussian targets, soft-argmax (DSNT) and the KL heatmap loss, against values that can
 * be written down: cell centres, a one-hot map, a target whose expectation is the keypoint, and a zero
 * loss at a perfect fit. On the cpu backend (pure tensor maths; no WebGPU needed).
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { useCpuBackend } from '../../src/kernels/setup';
import { heatmapLoss, softArgmax } from '../../src/train/heatmaps';
import { cellToPx, gaussianTargets, pxToCell } from '../../src/train/heatmapTargets';

beforeAll(async () => {
  await useCpuBackend();
});

describe('heatmap frames', () => {
  it('cell i is centred on crop px 4 i + 1.5 (OpenCV pixel centres, stride 4)', () => {
    expect(cellToPx(0, 4)).toBe(1.5);
    expect(cellToPx(3, 4)).toBe(13.5);
    expect(pxToCell(13.5, 4)).toBe(3);
    expect(pxToCell(cellToPx(2.25, 4), 4)).toBeCloseTo(2.25, 14);
  });

  it('at stride 2, cell i is centred on crop px 2 i + 0.5', () => {
    expect(cellToPx(0, 2)).toBe(0.5);
    expect(cellToPx(3, 2)).toBe(6.5);
    expect(pxToCell(6.5, 2)).toBe(3);
  });
});

describe('gaussianTargets', () => {
  it('each map sums to 1 and peaks at the keypoint cell', () => {
    const side = 8;
    const kp = [cellToPx(2, 4), cellToPx(5, 4), cellToPx(6, 4), cellToPx(1, 4)]; // keypoint 0 at cell (2, 5), 1 at (6, 1)
    const t = gaussianTargets(kp, 1, 2, side, 1, 4);
    for (let p = 0; p < 2; p++) {
      let sum = 0, best = -1, arg = -1;
      for (let c = 0; c < side * side; c++) {
        const v = t[c * 2 + p];
        sum += v;
        if (v > best) { best = v; arg = c; }
      }
      expect(sum).toBeCloseTo(1, 6);
      expect(arg).toBe(p === 0 ? 5 * side + 2 : 1 * side + 6);
    }
  });

  it('soft-argmax of a target is its keypoint, near the borders too (the cut tail is made up for)', () => {
    // Expected cell centre of each map against the keypoint, in crop px, at both strides and sigmas;
    // the keypoints run from 0.05 cells inside the outermost cell centre to the middle.
    for (const [stride, side, sigma] of [[4, 16, 1], [2, 32, 2], [4, 8, 1.5]] as const) {
      const cells = [0.05, 0.3, 0.75, 1.2, 2, side / 2 - 0.4, side - 1.75, side - 1.05];
      const kp: number[] = [];
      for (const cx of cells) kp.push(cellToPx(cx, stride), cellToPx(side - 1 - cx, stride));
      const k = cells.length;
      const t = gaussianTargets(kp, 1, k, side, sigma, stride);
      for (let p = 0; p < k; p++) {
        let ex = 0, ey = 0;
        for (let y = 0; y < side; y++) {
          for (let x = 0; x < side; x++) {
            const v = t[(y * side + x) * k + p];
            ex += v * cellToPx(x, stride);
            ey += v * cellToPx(y, stride);
          }
        }
        expect(Math.abs(ex - kp[2 * p])).toBeLessThan(1e-4);
        expect(Math.abs(ey - kp[2 * p + 1])).toBeLessThan(1e-4);
      }
    }
  });

  it('away from the borders a target is the Gaussian centred on its keypoint', () => {
    // Cell (8, 8) of a 16 x 16 map, keypoint 0.25 cells right of it: neighbours' ratios by hand.
    const side = 16;
    const t = gaussianTargets([cellToPx(8.25, 4), cellToPx(8, 4)], 1, 1, side, 1, 4);
    const at = (x: number, y: number) => t[y * side + x];
    expect(at(9, 8) / at(8, 8)).toBeCloseTo(Math.exp(-(0.75 ** 2 - 0.25 ** 2) / 2), 6);
    expect(at(8, 10) / at(8, 8)).toBeCloseTo(Math.exp(-4 / 2), 6);
    expect(at(6, 8) / at(8, 8)).toBeCloseTo(Math.exp(-(2.25 ** 2 - 0.25 ** 2) / 2), 6);
  });

  it('a keypoint far outside still gets a finite map, its mass on the nearest border', () => {
    const t = gaussianTargets([-400, 10], 1, 1, 8, 1, 4);
    expect(t.every(Number.isFinite)).toBe(true);
    let col0 = 0;
    for (let y = 0; y < 8; y++) col0 += t[y * 8];
    expect(col0).toBeCloseTo(1, 4);
  });
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
