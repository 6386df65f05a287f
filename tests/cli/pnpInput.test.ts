import { describe, expect, it } from 'vitest';
import { centredGradK, centrePts2d, centrePts3d, parsePnpProblems, scaleWeights, sumOverBatch } from '../../src/cli/pnpInput';
import { projectPoints } from '../../src/solver/projection';

const K = [[500, 0, 320], [0, 500, 240], [0, 0, 1]];
const pts2d = [[[1, 2], [3, 4], [5, 6], [7, 8]]];
const pts3d = [[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]];

describe('parsePnpProblems', () => {
  it('reads shared and per-problem shapes and flattens row-major', () => {
    const p = parsePnpProblems({ pts2d, pts3d, K, initPose: [[0, 0, 0, 0, 0, 1]] });
    expect([p.B, p.n, p.sharedPts3d, p.sharedK]).toEqual([1, 4, true, true]);
    expect(Array.from(p.pts2d)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(Array.from(p.K)).toEqual([500, 0, 320, 0, 500, 240, 0, 0, 1]);
    const q = parsePnpProblems({ pts2d, pts3d: [pts3d], K: [K] });
    expect([q.sharedPts3d, q.sharedK]).toEqual([false, false]);
  });

  it('keeps float64: UTM northings survive to the last centimetre digit', () => {
    const p = parsePnpProblems({ pts2d, pts3d: [[316603.457, 7405071.551, 928.907], [1, 0, 0], [0, 1, 0], [0, 0, 1]], K });
    // float32 would hold 7405071.5 (a step of 0.5 m at this magnitude).
    expect(Array.from(p.pts3d.subarray(0, 3))).toEqual([316603.457, 7405071.551, 928.907]);
  });

  it('centrePts3d moves each problem to the mean of its finite points with w > 0, in float64', () => {
    const X = [[7405000.25, 1, 2], [7405002.25, 3, 4], [7405004.25, 5, 6], [NaN, 0, 0]];
    const p = parsePnpProblems({ pts2d: [[[1, 2], [3, 4], [5, 6], [7, 8]], [[1, 2], [3, 4], [5, 6], [7, 8]]],
      pts3d: [X, X.map((r) => r.map((v) => v + 10))], K, weights: [[1, 1, 1, 0], [1, 0, 1, 0]] });
    const { pts3d, c } = centrePts3d(p);
    expect(Array.from(c), 'problem 0 averages points 0-2, problem 1 points 0 and 2').toEqual([7405002.25, 3, 4, 7405012.25, 13, 14]);
    expect(Array.from(pts3d.subarray(0, 9))).toEqual([-2, -2, -2, 0, 0, 0, 2, 2, 2]);
    expect(Array.from(pts3d.subarray(12, 15))).toEqual([-2, -2, -2]);
    expect(Array.from(p.pts3d.subarray(0, 3)), 'the input is left alone').toEqual([7405000.25, 1, 2]);
    // A shared pts3d whose problems weight different points: each problem about its own points' mean.
    const two = [[0, 0, 0], [2, 0, 0], [1e6, 0, 0], [1e6 + 4, 0, 0]];
    const q = parsePnpProblems({ pts2d: [[[1, 2], [3, 4], [5, 6], [7, 8]], [[1, 2], [3, 4], [5, 6], [7, 8]]],
      pts3d: two, K, weights: [[1, 1, 0, 0], [0, 0, 1, 1]] });
    const qc = centrePts3d(q);
    expect(Array.from(qc.c), 'problem 0 about (1, 0, 0), problem 1 about (1e6 + 2, 0, 0)').toEqual([1, 0, 0, 1e6 + 2, 0, 0]);
    expect(qc.pts3d.length, 'per problem: [B][n][3]').toBe(24);
    expect(Array.from(qc.pts3d.subarray(12, 24))).toEqual([-1e6 - 2, 0, 0, -1e6, 0, 0, -2, 0, 0, 2, 0, 0]);
  });

  it('centrePts2d moves each problem\'s pixels to their weighted centroid and K with them: every projection moves by the same c', () => {
    const x = [[[300001, 200002], [300005, 200004], [300009, 200012], [1e9, 1e9]], [[10, 20], [30, 40], [50, 60], [70, 80]]];
    const Kb = [[800, 0.5, 300010], [0, 790, 200020], [0, 0, 1]];
    const p = parsePnpProblems({ pts2d: x, pts3d, K: Kb, weights: [[1, 1, 1, 0], [1, 1, 1, 1]] });
    const { pts2d: xc, K: Kc, c } = centrePts2d(p);
    expect(Array.from(c), 'problem 0: points 0-2 (point 3 has weight 0); problem 1: all four').toEqual([300005, 200006, 40, 50]);
    expect(Array.from(xc.subarray(0, 6))).toEqual([-4, -4, 0, -2, 4, 6]);
    expect(Kc.length, 'a K per problem, K being shared').toBe(18);
    // Any pose: pi(K', R X + t) = pi(K, R X + t) - c, problem by problem.
    const pose = Float64Array.of(0.1, -0.2, 0.3, 5, -3, 900, -0.4, 0.2, 0.1, -2, 1, 700);
    const before = projectPoints(new Float64Array(16), p.pts3d, pose, p.K, 2, 4, true, true);
    const after = projectPoints(new Float64Array(16), p.pts3d, pose, Kc, 2, 4, true, false);
    for (let j = 0; j < 16; j++) {
      const b = Math.floor(j / 8);
      expect(after[j], `coordinate ${j}`).toBeCloseTo(before[j] - c[2 * b + (j % 2)], 6);
    }
  });

  it('centredGradK is T^T dL/dK\': the chain rule through K\' = T K, summed over the batch for a shared K', () => {
    // <dL/dK', T dK> = <T^T dL/dK', dK> for every dK: checked on random dK, per problem and shared.
    const c = Float64Array.of(3e5, 2e5, -40, 7);
    const g = Float64Array.from({ length: 18 }, (_, j) => Math.sin(3 * j + 1));
    const dK = Float64Array.from({ length: 9 }, (_, j) => Math.cos(5 * j + 2));
    const TdK = (b: number) => [0, 1, 2, 3, 4, 5, 6, 7, 8].map((j) => dK[j] - (j < 3 ? c[2 * b] * dK[6 + j] : j < 6 ? c[2 * b + 1] * dK[3 + j] : 0));
    const lhs = (b: number) => TdK(b).reduce((s, v, j) => s + g[9 * b + j] * v, 0);
    const per = centredGradK(g, c, 2);
    for (let b = 0; b < 2; b++) {
      const rhs = Array.from(per.subarray(9 * b, 9 * b + 9)).reduce((s, v, j) => s + v * dK[j], 0);
      expect(rhs, `problem ${b}`).toBeCloseTo(lhs(b), 4);
    }
    const shared = sumOverBatch(centredGradK(g, c, 2), 2, true);
    expect(shared.length).toBe(9);
    expect(Array.from(shared).reduce((s, v, j) => s + v * dK[j], 0), 'shared K: the sum over problems').toBeCloseTo(lhs(0) + lhs(1), 4);
  });

  it('scaleWeights brings each problem\'s largest weight into [0.5, 1) by an exact power of two', () => {
    const w = Float64Array.of(1e-20, 3e-20, 0, 2e-20, 5, 1e20, 1, 0, -1, 0, 0, 0);
    const { weights, factor } = scaleWeights(w, 3, 4);
    expect(Math.max(...weights.subarray(0, 4))).toBeGreaterThanOrEqual(0.5);
    expect(Math.max(...weights.subarray(0, 4))).toBeLessThan(1);
    expect(Math.max(...weights.subarray(4, 8))).toBeGreaterThanOrEqual(0.5);
    expect(Math.max(...weights.subarray(4, 8))).toBeLessThan(1);
    for (let b = 0; b < 2; b++) expect(Number.isInteger(Math.log2(factor[b])), `factor ${factor[b]} a power of two`).toBe(true);
    // Exact: scaled back, every weight is the one given.
    for (let j = 0; j < 8; j++) expect(weights[j] / factor[Math.floor(j / 4)], `weight ${j}`).toBe(w[j]);
    expect(factor[2], 'no positive weight: left alone (the solver reports the problem)').toBe(1);
    expect(Array.from(weights.subarray(8))).toEqual([-1, 0, 0, 0]);
  });

  it('passes a negative weight to the solver, whose status for that problem is InvalidInput', () => {
    const p = parsePnpProblems({ pts2d, pts3d, K, weights: [[1, 1, -1, 1]] });
    expect(Array.from(p.weights!)).toEqual([1, 1, -1, 1]);
  });

  it('reads null as NaN, for the solver to report as non-finite', () => {
    const p = parsePnpProblems({ pts2d: [[[1, null], [3, 4], [5, 6], [7, 8]]], pts3d, K });
    expect(Number.isNaN(p.pts2d[1])).toBe(true);
  });

  it('takes a pinhole K up to a positive scale, with its zeros off by rounding (a K that went through arithmetic)', () => {
    for (const k of [[[1000, 0, 640], [0, 1000, 480], [0, 0, 2]], [[500, 0, 320], [2.7e-17, 500, 240], [-1.1e-16, 1e-12, 0.9999999999999999]]]) {
      expect(Array.from(parsePnpProblems({ pts2d, pts3d, K: k }).K), JSON.stringify(k)).toEqual(k.flat());
    }
    // Beyond rounding and far below a principal point's size: refused, without the transposed-K hint.
    expect(() => parsePnpProblems({ pts2d, pts3d, K: [[500, 0, 320], [1e-3, 500, 240], [0, 0, 1]] })).toThrow(/cam_K\)$/);
  });

  const cases: [unknown, string][] = [
    [[], 'input: expected a JSON object with fields pts2d, pts3d, K'],
    [{ pts2d: [], pts3d, K }, 'pts2d: expected at least one problem, got an empty array'],
    [{ pts3d, K }, 'pts2d: missing'],
    [{ pts2d: 5, pts3d, K }, 'pts2d: expected a nested array of numbers, got number'],
    [{ pts2d: [[[1, 2, 3]]], pts3d, K }, 'pts2d: expected shape [*][*][2], got [1][1][3]'],
    [{ pts2d, pts3d: [[0, 0, 0], [1, 0, 0]], K }, 'pts3d: expected shape [4][3] or [1][4][3], got [2][3]'],
    [{ pts2d, pts3d, K: [[1, 0], [0, 1]] }, 'K: expected shape [3][3] or [1][3][3], got [2][2]'],
    [{ pts2d, pts3d, K, grad: [[1, 2, 3]] }, 'grad: expected shape [1][6], got [1][3]'],
    [{ pts2d, pts3d, K, weights: [[1, 1, null, 1]] }, 'weights[0][2]: expected a finite number, got null'],
    [{ pts2d, pts3d, K, weights: [[1, 1, 1, JSON.parse('1e999')]] }, 'weights[0][3]: expected a finite number, got Infinity'],
    [{ pts2d, pts3d, K, grad: [[0, 0, 0, 0, 0, null]] }, 'grad[0][5]: expected a finite number, got null'],
    [{ pts2d, pts3d, K, grad: [[0, JSON.parse('-1e999'), 0, 0, 0, 0]] }, 'grad[0][1]: expected a finite number, got -Infinity'],
    [{ pts2d: [[[1, 2], [3, 'x'], [5, 6], [7, 8]]], pts3d, K }, 'pts2d[0][1][1]: expected a number, got "x"'],
    [{ pts2d: [[[1, 2], [3], [5, 6], [7, 8]]], pts3d, K }, 'pts2d[0][1]: an array of 1, where pts2d[0][0] has 2: every entry at one level must have the same length'],
    // Problems of unequal n: the entry that set the length is named, not blamed.
    [{ pts2d: [[[1, 2], [3, 4], [5, 6]], [[1, 2], [3, 4], [5, 6], [7, 8]]], pts3d, K }, 'pts2d[1]: an array of 4, where pts2d[0] has 3: every entry at one level must have the same length'],
    [{ pts2d: [[[1, 2], 7, [5, 6], [7, 8]]], pts3d, K }, 'pts2d[0][1]: expected an array of 2, got 7'],
    [{ pts2d, pts3d, K, extra: 1 }, 'extra: unknown field'],
    // K is a pinhole camera's: OpenCV's and BOP's form, each entry that breaks it named with its value.
    [{ pts2d, pts3d, K: [[-500, 0, 320], [0, 500, 240], [0, 0, 1]] }, 'K[0][0]: fx must be > 0, got -500'],
    [{ pts2d, pts3d, K: [[[500, 0, 320], [0, 0, 240], [0, 0, 1]]] }, 'K[0][1][1]: fy must be > 0, got 0'],
    [{ pts2d, pts3d, K: [[500, 0, 0], [0, 500, 0], [320, 240, 1]] }, 'K[2][0]: must be 0 (within 1e-9 of |fx| + |fy| = 1000), got 320; K is a pinhole camera\'s [[fx, s, cx], [0, fy, cy], [0, 0, 1]] px, up to a positive scale (OpenCV\'s, BOP\'s cam_K): a transposed K?'],
    [{ pts2d, pts3d, K: [[500, 0, 320], [0, 500, 240], [0, 0, -1]] }, 'K[2][2]: must be > 0, got -1'],
    [{ pts2d, pts3d, K: [[-500, 0, -320], [0, -500, -240], [0, 0, -1]] }, 'K[2][2]: must be > 0, got -1'],
    [{ pts2d, pts3d, K: [[500, 0, 320], [1e-3, 500, 240], [0, 0, 1]] }, 'K[1][0]: must be 0 (within 1e-9 of |fx| + |fy| = 1000), got 0.001; K is a pinhole camera\'s [[fx, s, cx], [0, fy, cy], [0, 0, 1]] px, up to a positive scale (OpenCV\'s, BOP\'s cam_K)'],
    [{ pts2d, pts3d, K: [[-0, 0, 320], [0, 500, 240], [0, 0, 1]] }, 'K[0][0]: fx must be > 0, got -0;'],
  ];
  for (const [input, message] of cases) {
    it(`rejects ${JSON.stringify(input).slice(0, 60)} naming the field`, () => {
      expect(() => parsePnpProblems(input)).toThrow(message);
    });
  }
});
