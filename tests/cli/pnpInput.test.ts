import { describe, expect, it } from 'vitest';
import { parsePnpProblems } from '../../src/cli/pnpInput';

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

  it('reads null as NaN, for the solver to report as non-finite', () => {
    const p = parsePnpProblems({ pts2d: [[[1, null], [3, 4], [5, 6], [7, 8]]], pts3d, K });
    expect(Number.isNaN(p.pts2d[1])).toBe(true);
  });

  const cases: [unknown, string][] = [
    [[], 'input: expected a JSON object with fields pts2d, pts3d, K'],
    [{ pts3d, K }, 'pts2d: missing'],
    [{ pts2d: 5, pts3d, K }, 'pts2d: expected a nested array of numbers, got number'],
    [{ pts2d: [[[1, 2, 3]]], pts3d, K }, 'pts2d: expected shape [*][*][2], got [1][1][3]'],
    [{ pts2d, pts3d: [[0, 0, 0], [1, 0, 0]], K }, 'pts3d: expected shape [4][3] or [1][4][3], got [2][3]'],
    [{ pts2d, pts3d, K: [[1, 0], [0, 1]] }, 'K: expected shape [3][3] or [1][3][3], got [2][2]'],
    [{ pts2d, pts3d, K, grad: [[1, 2, 3]] }, 'grad: expected shape [1][6], got [1][3]'],
    [{ pts2d, pts3d, K, weights: [[1, 1, -1, 1]] }, 'weights[0][2]: expected a finite weight >= 0, got -1'],
    [{ pts2d: [[[1, 2], [3, 'x'], [5, 6], [7, 8]]], pts3d, K }, 'pts2d[0][1][1]: expected a number, got "x"'],
    [{ pts2d: [[[1, 2], [3], [5, 6], [7, 8]]], pts3d, K }, 'pts2d[0][1]: expected an array of 2, got an array of 1'],
    [{ pts2d, pts3d, K, extra: 1 }, 'extra: unknown field'],
  ];
  for (const [input, message] of cases) {
    it(`rejects ${JSON.stringify(input).slice(0, 60)} naming the field`, () => {
      expect(() => parsePnpProblems(input)).toThrow(message);
    });
  }
});
