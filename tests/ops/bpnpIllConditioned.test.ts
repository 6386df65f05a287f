/**
 * Ill-conditioned input to the bpnp op, on both backends (cpu = the float64 solver on the float32
 * tensors' values; webgpu = the WGSL kernels on Dawn/SwiftShader), each against the float64 solver on the
 * unrounded float64 problem: UTM-scale offsets (reported, or solved after centring in float64), the same
 * object in millimetres, metres and micrometres, K scaled far from 1, K squeezing the image into a tiny
 * patch, and singular or non-finite K.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { bpnp } from '../../src/ops/bpnp';
import { pnpBackwardBatch, solvePnpBatch } from '../../src/solver/pnp';
import { projectPoints } from '../../src/solver/projection';
import { so3Exp } from '../../src/solver/so3';
import { PnpStatus, pnpStatusName } from '../../src/solver/status';
import { kUtmOffset, makeGcpProblems, type GcpProblems } from '../helpers/gcpProblems';
import { rotationErrorRad, translationRelError } from '../helpers/poseError';
import { makeProblems } from '../../src/synthetic/pnpProblems';
import { requireWebgpu } from '../helpers/webgpu';

/** Pose (r, t) for points X becomes (r, t + R c) for X - c. */
function shiftPoses(pose: ArrayLike<number>, c: readonly number[], B: number): Float64Array {
  const out = Float64Array.from(pose);
  const R = new Float64Array(9);
  for (let b = 0; b < B; b++) {
    so3Exp(R, out, 6 * b);
    for (let a = 0; a < 3; a++) out[6 * b + 3 + a] += R[3 * a] * c[0] + R[3 * a + 1] * c[1] + R[3 * a + 2] * c[2];
  }
  return out;
}

function relNorm(a: ArrayLike<number>, b: ArrayLike<number>, scaleB = 1): number {
  let d = 0, m = 0;
  for (let j = 0; j < a.length; j++) {
    d += (a[j] - scaleB * b[j]) ** 2;
    m += (scaleB * b[j]) ** 2;
  }
  return Math.sqrt(d / m);
}

async function runOp(pts2d: ArrayLike<number>, pts3d: ArrayLike<number>, K: ArrayLike<number>, B: number, n: number, shared3d: boolean) {
  const t2 = tf.tensor3d(Float32Array.from(pts2d), [B, n, 2]);
  const shape3d: number[] = shared3d ? [n, 3] : [B, n, 3];
  const t3 = tf.tensor<tf.Rank>(Float32Array.from(pts3d), shape3d) as tf.Tensor2D;
  const tK = tf.tensor2d(Float32Array.from(K), [3, 3]);
  const { pose, status } = bpnp(t2, t3, tK);
  const gradPose = tf.ones([B, 6]) as tf.Tensor2D;
  const grads = tf.grads((a: tf.Tensor, c: tf.Tensor, k: tf.Tensor) => bpnp(a as tf.Tensor3D, c as tf.Tensor2D, k as tf.Tensor2D).pose)([t2, t3, tK], gradPose);
  return { pose: await pose.data(), status: Array.from(await status.data()), grads: await Promise.all(grads.map((g) => g.data())) };
}

/** The float64 solver and backward (dL/dpose = 1) on float64 data. */
function reference(pts2d: Float64Array, pts3d: Float64Array, K: Float64Array, B: number, n: number, shared3d: boolean) {
  const inp = { pts2d, pts3d, K, B, n, sharedPts3d: shared3d, sharedK: true };
  const fwd = solvePnpBatch(inp);
  const g = pnpBackwardBatch({ ...inp, pose: fwd.pose, status: fwd.status, gradPose: new Float64Array(6 * B).fill(1) });
  return { ...fwd, ...g };
}

const kB = 6;
const kN = 8;

for (const backend of ['cpu', 'webgpu'] as const) {
  describe(`bpnp on ill-conditioned input, ${backend} backend`, () => {
    beforeAll(async () => {
      if (backend === 'webgpu') await requireWebgpu();
      else await tf.setBackend('cpu');
    });

    const utm: GcpProblems = makeGcpProblems(kB, kN, 713, kUtmOffset);
    const ref = reference(utm.pts2d, utm.pts3d, utm.K, kB, kN, false);

    it('the float64 reference solves the UTM problems (converged, near the ground truth)', () => {
      for (let b = 0; b < kB; b++) {
        expect(pnpStatusName(ref.status[b]), `float64 status of problem ${b}`).toBe('Converged');
        // 0.5 px of noise on 8 points 110 m away: the optimum lies within about 1 mrad of the truth.
        expect(rotationErrorRad(ref.pose, utm.poseGT, 6 * b, 6 * b), `float64 rotation error, problem ${b}`).toBeLessThan(3e-3);
      }
    });

    it('UTM coordinates as float32 tensors: IllConditioned, never Converged, with a finite pose', async () => {
      const out = await runOp(utm.pts2d, utm.pts3d, utm.K, kB, kN, false);
      for (let b = 0; b < kB; b++) {
        expect(pnpStatusName(out.status[b]), `status of problem ${b}`).toBe('IllConditioned');
        for (let j = 0; j < 6; j++) expect(Number.isFinite(out.pose[6 * b + j]), `pose[${b}][${j}] finite`).toBe(true);
        // Failed problems get zero gradients.
        for (let j = 0; j < 2 * kN; j++) expect(out.grads[0][2 * kN * b + j], `dL/dpts2d of problem ${b}`).toBe(0);
      }
    });

    it('UTM coordinates centred in float64 before the tensors: the float64 optimum', async () => {
      const centred = utm.pts3d.map((v, j) => v - kUtmOffset[j % 3]);
      const out = await runOp(utm.pts2d, centred, utm.K, kB, kN, false);
      const refCentred = shiftPoses(ref.pose, kUtmOffset, kB);
      for (let b = 0; b < kB; b++) {
        expect(pnpStatusName(out.status[b]), `status of problem ${b}`).toBe('Converged');
        expect(rotationErrorRad(out.pose, refCentred, 6 * b, 6 * b), `rotation vs float64, problem ${b}`).toBeLessThan(1e-4);
        expect(translationRelError(out.pose, refCentred, 6 * b, 6 * b), `translation vs float64, problem ${b}`).toBeLessThan(1e-4);
      }
      // dL/dpose = 1 is a different loss in each frame: the gradients' reference solves the centred problem.
      const refC = reference(utm.pts2d, centred, utm.K, kB, kN, false);
      expect(relNorm(out.grads[0], refC.gradPts2d), 'dL/dpts2d vs float64').toBeLessThan(1e-2);
      expect(relNorm(out.grads[1], refC.gradPts3d), 'dL/dpts3d vs float64').toBeLessThan(1e-2);
    });

    it('an offset of 60 times the spread (3 km on 50 m): Converged and at the float64 optimum', async () => {
      const off = [3000, -2000, 500];
      const p = makeGcpProblems(kB, kN, 714, off);
      const r = reference(p.pts2d, p.pts3d, p.K, kB, kN, false);
      const out = await runOp(p.pts2d, p.pts3d, p.K, kB, kN, false);
      // In the caller's frame, where |t| is about the 3.6 km to the camera: the f32 accuracy the op
      // promises (1e-4 rad, 1e-4 relative) holds there, and 2e-5 rad of f32 rotation error already moves
      // t by 0.07 m, so the 110 m of the local frame would not be a fair yardstick.
      for (let b = 0; b < kB; b++) {
        expect(pnpStatusName(out.status[b]), `status of problem ${b}`).toBe('Converged');
        expect(rotationErrorRad(out.pose, r.pose, 6 * b, 6 * b), `rotation vs float64, problem ${b}`).toBeLessThan(1e-4);
        expect(translationRelError(out.pose, r.pose, 6 * b, 6 * b), `translation vs float64, problem ${b}`).toBeLessThan(1e-4);
      }
    });

    it('the same object in millimetres, metres and micrometres: the same pose (t in the unit) as float64', async () => {
      const p = makeProblems({ B: kB, n: kN, seed: 15, noisePx: 1 });
      const r = reference(p.pts2d, p.pts3d, p.K, kB, kN, true);
      for (const unit of [1, 1e-3, 1e3]) {
        const pts3d = p.pts3d.map((v) => v * unit);
        const out = await runOp(p.pts2d, pts3d, p.K, kB, kN, true);
        // The millimetre optimum with t in the new unit: an independent check of the float64 solver too.
        const expected = r.pose.map((v, j) => (j % 6 >= 3 ? v * unit : v));
        const rU = reference(p.pts2d, pts3d, p.K, kB, kN, true);
        for (let b = 0; b < kB; b++) {
          expect(pnpStatusName(out.status[b]), `status of problem ${b}, unit ${unit} mm`).toBe('Converged');
          expect(rotationErrorRad(out.pose, expected, 6 * b, 6 * b), `rotation, problem ${b}, unit ${unit} mm`).toBeLessThan(1e-4);
          expect(translationRelError(out.pose, expected, 6 * b, 6 * b), `translation, problem ${b}, unit ${unit} mm`).toBeLessThan(1e-4);
        }
        // LM's float64 optimum is exact to about 1e-9 relative (its stop compares costs, which cannot tell
        // steps apart below their rounding: docs/pnp-maths.md), so two runs differing by rounding alone may
        // stop a few 1e-9 apart; a unit that reached the solver unnormalised would be off by far more.
        for (let b = 0; b < kB; b++) {
          expect(rotationErrorRad(rU.pose, expected, 6 * b, 6 * b), `float64 rotation, problem ${b}, unit ${unit} mm`).toBeLessThan(5e-9);
          expect(translationRelError(rU.pose, expected, 6 * b, 6 * b), `float64 translation, problem ${b}, unit ${unit} mm`).toBeLessThan(5e-9);
        }
        expect(relNorm(out.grads[0], rU.gradPts2d), `dL/dpts2d, unit ${unit} mm`).toBeLessThan(1e-2);
        expect(relNorm(out.grads[1], rU.gradPts3d), `dL/dpts3d, unit ${unit} mm`).toBeLessThan(1e-2);
      }
    });

    it('K scaled by 2^-70 or 1e20 (the same camera): the float64 pose, dL/dK divided by the scale', async () => {
      const p = makeProblems({ B: kB, n: kN, seed: 16, noisePx: 1 });
      const r = reference(p.pts2d, p.pts3d, p.K, kB, kN, true);
      for (const scale of [2 ** -70, 1e20]) {
        const out = await runOp(p.pts2d, p.pts3d, p.K.map((v) => v * scale), kB, kN, true);
        for (let b = 0; b < kB; b++) {
          expect(pnpStatusName(out.status[b]), `status of problem ${b}, K x ${scale}`).toBe('Converged');
          expect(rotationErrorRad(out.pose, r.pose, 6 * b, 6 * b), `rotation, problem ${b}, K x ${scale}`).toBeLessThan(1e-4);
          expect(translationRelError(out.pose, r.pose, 6 * b, 6 * b), `translation, problem ${b}, K x ${scale}`).toBeLessThan(1e-4);
        }
        expect(relNorm(out.grads[2], r.gradK, 1 / scale), `dL/dK, K x ${scale}`).toBeLessThan(1e-2);
      }
    });

    it('a K that squeezes the image into a patch of 0.01 px at (325, 242): IllConditioned', async () => {
      const p = makeProblems({ B: kB, n: kN, seed: 17 });
      const K = Float64Array.of(0.05, 0, 325.2611, 0, 0.05, 242.04899, 0, 0, 1);
      const pts2d = projectPoints(new Float64Array(kB * kN * 2), p.pts3d, p.poseGT, K, kB, kN, true, true);
      // The float64 solver on the float64 pixels resolves this camera; float32 pixels cannot.
      const r = solvePnpBatch({ pts2d, pts3d: p.pts3d, K, B: kB, n: kN, sharedPts3d: true, sharedK: true });
      const out = await runOp(pts2d, p.pts3d, K, kB, kN, true);
      for (let b = 0; b < kB; b++) {
        expect(pnpStatusName(r.status[b]), `float64 status of problem ${b}`).toBe('Converged');
        expect(rotationErrorRad(r.pose, p.poseGT, 6 * b, 6 * b), `float64 rotation error, problem ${b}`).toBeLessThan(1e-6);
        expect(pnpStatusName(out.status[b]), `status of problem ${b}`).toBe('IllConditioned');
      }
    });

    it('a singular or non-finite K is InvalidInput, named so, with a zero pose', async () => {
      const p = makeProblems({ B: 1, n: kN, seed: 18 });
      const bad = [
        Float64Array.of(572, 0, 325, 0, 573, 242, 0, 0, 0),
        Float64Array.of(572, 0, 325, 1144, 0, 650, 0, 0, 1),
        Float64Array.of(572, 0, 325, 0, NaN, 242, 0, 0, 1),
        Float64Array.of(572, 0, 325, 0, 573, Infinity, 0, 0, 1),
      ];
      for (const K of bad) {
        const out = await runOp(p.pts2d, p.pts3d, K, 1, kN, true);
        expect(out.status[0], `status for K = ${Array.from(K)}`).toBe(PnpStatus.InvalidInput);
        expect(pnpStatusName(out.status[0]), `status name for K = ${Array.from(K)}`).toBe('InvalidInput');
        expect(Array.from(out.pose), `pose for K = ${Array.from(K)}`).toEqual([0, 0, 0, 0, 0, 0]);
      }
    });
  });
}
