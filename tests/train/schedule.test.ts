/** Learning-rate and beta schedules: pure functions of the step, checked at their corners. */
import { describe, expect, it } from 'vitest';
import { makeConfig } from '../../src/train/config';
import { betaAt, learningRateAt } from '../../src/train/schedule';

describe('learningRateAt', () => {
  const o = { ...makeConfig('tiny').optim, lr: 1e-3, steps: 110, lrWarmupSteps: 10, minLrFactor: 0.1 };
  it('ramps linearly over the warm-up', () => {
    expect(learningRateAt(0, o)).toBeCloseTo(1e-4, 12);
    expect(learningRateAt(4, o)).toBeCloseTo(5e-4, 12);
  });
  it('peaks after the warm-up, halves the span at mid-decay, and ends at lr x minLrFactor', () => {
    expect(learningRateAt(10, o)).toBeCloseTo(1e-3, 12);
    expect(learningRateAt(60, o)).toBeCloseTo(1e-4 + 0.5 * 9e-4, 12);
    expect(learningRateAt(110, o)).toBeCloseTo(1e-4, 12);
    expect(learningRateAt(500, o)).toBeCloseTo(1e-4, 12);
  });
  it('never increases after the warm-up', () => {
    for (let s = 10; s < 110; s++) expect(learningRateAt(s + 1, o)).toBeLessThanOrEqual(learningRateAt(s, o));
  });
});

describe('betaAt', () => {
  const l = { ...makeConfig('tiny').loss, betaMax: 0.02, warmupSteps: 5, betaRampSteps: 4 };
  it('is 0 through the heatmap-only warm-up, then ramps linearly to betaMax', () => {
    expect([0, 4].map((s) => betaAt(s, l))).toEqual([0, 0]);
    expect(betaAt(5, l)).toBeCloseTo(0.005, 12);
    expect(betaAt(7, l)).toBeCloseTo(0.015, 12);
    expect(betaAt(8, l)).toBeCloseTo(0.02, 12);
    expect(betaAt(1000, l)).toBe(0.02);
  });
  it('jumps straight to betaMax without a ramp', () => {
    expect(betaAt(5, { ...l, betaRampSteps: 0 })).toBe(0.02);
  });
});
