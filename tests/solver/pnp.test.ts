import { describe, expect, it } from 'vitest';
import { pnpBackwardBatch, solvePnpBatch, type PnpBatchInput } from '../../src/solver/pnp';
import { projectPoints } from '../../src/solver/projection';
import { so3Exp } from '../../src/solver/so3';
import { kF32InputEps, PnpStatus, pnpStatusName } from '../../src/solver/status';
import { kUtmOffset, makeGcpProblems } from '../helpers/gcpProblems';
import { makeProblems, perturbPoses } from '../../src/synthetic/pnpProblems';
import { rotationErrorRad, translationRelError } from '../helpers/poseError';
import { makeRng } from '../helpers/rng';

const allFinite = (a: ArrayLike<number>): boolean => Array.from(a).every(Number.isFinite);
const allZero = (a: ArrayLike<number>): boolean => Array.from(a).every((v) => v === 0);

/** Runs forward and backward on a batch and returns both, with a random upstream gradient. */
function forwardBackward(inp: PnpBatchInput) {
  const fwd = solvePnpBatch(inp);
  const rng = makeRng(99);
  const gradPose = Float64Array.from({ length: 6 * inp.B }, () => rng.normal());
  const bwd = pnpBackwardBatch({ ...inp, pose: fwd.pose, status: fwd.status, gradPose });
  return { fwd, bwd };
}

describe('solvePnpBatch with initPose', () => {
  for (const planar of [false, true]) {
    it(`recovers noise-free ground truth to 1e-9 (${planar ? 'planar' : 'non-planar'}, per-batch pts3d and K)`, () => {
      for (const n of [4, 8, 32]) {
        const pr = makeProblems({ B: 5, n, planar, seed: 40 + n, sharedPts3d: false, sharedK: false });
        const res = solvePnpBatch({ ...pr, initPose: perturbPoses(pr.poseGT, 0.1, 20, n) });
        for (let b = 0; b < 5; b++) {
          expect(pnpStatusName(res.status[b]), `status of problem ${b}, n = ${n}`).toBe('Converged');
          expect(rotationErrorRad(res.pose, pr.poseGT, 6 * b, 6 * b), `rotation error rad, problem ${b}, n = ${n}`).toBeLessThan(1e-9);
          expect(translationRelError(res.pose, pr.poseGT, 6 * b, 6 * b), `relative translation error, problem ${b}, n = ${n}`).toBeLessThan(1e-9);
          expect(res.iterations[b], `iterations > 0, problem ${b}`).toBeGreaterThan(0);
        }
      }
    });
  }

  it('accepts Float32Array inputs and leaves every input untouched', () => {
    const pr = makeProblems({ B: 2, n: 8, noisePx: 1, seed: 3 });
    const weights = new Float64Array(16).fill(1);
    const initPose = perturbPoses(pr.poseGT, 0.05, 10, 1);
    const inp: PnpBatchInput = { ...pr, weights, initPose };
    const copies = { pts2d: pr.pts2d.slice(), pts3d: pr.pts3d.slice(), K: pr.K.slice(), weights: weights.slice(), initPose: initPose.slice() };
    const { fwd, bwd } = forwardBackward(inp);
    for (const [name, copy] of Object.entries(copies)) {
      expect(Array.from(inp[name as keyof typeof copies]!), `${name} untouched by forward and backward`).toEqual(Array.from(copy));
    }
    expect(allFinite(bwd.gradPts2d) && allFinite(bwd.gradPts3d) && allFinite(bwd.gradK), 'gradients finite').toBe(true);
    const f32 = solvePnpBatch({
      ...pr, pts2d: Float32Array.from(pr.pts2d), pts3d: Float32Array.from(pr.pts3d), K: Float32Array.from(pr.K), initPose,
    });
    for (let b = 0; b < 2; b++) {
      expect(rotationErrorRad(f32.pose, fwd.pose, 6 * b, 6 * b), `rotation from float32 inputs vs float64, problem ${b}`).toBeLessThan(1e-4);
    }
  });

  it('throws on malformed shapes, naming the argument', () => {
    const pr = makeProblems({ B: 2, n: 5, seed: 1 });
    expect(() => solvePnpBatch({ ...pr, pts2d: pr.pts2d.subarray(1) }), 'short pts2d').toThrow(/pts2d: expected \(B, n, 2\)/);
    expect(() => solvePnpBatch({ ...pr, sharedPts3d: false }), 'shared pts3d declared per-batch').toThrow(/pts3d/);
    expect(() => solvePnpBatch({ ...pr, sharedK: false }), 'shared K declared per-batch').toThrow(/K: expected/);
    expect(() => solvePnpBatch({ ...pr, weights: new Float64Array(3) }), 'short weights').toThrow(/weights/);
    expect(() => solvePnpBatch({ ...pr, initPose: new Float64Array(6) }), 'short initPose').toThrow(/initPose/);
  });
});

describe('solvePnpBatch with the EPnP initialiser (no initPose)', () => {
  for (const planar of [false, true]) {
    it(`recovers noise-free ground truth to 1e-9 (${planar ? 'planar' : 'non-planar'})`, () => {
      for (const n of [6, 8, 32]) {
        const pr = makeProblems({ B: 6, n, planar, seed: 70 + n, sharedPts3d: false, sharedK: false });
        const res = solvePnpBatch(pr);
        for (let b = 0; b < 6; b++) {
          expect(pnpStatusName(res.status[b]), `status of problem ${b}, n = ${n}`).toBe('Converged');
          expect(rotationErrorRad(res.pose, pr.poseGT, 6 * b, 6 * b), `rotation error rad, problem ${b}, n = ${n}`).toBeLessThan(1e-9);
          expect(translationRelError(res.pose, pr.poseGT, 6 * b, 6 * b), `relative translation error, problem ${b}, n = ${n}`).toBeLessThan(1e-9);
        }
      }
    });
  }

  it('finds the same optimum as LM started from the truth, with 2 px noise', () => {
    const pr = makeProblems({ B: 8, n: 16, noisePx: 2, seed: 5 });
    const res = solvePnpBatch(pr);
    const fromTruth = solvePnpBatch({ ...pr, initPose: pr.poseGT });
    for (let b = 0; b < 8; b++) {
      expect(res.status[b], `status of problem ${b}`).toBe(PnpStatus.Converged);
      expect(rotationErrorRad(res.pose, fromTruth.pose, 6 * b, 6 * b), `rotation rad, EPnP start vs truth start, problem ${b}`).toBeLessThan(1e-7);
      expect(translationRelError(res.pose, fromTruth.pose, 6 * b, 6 * b), `relative translation, EPnP start vs truth start, problem ${b}`).toBeLessThan(1e-7);
    }
  });
});

describe('failed problems: status, a finite pose and zero gradients', () => {
  const n = 8;
  const pr = makeProblems({ B: 1, n, noisePx: 1, seed: 11 });
  const one = (over: Partial<PnpBatchInput>): PnpBatchInput => ({ ...pr, initPose: pr.poseGT, ...over });

  const cases: { name: string; inp: PnpBatchInput; status: number; zeroPose: boolean }[] = [
    { name: 'n = 3', inp: { ...one({}), n: 3, pts2d: pr.pts2d.slice(0, 6), pts3d: pr.pts3d.slice(0, 9) }, status: PnpStatus.TooFewPoints, zeroPose: true },
    { name: 'three non-zero weights', inp: one({ weights: Float64Array.of(1, 0, 0, 1, 0, 2, 0, 0) }), status: PnpStatus.TooFewPoints, zeroPose: true },
    { name: 'coincident points', inp: one({ pts3d: new Float64Array(3 * n).fill(25) }), status: PnpStatus.Degenerate, zeroPose: true },
    {
      name: 'collinear points',
      inp: one({ pts3d: Float64Array.from({ length: 3 * n }, (_, j) => (j % 3 === 0 ? 10 * Math.floor(j / 3) : j % 3 === 1 ? 5 : -3 * Math.floor(j / 3))) }),
      status: PnpStatus.Degenerate, zeroPose: true,
    },
    { name: 'NaN in pts2d', inp: one({ pts2d: pr.pts2d.map((v, j) => (j === 3 ? NaN : v)) }), status: PnpStatus.InvalidInput, zeroPose: true },
    { name: 'Inf in pts3d', inp: one({ pts3d: pr.pts3d.map((v, j) => (j === 4 ? Infinity : v)) }), status: PnpStatus.InvalidInput, zeroPose: true },
    { name: 'NaN in K', inp: one({ K: pr.K.map((v, j) => (j === 2 ? NaN : v)) }), status: PnpStatus.InvalidInput, zeroPose: true },
    { name: '-Inf in K', inp: one({ K: pr.K.map((v, j) => (j === 8 ? -Infinity : v)) }), status: PnpStatus.InvalidInput, zeroPose: true },
    { name: 'NaN weight', inp: one({ weights: Float64Array.of(1, 1, NaN, 1, 1, 1, 1, 1) }), status: PnpStatus.InvalidInput, zeroPose: true },
    { name: 'negative weight', inp: one({ weights: Float64Array.of(1, 1, 1, -1, 1, 1, 1, 1) }), status: PnpStatus.InvalidInput, zeroPose: true },
    { name: 'singular K', inp: one({ K: Float64Array.of(572, 0, 325, 0, 0, 242, 0, 0, 1) }), status: PnpStatus.InvalidInput, zeroPose: true },
    { name: 'NaN initPose', inp: one({ initPose: Float64Array.of(NaN, 0, 0, 0, 0, 500) }), status: PnpStatus.InvalidInput, zeroPose: true },
    { name: 'iteration cap', inp: one({ initPose: perturbPoses(pr.poseGT, 0.3, 100, 2), options: { maxIters: 1 } }), status: PnpStatus.NotConverged, zeroPose: false },
  ];

  // Points behind the camera at the solution: the object's centroid sits 10 mm in front of the camera
  // centre, so it straddles the plane z = 0, and pts2d are its exact projections, so LM from the truth
  // stays there.
  const behind = makeProblems({ B: 1, n, seed: 12 });
  const tBehind = behind.poseGT.slice();
  {
    const R = so3Exp(new Float64Array(9), tBehind);
    const c = [0, 1, 2].map((a) => behind.pts3d.filter((_, j) => j % 3 === a).reduce((s, v) => s + v, 0) / n);
    for (let a = 0; a < 3; a++) tBehind[3 + a] = (a === 2 ? 10 : 0) - (R[3 * a] * c[0] + R[3 * a + 1] * c[1] + R[3 * a + 2] * c[2]);
  }
  cases.push({
    name: 'points behind the camera',
    inp: { ...behind, pts2d: projectPoints(new Float64Array(2 * n), behind.pts3d, tBehind, behind.K, 1, n, true, true), initPose: tBehind },
    status: PnpStatus.BehindCamera, zeroPose: false,
  });

  for (const c of cases) {
    it(`${c.name} -> ${pnpStatusName(c.status)}`, () => {
      const { fwd, bwd } = forwardBackward(c.inp);
      expect(pnpStatusName(fwd.status[0]), `status for ${c.name}`).toBe(pnpStatusName(c.status));
      expect(allFinite(fwd.pose), `pose finite for ${c.name}`).toBe(true);
      if (c.zeroPose) expect(allZero(fwd.pose), `all-zero pose for ${c.name}`).toBe(true);
      else expect(allZero(fwd.pose), `last iterate (not zeros) for ${c.name}`).toBe(false);
      for (const [name, g] of Object.entries(bwd)) {
        expect(allZero(g as Float64Array), `${name} all zero (not NaN) for ${c.name}`).toBe(true);
      }
    });
  }

  it('a failed problem does not disturb its neighbours in the batch (per-batch and shared inputs)', () => {
    const good = makeProblems({ B: 3, n, noisePx: 1, seed: 21, sharedPts3d: false, sharedK: false });
    const pts2d = good.pts2d.slice();
    pts2d[2 * n + 1] = NaN; // problem 1
    const inp: PnpBatchInput = { ...good, pts2d, initPose: good.poseGT };
    const { fwd, bwd } = forwardBackward(inp);
    expect(Array.from(fwd.status), 'statuses of [good, NaN, good]').toEqual([0, PnpStatus.InvalidInput, 0]);
    const alone = solvePnpBatch({ ...good, B: 1, pts2d: good.pts2d.slice(0, 2 * n), pts3d: good.pts3d.slice(0, 3 * n), K: good.K.slice(0, 9), initPose: good.poseGT.slice(0, 6) });
    expect(Array.from(fwd.pose.subarray(0, 6)), 'problem 0 in the batch vs alone').toEqual(Array.from(alone.pose));
    expect(allZero(bwd.gradPts2d.subarray(2 * n, 4 * n)), 'gradPts2d of the failed problem').toBe(true);
    expect(allZero(bwd.gradPts3d.subarray(3 * n, 6 * n)), 'gradPts3d of the failed problem').toBe(true);
    expect(allZero(bwd.gradK.subarray(9, 18)), 'gradK of the failed problem').toBe(true);
    expect(allFinite(bwd.gradPts2d) && allFinite(bwd.gradPts3d) && allFinite(bwd.gradK), 'every gradient finite').toBe(true);
    expect(allZero(bwd.gradPts2d.subarray(0, 2 * n)), 'gradPts2d of a good problem is not zero').toBe(false);
  });

  it('w = 0 points may hold NaN, and the problem still solves', () => {
    const pts2d = pr.pts2d.slice();
    pts2d[0] = NaN;
    const pts3d = pr.pts3d.slice();
    pts3d[1] = Infinity;
    const weights = Float64Array.of(0, 1, 1, 1, 1, 1, 1, 1);
    const { fwd, bwd } = forwardBackward({ ...pr, pts2d, pts3d, weights, initPose: pr.poseGT });
    expect(fwd.status[0], 'status with NaN/Inf at a w = 0 point').toBe(PnpStatus.Converged);
    expect(allFinite(bwd.gradPts2d) && allFinite(bwd.gradPts3d) && allFinite(bwd.gradK) && allFinite(bwd.gradWeights!), 'gradients finite').toBe(true);
    expect(bwd.gradWeights![0], 'dL/dw of the non-finite w = 0 point').toBe(0);
  });
});

describe('solvePnpBatch on UTM-scale coordinates', () => {
  const B = 4, n = 8;
  const utm = makeGcpProblems(B, n, 99, kUtmOffset);
  const local = utm.pts3d.map((v, j) => v - kUtmOffset[j % 3]);
  const base = { pts2d: utm.pts2d, K: utm.K, B, n, sharedPts3d: false, sharedK: true };

  it('float64 input: Converged, the pose of the local problem moved to the UTM frame', () => {
    const loc = solvePnpBatch({ ...base, pts3d: local });
    const res = solvePnpBatch({ ...base, pts3d: utm.pts3d });
    const R = new Float64Array(9);
    for (let b = 0; b < B; b++) {
      expect(pnpStatusName(res.status[b]), `status of problem ${b}`).toBe('Converged');
      // The local pose (r, t') for X - c is (r, t' - R c) for X.
      so3Exp(R, loc.pose, 6 * b);
      const t = [0, 1, 2].map((a) => loc.pose[6 * b + 3 + a] - (R[3 * a] * kUtmOffset[0] + R[3 * a + 1] * kUtmOffset[1] + R[3 * a + 2] * kUtmOffset[2]));
      expect(rotationErrorRad(res.pose, loc.pose, 6 * b, 6 * b), `rotation, problem ${b}`).toBeLessThan(1e-9);
      for (let a = 0; a < 3; a++) expect(Math.abs(res.pose[6 * b + 3 + a] - t[a]), `t[${a}] of problem ${b}, m`).toBeLessThan(1e-3);
    }
  });

  it('the same values declared as float32 input (inputEps 2^-24): IllConditioned, with a finite pose', () => {
    const res = solvePnpBatch({ ...base, pts3d: Float64Array.from(Float32Array.from(utm.pts3d)), inputEps: kF32InputEps });
    for (let b = 0; b < B; b++) {
      expect(pnpStatusName(res.status[b]), `status of problem ${b}`).toBe('IllConditioned');
      for (let j = 0; j < 6; j++) expect(Number.isFinite(res.pose[6 * b + j]), `pose[${b}][${j}] finite`).toBe(true);
    }
    const loc = solvePnpBatch({ ...base, pts3d: local, inputEps: kF32InputEps });
    expect(Array.from(loc.status, pnpStatusName), 'the local problem at float32 precision').toEqual(['Converged', 'Converged', 'Converged', 'Converged']);
  });
});
