import { describe, expect, it } from 'vitest';
import { createLmResult, kLmDefaultsF64, lmCost, lmNormalEquations, lmRefine } from '../../src/solver/lm';
import { normalizePoints } from '../../src/solver/normalize';
import { so3Exp, so3LeftUpdate, so3Log } from '../../src/solver/so3';
import { makeProblems, perturbPoses } from '../../src/synthetic/pnpProblems';
import { rotationErrorRad, translationRelError } from '../helpers/poseError';

/** Normalised problem b of a makeProblems batch, with (R0, tn0) from pose0 [6]. */
function setup(pr: ReturnType<typeof makeProblems>, b: number, pose0: Float64Array) {
  const { n } = pr;
  const X = pr.sharedPts3d ? pr.pts3d : pr.pts3d.subarray(3 * n * b, 3 * n * (b + 1));
  const K = pr.sharedK ? pr.K : pr.K.subarray(9 * b, 9 * b + 9);
  const x = pr.pts2d.subarray(2 * n * b, 2 * n * (b + 1));
  const xn = new Float64Array(3 * n), cs = new Float64Array(4);
  normalizePoints(xn, cs, X, null, n);
  const R0 = so3Exp(new Float64Array(9), pose0);
  const tn0 = new Float64Array(3);
  for (let a = 0; a < 3; a++) tn0[a] = (R0[3 * a] * cs[0] + R0[3 * a + 1] * cs[1] + R0[3 * a + 2] * cs[2] + pose0[3 + a]) / cs[3];
  return { X, K, x, xn, cs, R0, tn0 };
}

function toPose(R: Float64Array, tn: Float64Array, cs: Float64Array): Float64Array {
  const pose = new Float64Array(6);
  so3Log(pose, R);
  for (let a = 0; a < 3; a++) pose[3 + a] = cs[3] * tn[a] - (R[3 * a] * cs[0] + R[3 * a + 1] * cs[1] + R[3 * a + 2] * cs[2]);
  return pose;
}

describe('lmRefine', () => {
  for (const planar of [false, true]) {
    for (const n of [4, 8, 32]) {
      it(`recovers the ground truth to 1e-9 from a perturbed start (${planar ? 'planar' : 'non-planar'}, n = ${n})`, () => {
        const B = 6;
        const pr = makeProblems({ B, n, planar, seed: 100 + n + (planar ? 1 : 0), sharedPts3d: false, sharedK: false });
        const init = perturbPoses(pr.poseGT, 0.1, 20, 7 + n);
        for (let b = 0; b < B; b++) {
          const s = setup(pr, b, init.subarray(6 * b, 6 * b + 6));
          const out = lmRefine(createLmResult(), { xn: s.xn, pts2d: s.x, K: s.K, w: null, n }, s.R0, s.tn0);
          const pose = toPose(out.R, out.tn, s.cs);
          const gt = pr.poseGT.subarray(6 * b, 6 * b + 6);
          expect(out.converged, `converged flag (problem ${b})`).toBe(true);
          expect(rotationErrorRad(pose, gt), `rotation error rad vs ground truth (problem ${b})`).toBeLessThan(1e-9);
          expect(translationRelError(pose, gt), `relative translation error vs ground truth (problem ${b})`).toBeLessThan(1e-9);
          expect(out.cost, `final pixel cost of a noise-free problem (problem ${b})`).toBeLessThan(1e-12);
          expect(out.iterations, `iterations within maxIters (problem ${b})`).toBeLessThanOrEqual(kLmDefaultsF64.maxIters);
        }
      });
    }
  }

  it('reaches a stationary point on noisy problems (chart gradient ~ 0)', () => {
    const pr = makeProblems({ B: 4, n: 12, noisePx: 2, seed: 55 });
    for (let b = 0; b < 4; b++) {
      const s = setup(pr, b, perturbPoses(pr.poseGT, 0.05, 10, b).subarray(6 * b, 6 * b + 6));
      const out = lmRefine(createLmResult(), { xn: s.xn, pts2d: s.x, K: s.K, w: null, n: 12 }, s.R0, s.tn0);
      const A = new Float64Array(36), g = new Float64Array(6);
      const fbar = 0.5 * (s.K[0] + s.K[4]);
      const cost = lmNormalEquations(A, g, s.K, out.R, out.tn, s.xn, s.x, null, 12, fbar);
      expect(out.converged, `converged on noisy problem ${b}`).toBe(true);
      expect(Math.abs(cost * fbar * fbar - out.cost) / out.cost, `reported cost vs recomputed (problem ${b})`).toBeLessThan(1e-12);
      expect(Math.hypot(...g) / Math.sqrt(cost), `|J^T e| / |e| at the optimum (problem ${b})`).toBeLessThan(1e-7);
      // No small chart step lowers the cost.
      for (let j = 0; j < 6; j++) {
        for (const h of [1e-6, -1e-6]) {
          const d = new Float64Array(6); d[j] = h;
          const R = so3LeftUpdate(new Float64Array(9), d, out.R);
          const tn = Float64Array.of(out.tn[0] + d[3], out.tn[1] + d[4], out.tn[2] + d[5]);
          expect(lmCost(s.K, R, tn, s.xn, s.x, null, 12, fbar), `cost after chart step ${h} on axis ${j} >= optimum`)
            .toBeGreaterThanOrEqual(cost * (1 - 1e-14));
        }
      }
    }
  });

  it('honours maxIters and reports not converged', () => {
    const pr = makeProblems({ B: 1, n: 8, noisePx: 1, seed: 9 });
    const s = setup(pr, 0, perturbPoses(pr.poseGT, 0.2, 50, 3));
    const out = lmRefine(createLmResult(), { xn: s.xn, pts2d: s.x, K: s.K, w: null, n: 8 }, s.R0, s.tn0, { maxIters: 2 });
    expect(out.iterations, 'iterations with maxIters = 2').toBe(2);
    expect(out.converged, 'converged flag after 2 iterations').toBe(false);
  });

  it('skips points with w = 0, whatever they hold', () => {
    const pr = makeProblems({ B: 1, n: 8, seed: 12 });
    const s = setup(pr, 0, perturbPoses(pr.poseGT, 0.1, 20, 4));
    const w = Float64Array.of(1, 1, 0, 1, 1, 1, 0, 1);
    const x = s.x.slice();
    x[4] = NaN; x[12] = 1e9;
    const xCopy = x.slice(), xnCopy = s.xn.slice(), R0 = s.R0.slice();
    const out = lmRefine(createLmResult(), { xn: s.xn, pts2d: x, K: s.K, w, n: 8 }, s.R0, s.tn0);
    expect(out.converged, 'converged with two w = 0 outliers').toBe(true);
    expect(rotationErrorRad(toPose(out.R, out.tn, s.cs), pr.poseGT), 'rotation error with w = 0 outliers').toBeLessThan(1e-9);
    expect(Array.from(x), 'pts2d untouched').toEqual(Array.from(xCopy));
    expect(Array.from(s.xn), 'xn untouched').toEqual(Array.from(xnCopy));
    expect(Array.from(s.R0), 'R0 untouched').toEqual(Array.from(R0));
  });

  it('returns out and accepts R0/tn0 aliasing out.R/out.tn', () => {
    const pr = makeProblems({ B: 1, n: 8, noisePx: 1, seed: 21 });
    const s = setup(pr, 0, perturbPoses(pr.poseGT, 0.1, 20, 5));
    const ref = lmRefine(createLmResult(), { xn: s.xn, pts2d: s.x, K: s.K, w: null, n: 8 }, s.R0, s.tn0);
    const out = createLmResult();
    out.R.set(s.R0); out.tn.set(s.tn0);
    expect(lmRefine(out, { xn: s.xn, pts2d: s.x, K: s.K, w: null, n: 8 }, out.R, out.tn), 'lmRefine returns out').toBe(out);
    expect(Array.from(out.R), 'R with aliased start vs separate start').toEqual(Array.from(ref.R));
    expect(Array.from(out.tn), 'tn with aliased start vs separate start').toEqual(Array.from(ref.tn));
  });
});
