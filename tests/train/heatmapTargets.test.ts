/**
 * Heatmap frames and Gaussian targets, in float maths, against values that can be written down: cell
 * centres, maps that sum to 1 and peak at the keypoint, and a target whose expected cell centre is its
 * keypoint, near the borders too.
 */
import { describe, expect, it } from 'vitest';
import { cellToPx, gaussianTargets, pxToCell } from '../../src/train/heatmapTargets';

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

  it('the expected cell centre of a target (what soft-argmax reads) is its keypoint, near the borders too (the cut tail is made up for)', () => {
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
