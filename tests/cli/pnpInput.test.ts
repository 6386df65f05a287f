import { describe, expect, it } from 'vitest';
import { centrePts3d, parsePnpProblems } from '../../src/cli/pnpInput';

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

  it('centrePts3d moves each problem to the mean of its finite, weighted points, in float64', () => {
    const X = [[7405000.25, 1, 2], [7405002.25, 3, 4], [7405004.25, 5, 6], [NaN, 0, 0]];
    const p = parsePnpProblems({ pts2d: [[[1, 2], [3, 4], [5, 6], [7, 8]], [[1, 2], [3, 4], [5, 6], [7, 8]]],
      pts3d: [X, X.map((r) => r.map((v) => v + 10))], K, weights: [[1, 1, 1, 0], [1, 0, 1, 0]] });
    const { pts3d, c } = centrePts3d(p);
    expect(Array.from(c), 'problem 0 averages points 0-2, problem 1 points 0 and 2').toEqual([7405002.25, 3, 4, 7405012.25, 13, 14]);
    expect(Array.from(pts3d.subarray(0, 9))).toEqual([-2, -2, -2, 0, 0, 0, 2, 2, 2]);
    expect(Array.from(pts3d.subarray(12, 15))).toEqual([-2, -2, -2]);
    expect(Array.from(p.pts3d.subarray(0, 3)), 'the input is left alone').toEqual([7405000.25, 1, 2]);
  });

  it('passes a negative weight to the solver, whose status for that problem is InvalidInput', () => {
    const p = parsePnpProblems({ pts2d, pts3d, K, weights: [[1, 1, -1, 1]] });
    expect(Array.from(p.weights!)).toEqual([1, 1, -1, 1]);
  });

  it('reads null as NaN, for the solver to report as non-finite', () => {
    const p = parsePnpProblems({ pts2d: [[[1, null], [3, 4], [5, 6], [7, 8]]], pts3d, K });
    expect(Number.isNaN(p.pts2d[1])).toBe(true);
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
  ];
  for (const [input, message] of cases) {
    it(`rejects ${JSON.stringify(input).slice(0, 60)} naming the field`, () => {
      expect(() => parsePnpProblems(input)).toThrow(message);
    });
  }
});
