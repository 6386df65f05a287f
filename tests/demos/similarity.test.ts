/**
 * The similarity alignment that structure from motion is measured with (src/demos/similarity), against
 * constructed cases with known answers: an exact similarity is undone to rounding, a reflection is not
 * (no similarity is a mirror), and noise leaves an error of the noise's size.
 */
import { describe, expect, it } from 'vitest';
import { alignSimilarity, applySimilarity, structureError } from '../../src/demos/similarity';
import { demoRng } from '../../src/demos/scenes';
import { so3Exp } from '../../src/solver/so3';

function cloud(n: number, seed: number): Float64Array {
  const rng = demoRng(seed);
  return Float64Array.from({ length: 3 * n }, () => rng.uniform(-100, 100));
}

describe('similarity alignment', () => {
  it('recovers s, R, t of an exact similarity and reports zero structure error', () => {
    const n = 12;
    const src = cloud(n, 1);
    const R = new Float64Array(9);
    so3Exp(R, [0.4, -1.1, 2.3], 0);
    const truth = { s: 2.5, R, t: Float64Array.of(10, -20, 300) };
    const dst = applySimilarity(new Float64Array(3 * n), truth, src, n);
    const got = alignSimilarity(src, dst, n);
    expect(got.s).toBeCloseTo(2.5, 10);
    for (let j = 0; j < 9; j++) expect(got.R[j], `R[${j}]`).toBeCloseTo(R[j], 10);
    for (let j = 0; j < 3; j++) expect(got.t[j], `t[${j}]`).toBeCloseTo(truth.t[j], 8);
    expect(structureError(src, dst, n).rms).toBeLessThan(1e-9);
  });

  it('does not undo a reflection, and measures noise at its own size', () => {
    const n = 200;
    const truth = cloud(n, 2);
    const mirrored = Float64Array.from(truth, (v, j) => (j % 3 === 0 ? -v : v));
    expect(structureError(mirrored, truth, n).relative, 'a mirror image is far from the truth').toBeGreaterThan(0.3);
    const rng = demoRng(3);
    const noisy = Float64Array.from(truth, (v) => v + rng.normal());
    // Per point, three unit-variance coordinates: RMS distance about sqrt(3), less what alignment absorbs.
    const rms = structureError(noisy, truth, n).rms;
    expect(rms).toBeGreaterThan(1.5);
    expect(rms).toBeLessThan(1.9);
  });

  it('names the argument whose size is wrong', () => {
    expect(() => alignSimilarity(new Float64Array(9), new Float64Array(6), 3)).toThrow('alignSimilarity: dst must hold (n, 3) = (3, 3) values, got 6');
  });
});
