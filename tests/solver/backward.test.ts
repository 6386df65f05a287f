import { describe, expect, it } from 'vitest';
import { accumulateHessian, pnpBackwardOne, pointGradients, upstreamToChart } from '../../src/solver/backward';
import { focalScale, lmCost, lmNormalEquations } from '../../src/solver/lm';
import { cholSolve6 } from '../../src/solver/linalg';
import { normalizePoints } from '../../src/solver/normalize';
import { pnpBackwardBatch, type PnpBatchInput } from '../../src/solver/pnp';
import { so3Exp, so3LeftUpdate, so3Log } from '../../src/solver/so3';
import { solveExact } from '../helpers/exactSolve';
import { makeProblems, perturbPoses, type Problems } from '../../src/synthetic/pnpProblems';
import { makeRng } from '../helpers/rng';

const norm = (a: ArrayLike<number>): number => Math.sqrt(Array.from(a).reduce((s, v) => s + v * v, 0));
const relErr = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  const d = Array.from(a).map((v, i) => v - b[i]);
  return norm(d) / norm(b);
};

/** The pose's normalised (R, tn) for problem b of a batch (no weights). */
function normalised(pr: Problems, b: number, pose: ArrayLike<number>) {
  const { n } = pr;
  const X = pr.sharedPts3d ? pr.pts3d : pr.pts3d.subarray(3 * n * b, 3 * n * (b + 1));
  const xn = new Float64Array(3 * n), cs = new Float64Array(4);
  normalizePoints(xn, cs, X, null, n);
  const R = so3Exp(new Float64Array(9), pose, 6 * b);
  const tn = new Float64Array(3);
  for (let a = 0; a < 3; a++) tn[a] = (R[3 * a] * cs[0] + R[3 * a + 1] * cs[1] + R[3 * a + 2] * cs[2] + pose[6 * b + 3 + a]) / cs[3];
  return { xn, cs, R, tn, K: pr.sharedK ? pr.K : pr.K.subarray(9 * b, 9 * b + 9), x: pr.pts2d.subarray(2 * n * b, 2 * n * (b + 1)) };
}

describe('upstreamToChart (step 1)', () => {
  it('equals the central-difference gradient of a.r + b.t in the left chart', () => {
    const pr = makeProblems({ B: 4, n: 6, seed: 31 });
    const rng = makeRng(5);
    // Include a rotation near pi, where Jl^-1 is least benign.
    const poses = pr.poseGT.slice();
    poses.set([0, Math.PI - 1e-3, 0], 18);
    for (let b = 0; b < 4; b++) {
      const { cs, R, tn } = normalised(pr, b, poses);
      const gp = Float64Array.from({ length: 6 }, () => rng.normal());
      const r = so3Log(new Float64Array(3), R);
      const g = upstreamToChart(new Float64Array(6), gp, r, R, cs, cs[3]);
      const L = (xi: Float64Array): number => {
        const Rx = so3LeftUpdate(new Float64Array(9), xi, R);
        const rx = so3Log(new Float64Array(3), Rx);
        let l = 0;
        for (let a = 0; a < 3; a++) {
          const t = cs[3] * (tn[a] + xi[3 + a]) - (Rx[3 * a] * cs[0] + Rx[3 * a + 1] * cs[1] + Rx[3 * a + 2] * cs[2]);
          l += gp[a] * rx[a] + gp[3 + a] * t;
        }
        return l;
      };
      const fd = new Float64Array(6);
      const h = 1e-6;
      for (let j = 0; j < 6; j++) {
        const p = new Float64Array(6); p[j] = h;
        const m = new Float64Array(6); m[j] = -h;
        fd[j] = (L(p) - L(m)) / (2 * h);
      }
      expect(relErr(g, fd), `|g_chart - central difference| / |fd| (problem ${b})`).toBeLessThan(1e-8);
    }
  });
});

describe('accumulateHessian (step 2)', () => {
  it('equals the second central differences of the pixel objective in the chart, away from the optimum, general K', () => {
    const pr = makeProblems({ B: 1, n: 7, noisePx: 3, seed: 77 });
    // General K (last row not [0, 0, 1]) and points 3 px off, at a pose away from the optimum.
    const K = Float64Array.of(572.4, 1.5, 325.3, 0.2, 573.6, 242.0, 1e-5, -2e-5, 1.01);
    const start = perturbPoses(pr.poseGT, 0.05, 20, 3);
    const { xn, R, tn, x } = normalised(pr, 0, start);
    const w = Float64Array.of(1, 0.5, 2, 1.5, 0.7, 1, 1.2);
    const H = new Float64Array(36);
    for (let i = 0; i < 7; i++) accumulateHessian(H, K, R, tn, xn, x, i, w[i]);
    const f = (xi: Float64Array): number => {
      const Rx = so3LeftUpdate(new Float64Array(9), xi, R);
      const tx = Float64Array.of(tn[0] + xi[3], tn[1] + xi[4], tn[2] + xi[5]);
      return lmCost(K, Rx, tx, xn, x, w, 7, 1); // fbar = 1: the pixel objective
    };
    const h = 1e-4;
    let maxH = 0;
    for (const v of H) maxH = Math.max(maxH, Math.abs(v));
    for (let a = 0; a < 6; a++) {
      for (let b = 0; b < 6; b++) {
        expect(H[6 * a + b], `H symmetric at (${a}, ${b})`).toBeCloseTo(H[6 * b + a], 6);
        const e = (da: number, db: number): number => {
          const xi = new Float64Array(6); xi[a] += da; xi[b] += db;
          return f(xi);
        };
        const fd = (e(h, h) - e(h, -h) - e(-h, h) + e(-h, -h)) / (4 * h * h);
        expect(Math.abs(H[6 * a + b] - fd), `|H[${a}][${b}] - second central difference| (max |H| = ${maxH.toExponential(2)})`)
          .toBeLessThan(1e-6 * maxH);
      }
    }
  });
});

/** Central differences of L(z) = gradPose . pose(z) for every entry of one input, re-solving exactly. */
function fdGradient(
  inputs: PnpBatchInput,
  key: 'pts2d' | 'pts3d' | 'K' | 'weights',
  basePose: Float64Array,
  gradPose: Float64Array,
  stepOf: (j: number) => number,
): Float64Array {
  const arr = inputs[key] as Float64Array;
  const fd = new Float64Array(arr.length);
  const L = (z: Float64Array): number => {
    const res = solveExact({ ...inputs, [key]: z, initPose: basePose });
    for (let b = 0; b < inputs.B; b++) {
      expect(res.status[b], `status of perturbed ${key} solve, problem ${b}`).toBe(0);
    }
    let l = 0;
    for (let j = 0; j < gradPose.length; j++) l += gradPose[j] * res.pose[j];
    return l;
  };
  for (let j = 0; j < arr.length; j++) {
    const h = stepOf(j);
    const p = arr.slice(); p[j] += h;
    const m = arr.slice(); m[j] -= h;
    fd[j] = (L(p) - L(m)) / (2 * h);
  }
  return fd;
}

// Steps: 1e-3 px, 1e-3 mm, weights 1e-5; K rows 0-1 by 1e-2, K[2][0..1] (1/mm) by 1e-7, K[2][2] by 1e-5.
const kSteps = [1e-2, 1e-2, 1e-2, 1e-2, 1e-2, 1e-2, 1e-7, 1e-7, 1e-5];
const steps = {
  pts2d: () => 1e-3,
  pts3d: () => 1e-3,
  K: (j: number) => kSteps[j % 9],
  weights: () => 1e-5,
};

interface Case {
  name: string;
  B: number;
  n: number;
  planar: boolean;
  noisePx: number;
  sharedPts3d: boolean;
  sharedK: boolean;
  weighted: boolean;
  seed: number;
  /** K's last row set to (1e-4, -5e-5, 1.2) per mm: the layer takes any 3x3 K, not only a pinhole's */
  projectiveK?: boolean;
}

const cases: Case[] = [
  { name: 'non-planar, shared pts3d and K, no weights', B: 3, n: 10, planar: false, noisePx: 2, sharedPts3d: true, sharedK: true, weighted: false, seed: 1 },
  { name: 'non-planar, per-batch pts3d and K, weights', B: 3, n: 8, planar: false, noisePx: 3, sharedPts3d: false, sharedK: false, weighted: true, seed: 2 },
  { name: 'planar, shared pts3d, per-batch K, weights', B: 2, n: 8, planar: true, noisePx: 1, sharedPts3d: true, sharedK: false, weighted: true, seed: 3 },
  { name: 'non-planar n = 6, per-batch pts3d, shared K, weights', B: 2, n: 6, planar: false, noisePx: 1.5, sharedPts3d: false, sharedK: true, weighted: true, seed: 4 },
  { name: 'non-planar, a K whose last row is not (0, 0, 1), weights', B: 2, n: 8, planar: false, noisePx: 1, sharedPts3d: true, sharedK: true, weighted: true, seed: 5, projectiveK: true },
];

describe('pnpBackwardBatch against central differences of the converged optimum (the key test)', () => {
  for (const c of cases) {
    it(c.name, () => {
      const pr = makeProblems({ B: c.B, n: c.n, planar: c.planar, noisePx: c.noisePx, seed: c.seed, sharedPts3d: c.sharedPts3d, sharedK: c.sharedK });
      if (c.projectiveK) pr.K.set([1e-4, -5e-5, 1.2], 6);
      const rng = makeRng(c.seed + 1000);
      const weights = c.weighted ? Float64Array.from({ length: c.B * c.n }, () => rng.uniform(0.5, 2)) : undefined;
      const inputs: PnpBatchInput = {
        pts2d: pr.pts2d, pts3d: pr.pts3d, K: pr.K, weights, B: c.B, n: c.n, sharedPts3d: c.sharedPts3d, sharedK: c.sharedK,
      };
      const base = solveExact({ ...inputs, initPose: perturbPoses(pr.poseGT, 0.02, 5, c.seed) });
      for (let b = 0; b < c.B; b++) expect(base.status[b], `base status of problem ${b}`).toBe(0);
      const gradPose = Float64Array.from({ length: 6 * c.B }, () => rng.normal());
      const grads = pnpBackwardBatch({ ...inputs, pose: base.pose, status: base.status, gradPose });
      expect(grads.gradPts3d.length, 'gradPts3d length').toBe(c.sharedPts3d ? 3 * c.n : 3 * c.B * c.n);
      expect(grads.gradK.length, 'gradK length').toBe(c.sharedK ? 9 : 9 * c.B);
      expect(grads.gradWeights === undefined, 'gradWeights present exactly when weights are').toBe(!c.weighted);
      const keys = c.weighted ? (['pts2d', 'pts3d', 'K', 'weights'] as const) : (['pts2d', 'pts3d', 'K'] as const);
      const analytic = { pts2d: grads.gradPts2d, pts3d: grads.gradPts3d, K: grads.gradK, weights: grads.gradWeights };
      for (const key of keys) {
        const fd = fdGradient(inputs, key, base.pose, gradPose, steps[key]);
        const an = analytic[key]!;
        const err = relErr(an, fd);
        expect(err, `|dL/d${key} implicit - central difference| / |fd| (${c.name})`).toBeLessThan(1e-6);
      }
    });
  }

  it('has teeth: the Gauss-Newton Hessian (no residual terms, as in BPnP) misses the differences', () => {
    const pr = makeProblems({ B: 1, n: 10, noisePx: 3, seed: 17 });
    const inputs: PnpBatchInput = { pts2d: pr.pts2d, pts3d: pr.pts3d, K: pr.K, B: 1, n: 10, sharedPts3d: true, sharedK: true };
    const base = solveExact({ ...inputs, initPose: pr.poseGT });
    const gradPose = Float64Array.of(0.4, -0.8, 1.1, 0.9, -0.3, 0.6);
    const fd = fdGradient(inputs, 'pts2d', base.pose, gradPose, steps.pts2d);
    const exact = pnpBackwardBatch({ ...inputs, pose: base.pose, status: base.status, gradPose }).gradPts2d;
    const { xn, cs, R, tn, K, x } = normalised(pr, 0, base.pose);
    const g = upstreamToChart(new Float64Array(6), gradPose, base.pose, R, cs, cs[3]);
    const A = new Float64Array(36);
    const fbar = focalScale(K);
    lmNormalEquations(A, new Float64Array(6), K, R, tn, xn, x, null, 10, fbar);
    const v = new Float64Array(6);
    expect(cholSolve6(v, A.map((a) => 2 * fbar * fbar * a), g), 'Gauss-Newton Hessian is positive definite').toBe(true);
    const gn = new Float64Array(20), pg = new Float64Array(15);
    for (let i = 0; i < 10; i++) {
      pointGradients(pg, K, R, cs[3], tn, v, xn, x, i, 1);
      gn[2 * i] = pg[0]; gn[2 * i + 1] = pg[1];
    }
    expect(relErr(exact, fd), 'exact-Hessian dL/dpts2d vs central difference').toBeLessThan(1e-6);
    expect(relErr(gn, fd), 'Gauss-Newton-Hessian dL/dpts2d vs central difference (should be far off)').toBeGreaterThan(1e-4);
  });

  it('dL/dw at w = 0 is the one-sided derivative as the point switches on', () => {
    const pr = makeProblems({ B: 1, n: 8, noisePx: 2, seed: 8 });
    const weights = Float64Array.of(1, 1, 0, 1, 1, 1, 1, 1);
    const inputs: PnpBatchInput = { pts2d: pr.pts2d, pts3d: pr.pts3d, K: pr.K, weights, B: 1, n: 8, sharedPts3d: true, sharedK: true };
    const base = solveExact({ ...inputs, initPose: pr.poseGT });
    const gradPose = Float64Array.of(0.3, -1, 0.5, 1, 2, -0.7);
    const grads = pnpBackwardBatch({ ...inputs, pose: base.pose, status: base.status, gradPose });
    const L = (w2: number): number => {
      const w = weights.slice(); w[2] = w2;
      const res = solveExact({ ...inputs, weights: w, initPose: base.pose });
      return Array.from(res.pose).reduce((s, v, j) => s + v * gradPose[j], 0);
    };
    const h = 1e-5;
    // Second-order one-sided difference.
    const fd = (-3 * L(0) + 4 * L(h) - L(2 * h)) / (2 * h);
    expect(Math.abs(grads.gradWeights![2] - fd) / Math.abs(fd), 'one-sided dL/dw_2 at w_2 = 0 vs difference').toBeLessThan(1e-6);
    expect(grads.gradPts2d[4], 'dL/dx of a w = 0 point').toBe(0);
    expect(grads.gradPts2d[5], 'dL/dy of a w = 0 point').toBe(0);
    expect(Array.from(grads.gradPts3d.subarray(6, 9)), 'dL/dX of a w = 0 point').toEqual([0, 0, 0]);
  });
});

describe('pnpBackwardOne and pointGradients', () => {
  it('write every output, return, leave inputs untouched; match the batch', () => {
    const pr = makeProblems({ B: 1, n: 6, noisePx: 1, seed: 13 });
    const base = solveExact({ pts2d: pr.pts2d, pts3d: pr.pts3d, K: pr.K, B: 1, n: 6, sharedPts3d: true, sharedK: true, initPose: pr.poseGT });
    const gradPose = Float64Array.of(1, 2, 3, -1, 0.5, 0.25);
    const copies = [pr.pts2d.slice(), pr.pts3d.slice(), pr.K.slice(), base.pose.slice(), gradPose.slice()];
    const out = {
      gradPts2d: new Float64Array(12).fill(NaN),
      gradPts3d: new Float64Array(18).fill(NaN),
      gradK: new Float64Array(9).fill(NaN),
      gradWeights: new Float64Array(6).fill(NaN),
    };
    expect(pnpBackwardOne(out, pr.pts2d, pr.pts3d, pr.K, null, 6, base.pose, gradPose), 'pnpBackwardOne success flag').toBe(true);
    for (const [name, arr] of Object.entries(out)) {
      expect(Array.from(arr).every(Number.isFinite), `${name} fully written (no NaN left)`).toBe(true);
    }
    [pr.pts2d, pr.pts3d, pr.K, base.pose, gradPose].forEach((a, k) => {
      expect(Array.from(a), `input ${k} untouched`).toEqual(Array.from(copies[k]));
    });
    const batch = pnpBackwardBatch({ pts2d: pr.pts2d, pts3d: pr.pts3d, K: pr.K, B: 1, n: 6, sharedPts3d: true, sharedK: true, pose: base.pose, status: base.status, gradPose });
    expect(Array.from(batch.gradPts2d), 'batch gradPts2d vs pnpBackwardOne').toEqual(Array.from(out.gradPts2d));
    expect(Array.from(batch.gradK), 'batch gradK vs pnpBackwardOne').toEqual(Array.from(out.gradK));
    const pg = new Float64Array(15);
    const { xn, cs, R, tn } = normalised(pr, 0, base.pose);
    expect(pointGradients(pg, pr.K, R, cs[3], tn, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6], xn, pr.pts2d, 0, 1), 'pointGradients returns out').toBe(pg);
  });
});
