import { describe, expect, it } from 'vitest';
import { checkProblem, distinctPoints, inputRoundingRatio, kCoincidentRatio, kF32InputEps, kF64InputEps, kInputResolutionTol, PnpStatus, pnpStatusName } from '../../src/solver/status';
import { cameraScale } from '../../src/solver/normalize';
import { kLinemodK, makeProblems } from '../../src/synthetic/pnpProblems';

const K = Float64Array.from(kLinemodK);

describe('PnpStatus', () => {
  it('has the numbers of docs/pnp-maths.md and names for them', () => {
    expect(PnpStatus, 'PnpStatus codes').toEqual({
      Converged: 0, NotConverged: 1, InvalidInput: 2, TooFewPoints: 3, Degenerate: 4, BehindCamera: 5, IllConditioned: 6,
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

  it('InvalidInput for NaN/Inf in K, a weight, or a point with w > 0, not in a point with w = 0', () => {
    for (const bad of [NaN, Infinity, -Infinity]) {
      const K2 = K.slice(); K2[4] = bad;
      expect(checkProblem(x, X, K2, null, 8), `K[4] = ${bad}`).toBe(PnpStatus.InvalidInput);
      const x2 = x.slice(); x2[5] = bad;
      expect(checkProblem(x2, X, K, null, 8), `pts2d[5] = ${bad}`).toBe(PnpStatus.InvalidInput);
      const X2 = X.slice(); X2[7] = bad;
      expect(checkProblem(x, X2, K, null, 8), `pts3d[7] = ${bad}`).toBe(PnpStatus.InvalidInput);
      const w = new Float64Array(8).fill(1); w[2] = bad;
      expect(checkProblem(x, X, K, w, 8), `weights[2] = ${bad}`).toBe(PnpStatus.InvalidInput);
      const w0 = new Float64Array(8).fill(1); w0[2] = 0;
      const X3 = X.slice(); X3[6] = bad; // point 2
      expect(checkProblem(x, X3, K, w0, 8), `pts3d of a w = 0 point = ${bad}`).toBe(-1);
    }
  });

  it('InvalidInput for a negative weight and a singular K', () => {
    const w = new Float64Array(8).fill(1); w[3] = -0.5;
    expect(checkProblem(x, X, K, w, 8), 'weights[3] = -0.5').toBe(PnpStatus.InvalidInput);
    const singular = Float64Array.of(500, 0, 320, 0, 0, 240, 0, 0, 1);
    expect(checkProblem(x, X, singular, null, 8), 'K with a zero fy (singular)').toBe(PnpStatus.InvalidInput);
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

  it('Degenerate for fewer than 4 distinct points with w > 0, however many rows', () => {
    // Four rows, two of them the same point (a repeated correspondence): 3 distinct points, P3P's up to 4 poses.
    const p4 = makeProblems({ B: 1, n: 4, seed: 2 });
    const X4 = p4.pts3d.slice(); X4.set(X4.subarray(3, 6), 9);
    const x4 = p4.pts2d.slice(); x4.set(x4.subarray(2, 4), 6);
    expect(checkProblem(x4, X4, K, null, 4), 'points 1 and 3 the same').toBe(PnpStatus.Degenerate);
    // Eight rows at three places, each place seen with its own 2D noise.
    const X8 = new Float64Array(24), x8 = x.slice();
    for (let i = 0; i < 8; i++) X8.set(X.subarray(3 * (i % 3), 3 * (i % 3) + 3), 3 * i);
    x8[6] += 0.5;
    expect(checkProblem(x8, X8, K, null, 8), 'eight rows at three places').toBe(PnpStatus.Degenerate);
    // A fourth place with weight 0 does not exist; with a weight it makes the problem solvable.
    X8.set([X[9], X[10], X[11]], 21);
    const w = Float64Array.of(1, 1, 1, 1, 1, 1, 1, 0);
    expect(checkProblem(x8, X8, K, w, 8), 'the fourth place weighted 0').toBe(PnpStatus.Degenerate);
    w[7] = 0.2;
    expect(checkProblem(x8, X8, K, w, 8), 'the fourth place weighted 0.2').toBe(-1);
  });

  it('counts points within kCoincidentRatio of the RMS spread as one, and points beyond it as two', () => {
    // Unit tetrahedron-like set, RMS spread about 0.66; the fourth point is first 0.5x, then 2x the tolerance from point 0.
    const base = Float64Array.of(0, 0, 0, 1, 0, 0, 0, 1, 0);
    const minDist2 = 1e-6;
    for (const [f, want] of [[0.5, 3], [2, 4]] as const) {
      const d = f * Math.sqrt(minDist2);
      const pts = Float64Array.of(...base, d, 0, 0);
      expect(distinctPoints(pts, null, 4, minDist2), `fourth point ${f} x the tolerance away`).toBe(want);
    }
    // Counted up to 4 only: checkProblem needs no more.
    expect(distinctPoints(X, null, 8, minDist2), 'eight distinct points').toBe(4);
    expect(kCoincidentRatio, 'the length ratio of the 1e-6 eigenvalue ratio').toBeCloseTo(1e-3, 15);
    // Through checkProblem: a fourth point 0.3 x or 3 x kCoincidentRatio of the RMS spread from point 1 (the
    // spread of the three points and a copy of point 1: a step of 3e-3 of it changes it by far less than those factors).
    const p4 = makeProblems({ B: 1, n: 4, seed: 3 });
    const rows = [0, 1, 2, 1].map((i) => Array.from(p4.pts3d.subarray(3 * i, 3 * i + 3)));
    const c = [0, 1, 2].map((a) => rows.reduce((acc, r) => acc + r[a], 0) / 4);
    const rms = Math.sqrt(rows.reduce((acc, r) => acc + (r[0] - c[0]) ** 2 + (r[1] - c[1]) ** 2 + (r[2] - c[2]) ** 2, 0) / 4);
    for (const [f, want] of [[0.3, PnpStatus.Degenerate], [3, -1]] as const) {
      const X4 = p4.pts3d.slice();
      X4.set([X4[3] + f * kCoincidentRatio * rms, X4[4], X4[5]], 9);
      expect(checkProblem(p4.pts2d, X4, K, null, 4), `fourth point ${f} x kCoincidentRatio of the spread from point 1`).toBe(want);
    }
  });
});

describe('inputRoundingRatio', () => {
  it('is max |coordinate| over the weighted RMS spread, for the 3D and the 2D points, by hand', () => {
    // 3D: centroid (10, 0, 0), spread sqrt(mean |d|^2) = 1, max |X| = 11. 2D: centroid (100, 0), spread 2, max 102.
    const X = Float64Array.of(11, 0, 0, 9, 0, 0, 10, 1, 0, 10, -1, 0);
    const x = Float64Array.of(102, 0, 98, 0, 100, 2, 100, -2);
    expect(inputRoundingRatio(x, X, null, 4)).toBeCloseTo(51, 12);
    // A zero-weight point does not count, however far away it is.
    const X5 = Float64Array.of(...X, 1e9, 0, 0), x5 = Float64Array.of(...x, 0, 0);
    expect(inputRoundingRatio(x5, X5, Float64Array.of(1, 1, 1, 1, 0), 5)).toBeCloseTo(51, 12);
    // Moving the 3D points 1e6 away makes the 3D ratio (1e6 + 11) / 1 the larger.
    expect(inputRoundingRatio(x, X.map((v, j) => (j % 3 === 0 ? v + 1e6 : v)), null, 4)).toBeCloseTo(1e6 + 11, 6);
  });

  it('flags UTM metres in float32 and not in float64, nor LINEMOD problems in float32', () => {
    const p = makeProblems({ B: 1, n: 8, seed: 3 });
    const lm = inputRoundingRatio(p.pts2d, p.pts3d, null, 8);
    expect(kF32InputEps * lm, 'LINEMOD-like problem, float32').toBeLessThan(kInputResolutionTol / 20);
    const utm = p.pts3d.map((v, j) => v * 1e-3 + [316622, 7405050, 929][j % 3]); // the object in metres at UTM
    const r = inputRoundingRatio(p.pts2d, utm, null, 8);
    expect(kF32InputEps * r, 'UTM metres, float32').toBeGreaterThan(kInputResolutionTol * 100);
    expect(kF64InputEps * r, 'UTM metres, float64').toBeLessThan(kInputResolutionTol / 1000);
  });
});

describe('cameraScale', () => {
  it('is the exact power of two that brings max |K[2][j]| into [1, 2), 1 for an ordinary K', () => {
    expect(cameraScale(K), 'LINEMOD K').toBe(1);
    expect(cameraScale(K.map((v) => v * 2 ** -70)), 'K x 2^-70').toBe(2 ** 70);
    expect(cameraScale(K.map((v) => v * 3)), 'K x 3').toBe(0.5);
    expect(cameraScale(K.map((v) => v * 1e20)) * 1e20, 'K x 1e20').toBeGreaterThanOrEqual(1);
    expect(cameraScale(K.map((v) => v * 1e20)) * 1e20, 'K x 1e20').toBeLessThan(2);
    expect(cameraScale(Float64Array.of(1, 0, 0, 0, 1, 0, 0, 0, 0)), 'zero third row').toBe(1);
    expect(cameraScale(Float64Array.of(1, 0, 0, 0, 1, 0, 0, 0, NaN)), 'NaN').toBe(1);
    // Just below and at a power of two, where log2 alone may round the wrong way.
    expect(cameraScale(Float64Array.of(1, 0, 0, 0, 1, 0, 0, 0, 4 * (1 - 2 ** -52))), 'just below 4').toBe(0.5);
    expect(cameraScale(Float64Array.of(1, 0, 0, 0, 1, 0, 0, 0, 4)), 'exactly 4').toBe(0.25);
  });
});
