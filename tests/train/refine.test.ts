import { describe, expect, it } from 'vitest';
import { boxCorners } from '../../src/data/mesh';
import { PnpStatus } from '../../src/solver/status';
import { refinedBoxPx } from '../../src/train/refine';

const kI = [1, 0, 0, 0, 1, 0, 0, 0, 1];
const kK = [500, 0, 320, 0, 500, 240, 0, 0, 1];
const cube = boxCorners({ min: [-50, -50, -50], max: [50, 50, 50] });

describe('refinedBoxPx', () => {
  it('is the box of the outline projected with the first pose (a cube 1 m ahead, by hand)', () => {
    // The face nearest the camera (z = 950 mm) spans the most pixels: 320 +- 500 * 50 / 950.
    const box = refinedBoxPx(cube, { status: PnpStatus.Converged, R: kI, tMm: [0, 0, 1000] }, kK)!;
    const half = (500 * 50) / 950;
    expect(box[0]).toBeCloseTo(320 - half, 10);
    expect(box[1]).toBeCloseTo(240 - half, 10);
    expect(box[2]).toBeCloseTo(2 * half, 10);
    expect(box[3]).toBeCloseTo(2 * half, 10);
    // Moved 100 mm right: the box moves by 500 * 100 / 950 px on its near side.
    const moved = refinedBoxPx(cube, { status: PnpStatus.Converged, R: kI, tMm: [100, 0, 1000] }, kK)!;
    expect(moved[0]).toBeCloseTo(320 + (500 * 50) / 1050, 10);
    expect(moved[0] + moved[2]).toBeCloseTo(320 + (500 * 150) / 950, 10);
  });

  it('places no crop from a pose that cannot: not converged, a point at or behind the camera, not finite', () => {
    const ok = { status: PnpStatus.Converged, R: kI, tMm: [0, 0, 1000] };
    expect(refinedBoxPx(cube, ok, kK)).toBeDefined();
    for (const status of [PnpStatus.NotConverged, PnpStatus.BehindCamera, PnpStatus.IllConditioned, PnpStatus.Degenerate]) {
      expect(refinedBoxPx(cube, { ...ok, status }, kK)).toBeUndefined();
    }
    expect(refinedBoxPx(cube, { ...ok, tMm: [0, 0, 50] }, kK)).toBeUndefined(); // the near face at z = 0
    expect(refinedBoxPx(cube, { ...ok, tMm: [0, 0, 30] }, kK)).toBeUndefined();
    expect(refinedBoxPx(cube, { ...ok, tMm: [NaN, 0, 1000] }, kK)).toBeUndefined();
    expect(refinedBoxPx(cube, { ...ok, R: [NaN, 0, 0, 0, 1, 0, 0, 0, 1] }, kK)).toBeUndefined();
  });
});
