/**
 * The multi-start of the float64 forward (refineMultiStart in src/solver/pnp.ts, docs/pnp-maths.md "Forward:
 * multi-start for few points"): its starting rotations, and that solvePnpBatch reaches the lowest cost
 * that many random starts find, where LM from the EPnP pose alone often does not (P4P local minima).
 */
import { describe, expect, it } from 'vitest';
import { epnpInit } from '../../src/solver/epnp';
import { createLmResult, lmRefine } from '../../src/solver/lm';
import { normalizedImagePoints, normalizePoints } from '../../src/solver/normalize';
import {
  inFrontOfCamera, kMultiStartCount, kMultiStartDoubtPx, kMultiStartMaxPoints, kMultiStartRotations, multiStartDoubtCost,
  multiStartRotation, refineMultiStart,
} from '../../src/solver/multiStart';
import { solvePnpBatch } from '../../src/solver/pnp';
import { so3Exp } from '../../src/solver/so3';
import { PnpStatus } from '../../src/solver/status';
import { makeProblems } from '../../src/synthetic/pnpProblems';
import { makeRng } from '../helpers/rng';

const det3 = (M: ArrayLike<number>): number =>
  M[0] * (M[4] * M[8] - M[5] * M[7]) - M[1] * (M[3] * M[8] - M[5] * M[6]) + M[2] * (M[3] * M[7] - M[4] * M[6]);

/** Pixel objective sum_i w_i |pi(K, R X_i + t) - x_i|^2 of one problem at pose [r, t]. */
function pixelCost(pose: ArrayLike<number>, X: ArrayLike<number>, x: ArrayLike<number>, K: ArrayLike<number>, w: ArrayLike<number>, n: number): number {
  const R = so3Exp(new Float64Array(9), pose);
  let f = 0;
  for (let i = 0; i < n; i++) {
    const c = [0, 1, 2].map((a) => R[3 * a] * X[3 * i] + R[3 * a + 1] * X[3 * i + 1] + R[3 * a + 2] * X[3 * i + 2] + pose[3 + a]);
    const z = K[6] * c[0] + K[7] * c[1] + K[8] * c[2];
    const u = (K[0] * c[0] + K[1] * c[1] + K[2] * c[2]) / z - x[2 * i];
    const v = (K[3] * c[0] + K[4] * c[1] + K[5] * c[2]) / z - x[2 * i + 1];
    f += w[i] * (u * u + v * v);
  }
  return f;
}

describe('multi-start rotations', () => {
  it('are distinct rotations about the camera axes, identity first, and G_k R0 is a rotation', () => {
    expect(kMultiStartRotations.length).toBe(kMultiStartCount);
    const R0 = so3Exp(new Float64Array(9), [0.3, -1.2, 2.0]);
    const seen = new Set<string>();
    for (let k = 0; k < kMultiStartCount; k++) {
      const G = multiStartRotation(new Float64Array(9), k, [1, 0, 0, 0, 1, 0, 0, 0, 1]);
      expect(det3(G), `det G_${k}`).toBe(1);
      // A rotation about a camera axis leaves that axis fixed: some diagonal entry is 1.
      expect([G[0], G[4], G[8]].includes(1), `G_${k} fixes a camera axis`).toBe(true);
      seen.add(Array.from(G).join(','));
      const out = new Float64Array(9);
      const Rk = multiStartRotation(out, k, R0);
      expect(Rk, 'returns out').toBe(out);
      for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) {
        let want = 0;
        for (let j = 0; j < 3; j++) want += G[3 * r + j] * R0[3 * j + c];
        expect(Rk[3 * r + c], `(G_${k} R0)[${r}][${c}]`).toBe(want);
      }
      const alias = R0.slice();
      expect(Array.from(multiStartRotation(alias, k, alias)), 'out may alias R0').toEqual(Array.from(Rk));
    }
    expect(seen.size, 'distinct rotations').toBe(kMultiStartCount);
    expect(Array.from(multiStartRotation(new Float64Array(9), 0, R0)), 'identity first').toEqual(Array.from(R0));
  });

  it('inFrontOfCamera ignores points with w = 0', () => {
    const I = [1, 0, 0, 0, 1, 0, 0, 0, 1];
    const xn = [0, 0, 1, 0, 0, -5];
    expect(inFrontOfCamera(I, [0, 0, 2], xn, null, 2)).toBe(false);
    expect(inFrontOfCamera(I, [0, 0, 2], xn, [1, 0], 2)).toBe(true);
  });
});

/**
 * Share of `perCase` problems of n points (planar and not) on which solvePnpBatch reaches the lowest cost of
 * kRandomStarts LM runs from random rotations; beside it, LM from the EPnP pose alone.
 */
function lowestCostShare(n: number, perCase: number, kRandomStarts: number, seedBase: number): { total: number; multiBest: number; epnpBest: number; misses: string[] } {
  const B = perCase;
  const lm = createLmResult();
  let total = 0, multiBest = 0, epnpBest = 0;
  const misses: string[] = [];
  for (const planar of [false, true]) {
    const seed = seedBase + (planar ? 1 : 0);
    const rng = makeRng(seed + 7);
    const p = makeProblems({ B, n, planar, noisePx: rng.uniform(1, 3), seed, sharedPts3d: false, sharedK: false });
    const weights = Float64Array.from({ length: B * n }, () => rng.uniform(0.5, 1.5));
    const out = solvePnpBatch({ ...p, weights });
    for (let b = 0; b < B; b++) {
      if (out.status[b] !== PnpStatus.Converged) continue;
      total++;
      const X = p.pts3d.subarray(3 * n * b, 3 * n * (b + 1)), x = p.pts2d.subarray(2 * n * b, 2 * n * (b + 1));
      const K = p.K.subarray(9 * b, 9 * b + 9), w = weights.subarray(n * b, n * (b + 1));
      const xn = new Float64Array(3 * n), cs = new Float64Array(4), m = new Float64Array(2 * n);
      normalizePoints(xn, cs, X, w, n);
      // Oracle: LM from random rotations about the true centroid position (independent of EPnP), keeping
      // the lowest cost among the minima with every point in front of the camera.
      const Rgt = so3Exp(new Float64Array(9), p.poseGT.subarray(6 * b, 6 * b + 3));
      const tnGt = [0, 1, 2].map((a) =>
        (Rgt[3 * a] * cs[0] + Rgt[3 * a + 1] * cs[1] + Rgt[3 * a + 2] * cs[2] + p.poseGT[6 * b + 3 + a]) / cs[3]);
      const r2 = makeRng(5000 + 100 * seed + b);
      let best = Infinity;
      for (let k = 0; k < kRandomStarts; k++) {
        lmRefine(lm, { xn, pts2d: x, K, w, n }, so3Exp(new Float64Array(9), r2.rotation()), tnGt);
        if (inFrontOfCamera(lm.R, lm.tn, xn, w, n) && lm.cost < best) best = lm.cost;
      }
      const reached = (c: number) => c <= best * (1 + 1e-6) + 1e-9;
      const cost = pixelCost(out.pose.subarray(6 * b, 6 * b + 6), X, x, K, w, n);
      if (reached(cost)) multiBest++;
      else misses.push(`n=${n} ${planar ? 'planar' : 'general'} b=${b}: ${cost.toPrecision(6)} vs ${best.toPrecision(6)} px^2`);
      // For contrast, the single start: LM from the EPnP pose alone.
      normalizedImagePoints(m, x, K, n);
      const init = epnpInit(xn, m, w, n);
      if (init.ok && reached(lmRefine(lm, { xn, pts2d: x, K, w, n }, init.R, init.t).cost)) epnpBest++;
    }
  }
  return { total, multiBest, epnpBest, misses };
}

describe('solvePnpBatch multi-start (n <= kMultiStartMaxPoints)', () => {
  it('reaches the lowest cost of 100 random starts on >= 99% of 200 n = 4 problems (1-3 px noise, weighted)', () => {
    expect(kMultiStartMaxPoints).toBeGreaterThanOrEqual(4);
    const r = lowestCostShare(4, 100, 100, 900);
    console.log(`[multi-start] n=4: lowest of 100 random starts reached on ${r.multiBest}/${r.total} ` +
      `(LM from EPnP alone ${r.epnpBest}/${r.total})${r.misses.length ? `; misses: ${r.misses.join('; ')}` : ''}`);
    expect(r.total, 'converged problems').toBeGreaterThanOrEqual(190);
    expect(r.multiBest / r.total, 'share reaching the lowest cost').toBeGreaterThanOrEqual(0.99);
  });

  it('and for every n from 5 to 9 (the rest of the range it runs on): >= 99% of 100 problems each', () => {
    expect(kMultiStartMaxPoints, 'the multi-start range this test covers').toBe(9);
    const lines: string[] = [];
    for (let n = 5; n <= kMultiStartMaxPoints; n++) {
      const r = lowestCostShare(n, 50, 60, 900 + 10 * n);
      lines.push(`n=${n}: ${r.multiBest}/${r.total} (EPnP alone ${r.epnpBest})${r.misses.length ? ` misses: ${r.misses.join('; ')}` : ''}`);
      expect(r.total, `converged problems, n = ${n}`).toBeGreaterThanOrEqual(95);
      expect(r.multiBest / r.total, `share reaching the lowest cost, n = ${n}`).toBeGreaterThanOrEqual(0.99);
    }
    console.log(`[multi-start] lowest of 60 random starts reached: ${lines.join('; ')}`);
  });
});

describe('when the multi-start runs', () => {
  it('multiStartDoubtCost is kMultiStartDoubtPx^2 max(1, 2m - 6) times the mean weight, by hand', () => {
    const px2 = kMultiStartDoubtPx * kMultiStartDoubtPx;
    expect(multiStartDoubtCost(null, 8), 'n = 8, no weights: 10 degrees of freedom').toBeCloseTo(10 * px2, 12);
    expect(multiStartDoubtCost(null, 4), 'n = 4: 2 degrees of freedom').toBeCloseTo(2 * px2, 12);
    // Points 0 and 3 removed: m = 4, mean weight (2 + 1 + 1 + 2) / 4 = 1.5.
    expect(multiStartDoubtCost(Float64Array.of(0, 2, 1, 0, 1, 2), 6), 'weighted, w = 0 points ignored').toBeCloseTo(2 * px2 * 1.5, 12);
  });

  it('keeps the EPnP start where it is not in doubt, and finds the better minimum where it is', () => {
    const n = 8;
    const p = makeProblems({ B: 1, n, noisePx: 0.5, seed: 4242 });
    const xn = new Float64Array(3 * n), cs = new Float64Array(4), m = new Float64Array(2 * n);
    normalizePoints(xn, cs, p.pts3d, null, n);
    normalizedImagePoints(m, p.pts2d, p.K, n);
    const init = epnpInit(xn, m, null, n);
    const plain = lmRefine(createLmResult(), { xn, pts2d: p.pts2d, K: p.K, w: null, n }, init.R, init.t);
    expect(plain.cost, 'the EPnP start converges within the noise bound').toBeLessThan(multiStartDoubtCost(null, n));
    // Not flat, not in doubt: exactly the single LM from EPnP (same iterations, same pose).
    const ms = refineMultiStart(createLmResult(), { xn, pts2d: p.pts2d, K: p.K, w: null, n }, init.R, init.t, {}, 0.5);
    expect(ms.iterations, 'iterations of the kept first LM').toBe(plain.iterations);
    expect(Array.from(ms.R), 'pose of the kept first LM').toEqual(Array.from(plain.R));
    // A start in the wrong basin (the pose turned by pi about the camera's z axis): in doubt by its cost,
    // and the screen brings it back to the minimum of the EPnP start.
    const Rz = multiStartRotation(new Float64Array(9), 3, plain.R);
    const wrong = lmRefine(createLmResult(), { xn, pts2d: p.pts2d, K: p.K, w: null, n }, Rz, plain.tn);
    expect(wrong.cost, 'the turned start ends above the noise bound').toBeGreaterThan(multiStartDoubtCost(null, n));
    const fixed = refineMultiStart(createLmResult(), { xn, pts2d: p.pts2d, K: p.K, w: null, n }, Rz, plain.tn, {}, 0.5);
    expect(fixed.cost, 'the multi-start from the turned start').toBeLessThanOrEqual(plain.cost * (1 + 1e-9));
  });
});
