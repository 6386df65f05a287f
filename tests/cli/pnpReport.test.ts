/**
 * What `npm run pnp` says beside each pose (src/cli/pnpReport.ts): the RMS reprojection error against a
 * hand-made residual, and the why of each failure the solver can report, naming the value at fault in the
 * input's own indices. The whole command on both backends: tests/cli/pnp.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { parsePnpProblems } from '../../src/cli/pnpInput';
import { pnpReport } from '../../src/cli/pnpReport';
import { projectPoints } from '../../src/solver/projection';
import { PnpStatus } from '../../src/solver/status';

const K = [[500, 0, 320], [0, 500, 240], [0, 0, 1]];
const X = [[0, 0, 0], [60, 0, 0], [0, 50, 0], [0, 0, 40], [30, 30, 30]];
const pose = Float64Array.of(0.1, -0.2, 0.05, 10, -5, 600);

/** X seen with pose through K, px, each coordinate moved by the given offsets. */
function seen(offsets: number[]): number[][] {
  const uv = projectPoints(new Float64Array(10), X.flat(), pose, K.flat(), 1, 5, true, true);
  return Array.from({ length: 5 }, (_, i) => [uv[2 * i] + offsets[2 * i], uv[2 * i + 1] + offsets[2 * i + 1]]);
}

describe('pnpReport', () => {
  it('gives the RMS reprojection error over the points with weight > 0, and no why for a converged problem', () => {
    // Residuals (3, 4), (0, 0), (0, 0), (0, 0) and a weight-0 point far off: RMS = sqrt(25 / 4) = 2.5 px.
    const p = parsePnpProblems({ pts2d: [seen([3, 4, 0, 0, 0, 0, 0, 0, 500, 500])], pts3d: X, K, weights: [[1, 2, 1, 1, 0]] });
    const r = pnpReport(p, pose, [PnpStatus.Converged]);
    expect(r.rmsPx[0]).toBeCloseTo(2.5, 9);
    expect(r.why).toEqual([null]);
  });

  it('names the value at fault in the input\'s indices: K entries shared or per problem, a singular K, initPose', () => {
    const x = [seen(new Array(10).fill(0))];
    const kNull = parsePnpProblems({ pts2d: x, pts3d: X, K: [[500, 0, 320], [0, null, 240], [0, 0, 1]] });
    expect(pnpReport(kNull, new Float64Array(6), [PnpStatus.InvalidInput]).why[0]).toBe('K[1][1] is null');
    const kPer = parsePnpProblems({ pts2d: [x[0], x[0]], pts3d: X, K: [K, [[500, 0, 320], [0, 500, 240], [0, 0, 1e999]]] });
    expect(pnpReport(kPer, new Float64Array(12), [PnpStatus.Converged, PnpStatus.InvalidInput]).why[1]).toBe('K[1][2][2] is Infinity');
    // A pinhole K (the input's form) is singular only where fx fy underflows float64.
    const singular = parsePnpProblems({ pts2d: x, pts3d: X, K: [[1e-200, 0, 320], [0, 1e-200, 240], [0, 0, 1]] });
    expect(pnpReport(singular, new Float64Array(6), [PnpStatus.InvalidInput]).why[0]).toMatch(/^K is singular/);
    const init = parsePnpProblems({ pts2d: x, pts3d: X, K, initPose: [[0, 0, null, 0, 0, 500]] });
    expect(pnpReport(init, new Float64Array(6), [PnpStatus.InvalidInput]).why[0]).toBe('initPose[0][2] is null');
    // Per-problem pts3d are named with their problem; a shared one without.
    const shared = parsePnpProblems({ pts2d: x, pts3d: X.map((r, i) => (i === 3 ? [0, null, 40] : r)), K });
    expect(pnpReport(shared, new Float64Array(6), [PnpStatus.InvalidInput]).why[0]).toBe('pts3d[3] is [0, null, 40] (a point with weight > 0 must be finite)');
  });

  it('words a degenerate problem by what it is: how many distinct points, a spread that overflows; the float64 fault only where it is the status', () => {
    const x = [seen(new Array(10).fill(0))];
    // Two places in five rows: 2 distinct points (before: read as collinear).
    const twoPlaces = parsePnpProblems({ pts2d: x, pts3d: [X[0], X[1], X[0], X[1], X[0]], K });
    expect(pnpReport(twoPlaces, new Float64Array(6), [PnpStatus.Degenerate]).why[0]).toMatch(/^only 2 distinct 3D points among the 5 with weight > 0 .*; at least 4 are needed$/);
    // Coordinates of 1e200 square to infinity: not "the same point".
    const huge = parsePnpProblems({ pts2d: x, pts3d: X.map(([a, b, c], i) => [a + i * 1e200, b, c]), K });
    expect(pnpReport(huge, new Float64Array(6), [PnpStatus.Degenerate]).why[0]).toMatch(/^the 3D points' spread overflows/);
    // A GPU status that float64 does not reach is not explained by a float64 fault it did not report.
    const ok = parsePnpProblems({ pts2d: x, pts3d: X, K });
    expect(pnpReport(ok, new Float64Array(6), [PnpStatus.Degenerate]).why[0]).toMatch(/^degenerate once rounded to float32 for the GPU/);
    expect(pnpReport(ok, new Float64Array(6), [PnpStatus.Degenerate]).rmsPx[0], 'no pose for a rejected problem').toBeNull();
  });

  it('says which point is behind the camera, how ill-conditioned the input is, and what NotConverged means', () => {
    const x = [seen(new Array(10).fill(0))];
    const p = parsePnpProblems({ pts2d: x, pts3d: X, K });
    // The model 20 mm in front of the camera: points 1 (x 60) and 4 reach behind it after a quarter turn about y.
    const behindPose = Float64Array.of(0, Math.PI / 2, 0, 0, 0, 20);
    const r = pnpReport(p, behindPose, [PnpStatus.BehindCamera]);
    expect(r.why[0]).toBe('pts3d[1] and 1 more at or behind the camera (z <= 0) at the solution: the correspondences fit no pose with every point in front');
    expect(r.rmsPx[0], 'no RMS error where a point is behind the camera').toBeNull();
    // From a given start, the start is named: LM stays on the side of the camera it starts on.
    const fromInit = parsePnpProblems({ pts2d: x, pts3d: X, K, initPose: [[0, 0, 0, 0, 0, -1000]] });
    expect(pnpReport(fromInit, behindPose, [PnpStatus.BehindCamera]).why[0]).toMatch(/at the solution: LM started from initPose\[0\]; without it EPnP chooses the start$/);
    const far = parsePnpProblems({ pts2d: x, pts3d: X.map(([a, b, c]) => [a + 1e9, b, c]), K });
    // max |X| / RMS distance from the centroid: 1e9 + 60 over the RMS spread of X (the 2D ratio is far smaller).
    const c = [0, 1, 2].map((a) => X.reduce((s, r) => s + r[a], 0) / 5);
    const rms = Math.sqrt(X.reduce((s, r) => s + (r[0] - c[0]) ** 2 + (r[1] - c[1]) ** 2 + (r[2] - c[2]) ** 2, 0) / 5);
    expect(pnpReport(far, pose, [PnpStatus.IllConditioned]).why[0]).toBe(`coordinates reach ${((1e9 + 60) / rms).toPrecision(3)} times the points' weighted RMS spread: float64 moves the points by more than 1e-4 of their spread`);
    // On the GPU the ratio is that of what the kernels were given (centred), not of the JSON's numbers.
    // Each set about its own centroid; the ratio is max |coordinate| over the RMS spread, the larger of 2D and 3D.
    const about = (pts: number[][]) => {
      const m = pts[0].map((_, a) => pts.reduce((acc, r) => acc + r[a], 0) / pts.length);
      const d = pts.map((r) => r.map((v, a) => v - m[a]));
      const spread = Math.sqrt(d.reduce((acc, r) => acc + r.reduce((q, v) => q + v * v, 0), 0) / pts.length);
      return { flat: Float64Array.from(d.flat()), ratio: Math.max(...d.flat().map(Math.abs)) / spread };
    };
    const c2 = about(x[0]), c3 = about(X);
    const centred = { pts2d: c2.flat, pts3d: c3.flat };
    const gpuRatio = Math.max(c2.ratio, c3.ratio);
    expect(pnpReport(far, pose, [PnpStatus.IllConditioned], centred).why[0]).toMatch(
      new RegExp(`^centred in float64 and then rounded to float32 for the GPU, coordinates still reach ${gpuRatio.toPrecision(3).replace('.', '\\.')} times`));
    expect(pnpReport(p, pose, [PnpStatus.NotConverged]).why[0]).toMatch(/^LM stopped short of a minimum/);
  });
});
