import { describe, expect, it } from 'vitest';
import { checkProblem, PnpStatus, pnpStatusName } from '../../src/solver/status';
import { kLinemodK, makeProblems } from '../helpers/problems';

const K = Float64Array.from(kLinemodK);

describe('PnpStatus', () => {
  it('has the numbers of docs/pnp-maths.md and names for them', () => {
    expect(PnpStatus, 'PnpStatus codes').toEqual({
      Converged: 0, NotConverged: 1, NonFinite: 2, TooFewPoints: 3, Degenerate: 4, BehindCamera: 5,
    });
    for (const [name, code] of Object.entries(PnpStatus)) expect(pnpStatusName(code), `name of code ${code}`).toBe(name);
    expect(pnpStatusName(9), 'name of an unknown code').toBe('Unknown(9)');
  });
});

describe('checkProblem', () => {
  const pr = makeProblems({ B: 1, n: 8, seed: 1 });
  const x = pr.pts2d, X = pr.pts3d;

  it('accepts a good problem (-1), planar or not', () => {
    expect(checkProblem(x, X, K, null, 8), 'status of a good non-planar problem').toBe(-1);
    const pl = makeProblems({ B: 1, n: 8, seed: 1, planar: true });
    expect(checkProblem(pl.pts2d, pl.pts3d, K, null, 8), 'status of a good planar problem').toBe(-1);
  });

  it('NonFinite for NaN/Inf in K, a weight, or a point with w > 0, not in a point with w = 0', () => {
    for (const bad of [NaN, Infinity, -Infinity]) {
      const K2 = K.slice(); K2[4] = bad;
      expect(checkProblem(x, X, K2, null, 8), `K[4] = ${bad}`).toBe(PnpStatus.NonFinite);
      const x2 = x.slice(); x2[5] = bad;
      expect(checkProblem(x2, X, K, null, 8), `pts2d[5] = ${bad}`).toBe(PnpStatus.NonFinite);
      const X2 = X.slice(); X2[7] = bad;
      expect(checkProblem(x, X2, K, null, 8), `pts3d[7] = ${bad}`).toBe(PnpStatus.NonFinite);
      const w = new Float64Array(8).fill(1); w[2] = bad;
      expect(checkProblem(x, X, K, w, 8), `weights[2] = ${bad}`).toBe(PnpStatus.NonFinite);
      const w0 = new Float64Array(8).fill(1); w0[2] = 0;
      const X3 = X.slice(); X3[6] = bad; // point 2
      expect(checkProblem(x, X3, K, w0, 8), `pts3d of a w = 0 point = ${bad}`).toBe(-1);
    }
  });

  it('NonFinite (invalid input) for a negative weight and a singular K', () => {
    const w = new Float64Array(8).fill(1); w[3] = -0.5;
    expect(checkProblem(x, X, K, w, 8), 'weights[3] = -0.5').toBe(PnpStatus.NonFinite);
    const singular = Float64Array.of(500, 0, 320, 0, 0, 240, 0, 0, 1);
    expect(checkProblem(x, X, singular, null, 8), 'K with a zero fy (singular)').toBe(PnpStatus.NonFinite);
  });

  it('TooFewPoints below 4 points with w > 0', () => {
    expect(checkProblem(x, X, K, null, 3), 'n = 3').toBe(PnpStatus.TooFewPoints);
    const w = Float64Array.of(1, 0, 0, 1, 0, 1, 0, 0);
    expect(checkProblem(x, X, K, w, 8), 'three non-zero weights').toBe(PnpStatus.TooFewPoints);
    w[7] = 1e-3;
    expect(checkProblem(x, X, K, w, 8), 'four non-zero weights').toBe(-1);
  });

  it('Degenerate for coincident and collinear points', () => {
    const same = new Float64Array(24);
    for (let i = 0; i < 8; i++) same.set([10, 20, 30], 3 * i);
    expect(checkProblem(x, same, K, null, 8), 'coincident points').toBe(PnpStatus.Degenerate);
    const line = new Float64Array(24);
    for (let i = 0; i < 8; i++) line.set([10 + 7 * i, 20 - 3 * i, 30 + 11 * i], 3 * i);
    expect(checkProblem(x, line, K, null, 8), 'collinear points').toBe(PnpStatus.Degenerate);
    line[4] += 1e-3; // 1 um off a ~100 mm line: still degenerate by the 1e-6 ratio
    expect(checkProblem(x, line, K, null, 8), 'nearly collinear points').toBe(PnpStatus.Degenerate);
  });
});
