/**
 * The float64 reference against OpenCV (OpenCV.js 4.12: solvePnP ITERATIVE, and SQPnP refined by OpenCV's
 * LM) on the same LINEMOD-like problems: the same optimum of the reprojection error, and a success rate
 * at least as high. Success on a problem = reaching the lowest cost any of the three found.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { loadOpenCv, solvePnpOpenCv, type OpenCv, type OpenCvMethod } from '../../bench/opencv';
import { projectPoints } from '../../src/solver/projection';
import { solvePnpBatch } from '../../src/solver/pnp';
import { so3Exp } from '../../src/solver/so3';
import { PnpStatus } from '../../src/solver/status';
import { makeProblems, type Problems } from '../../src/synthetic/pnpProblems';
import { rotationErrorRad, translationRelError } from '../helpers/poseError';
import { makeRng } from '../helpers/rng';

let cv: OpenCv;
beforeAll(async () => {
  cv = await loadOpenCv();
});

/**
 * Sum of squared reprojection errors (px^2) of problem b under `pose` [6]; Infinity when a point is
 * behind the camera (a planar target's mirror pose behind the camera reprojects exactly as well).
 */
function cost(p: Problems, b: number, pose: ArrayLike<number>): number {
  const pts3d = p.pts3d.subarray(0, 3 * p.n);
  const R = so3Exp(new Float64Array(9), pose);
  for (let i = 0; i < p.n; i++) {
    if (R[6] * pts3d[3 * i] + R[7] * pts3d[3 * i + 1] + R[8] * pts3d[3 * i + 2] + pose[5] <= 0) return Infinity;
  }
  const proj = projectPoints(new Float64Array(2 * p.n), pts3d, pose, p.K, 1, p.n, true, true);
  let c = 0;
  for (let j = 0; j < 2 * p.n; j++) c += (proj[j] - p.pts2d[2 * p.n * b + j]) ** 2;
  return c;
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

const kMethods: readonly OpenCvMethod[] = ['iterative', 'sqpnp'];

interface Tally {
  problems: number;
  success: Record<'poselab' | OpenCvMethod, number>;
  /** pose differences to OpenCV where both reached the best cost: rad, relative */
  rot: Record<OpenCvMethod, number[]>;
  trans: Record<OpenCvMethod, number[]>;
}

function compare(n: number, planar: boolean, seed: number, B: number, t: Tally): void {
  const rng = makeRng(seed);
  const p = makeProblems({ B, n, planar, noisePx: rng.uniform(0, 3), seed, sharedPts3d: true, sharedK: true });
  const ours = solvePnpBatch(p);
  for (let b = 0; b < B; b++) {
    const x2 = p.pts2d.subarray(2 * n * b, 2 * n * (b + 1));
    const poses: Record<string, Float64Array | null> = {
      poselab: ours.status[b] === PnpStatus.Converged ? ours.pose.subarray(6 * b, 6 * b + 6) : null,
    };
    for (const m of kMethods) poses[m] = solvePnpOpenCv(cv, m, x2, p.pts3d, p.K, n);
    const costs = Object.fromEntries(Object.entries(poses).map(([k, q]) => [k, q ? cost(p, b, q) : Infinity]));
    const best = Math.min(...Object.values(costs));
    // 1e-6 relative: OpenCV's LM stops after at most 20 iterations or a step below FLT_EPSILON.
    const reached = (k: string) => costs[k] <= best * (1 + 1e-6) + 1e-9;
    t.problems++;
    for (const k of ['poselab', ...kMethods] as const) if (reached(k)) t.success[k]++;
    for (const m of kMethods) {
      if (!reached('poselab') || !reached(m)) continue;
      t.rot[m].push(rotationErrorRad(poses.poselab!, poses[m]!));
      t.trans[m].push(translationRelError(poses.poselab!, poses[m]!));
    }
  }
}

describe('float64 PnP against OpenCV solvePnP', () => {
  it('reaches the same optimum as ITERATIVE and SQPnP+LM, and succeeds at least as often, on 1,200 problems', () => {
    const t: Tally = {
      problems: 0,
      success: { poselab: 0, iterative: 0, sqpnp: 0 },
      rot: { iterative: [], sqpnp: [] },
      trans: { iterative: [], sqpnp: [] },
    };
    let seed = 500;
    for (const n of [4, 6, 8, 9, 32, 256]) for (const planar of [false, true]) compare(n, planar, seed++, 100, t);
    console.log(`[opencv] ${t.problems} problems; reached the best cost: PoseLab ${t.success.poselab}, ` +
      `ITERATIVE ${t.success.iterative}, SQPnP+LM ${t.success.sqpnp}; where both did, max pose difference: ` +
      kMethods.map((m) => `${m} (${t.rot[m].length}): rotation median ${quantile(t.rot[m], 0.5).toExponential(1)} ` +
        `p99 ${quantile(t.rot[m], 0.99).toExponential(1)} max ${quantile(t.rot[m], 1).toExponential(1)} rad, ` +
        `translation p99 ${quantile(t.trans[m], 0.99).toExponential(1)} max ${quantile(t.trans[m], 1).toExponential(1)} relative`).join('; '));
    // The README's figures, measured on these seeded problems: PoseLab reaches the best cost on 1,197,
    // ITERATIVE on 923, SQPnP+LM on 1,135; where both reach it the poses agree to p99 1.7e-7 and 2.0e-7
    // rad, 1.2e-8 and 1.8e-8 relative in translation. The bounds: two problems fewer than measured, and
    // twice the measured p99s (the README states 2e-7 rad).
    expect(t.success.poselab, 'problems where PoseLab reaches the best cost (1,197 measured)').toBeGreaterThanOrEqual(1195);
    expect(t.success.poselab).toBeGreaterThanOrEqual(t.success.iterative);
    expect(t.success.poselab).toBeGreaterThanOrEqual(t.success.sqpnp);
    for (const m of kMethods) {
      expect(t.rot[m].length, `problems where PoseLab and ${m} both reached the best cost`).toBeGreaterThan(900);
      expect(quantile(t.rot[m], 0.99), `p99 rotation difference to ${m}, rad`).toBeLessThan(4e-7);
      expect(quantile(t.trans[m], 0.99), `p99 translation difference to ${m}, relative`).toBeLessThan(4e-8);
      // OpenCV's LM stops after 20 iterations, short of a flat optimum now and then: the tail is its
      // (ITERATIVE's largest difference measured 1.3e-4 rad).
      expect(quantile(t.rot[m], 1), `max rotation difference to ${m}`).toBeLessThan(1e-3);
    }
  });
});
