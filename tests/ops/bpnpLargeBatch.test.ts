/**
 * The WGSL path at the largest batch the op promises, B = 65,536 (n = 8): every problem solved and
 * differentiated (dL/dpts2d, dL/dpts3d, dL/dK, dL/dweights, each problem with its own points, K and
 * weights) in one forward (two dispatches) and one backward dispatch, checked on a sample against the float64 reference. Warm-started (initPose) so that SwiftShader spends its time on the batch size rather
 * than on 65,536 EPnP runs; EPnP itself is held against the reference in tests/kernels.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { bpnp } from '../../src/ops/bpnp';
import { pnpBackwardBatch, solvePnpBatch } from '../../src/solver/pnp';
import { PnpStatus } from '../../src/solver/status';
import { perturbPoses, makeProblems } from '../../src/synthetic/pnpProblems';
import { makeRng } from '../helpers/rng';
import { rotationErrorRad, translationRelError } from '../helpers/poseError';
import { requireWebgpu } from '../helpers/webgpu';

beforeAll(requireWebgpu);

const kB = 65_536;
const kN = 8;
const kSample = 256;

const kNames = ['dL/dpts2d', 'dL/dpts3d', 'dL/dK', 'dL/dweights'];
/** Median bounds per gradient, as tests/kernels/pnpKernels.test.ts's kMedianBound. */
const kMedianBound = [2.5e-5, 2.5e-5, 4e-5, 1.2e-4];

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

function relNorm(a: ArrayLike<number>, aOff: number, b: ArrayLike<number>, bOff: number, len: number): number {
  let d = 0, nb = 0;
  for (let i = 0; i < len; i++) {
    d += (a[aOff + i] - b[bOff + i]) ** 2;
    nb += b[bOff + i] ** 2;
  }
  return Math.sqrt(d / Math.max(nb, 1e-30));
}

describe('bpnp on WebGPU at B = 65,536', () => {
  it('solves and differentiates every problem in pts2d, pts3d, K and weights; a sample matches the float64 reference', async () => {
    // Per-problem points, K and weights, so that each problem's dL/dpts3d, dL/dK and dL/dweights is its own
    // (shared ones are summed over the batch) and an indexing error in any of the four shows up.
    const p = makeProblems({ B: kB, n: kN, noisePx: 1, seed: 65536, sharedPts3d: false, sharedK: false });
    const rng = makeRng(65537);
    const weights = Float64Array.from({ length: kB * kN }, () => rng.uniform(0.5, 1.5));
    const init = perturbPoses(p.poseGT, 0.1, 10, 7);
    const gradPose = Float64Array.from({ length: 6 * kB }, (_, i) => Math.cos(0.7 * i));
    const pts2d = tf.tensor3d(Float32Array.from(p.pts2d), [kB, kN, 2]);
    const pts3d = tf.tensor3d(Float32Array.from(p.pts3d), [kB, kN, 3]);
    const K = tf.tensor3d(Float32Array.from(p.K), [kB, 3, 3]);
    const w = tf.tensor2d(Float32Array.from(weights), [kB, kN]);
    const initPose = tf.tensor2d(Float32Array.from(init), [kB, 6]);
    const dy = tf.tensor2d(Float32Array.from(gradPose), [kB, 6]);
    const { pose, status } = bpnp(pts2d, pts3d, K, { weights: w, initPose });
    const grads = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor, d: tf.Tensor) =>
      bpnp(a as tf.Tensor3D, b as tf.Tensor3D, c as tf.Tensor3D, { weights: d as tf.Tensor2D, initPose }).pose)([pts2d, pts3d, K, w], dy);
    const poseV = await pose.data();
    const statusV = await status.data();
    const gradV = await Promise.all(grads.map((g) => g.data()));
    tf.dispose([pts2d, pts3d, K, w, initPose, dy, pose, status, ...grads]);

    let converged = 0;
    for (let b = 0; b < kB; b++) if (statusV[b] === PnpStatus.Converged) converged++;
    expect(converged / kB, 'share of the 65,536 problems converged').toBeGreaterThanOrEqual(0.999);
    expect(poseV.every(Number.isFinite), 'every pose finite').toBe(true);
    gradV.forEach((g, i) => expect(g.every(Number.isFinite), `every ${kNames[i]} finite`).toBe(true));

    // Problems spread over the whole batch, the last one included: an indexing error shows up here.
    const idx = Array.from({ length: kSample }, (_, j) => Math.floor((j * (kB - 1)) / (kSample - 1)));
    const sub = (a: Float64Array, stride: number) => {
      const out = new Float64Array(idx.length * stride);
      idx.forEach((b, j) => out.set(a.subarray(b * stride, (b + 1) * stride), j * stride));
      return out;
    };
    const input = {
      pts2d: sub(p.pts2d, 2 * kN), pts3d: sub(p.pts3d, 3 * kN), K: sub(p.K, 9), weights: sub(weights, kN),
      B: kSample, n: kN, sharedPts3d: false, sharedK: false,
    };
    const ref = solvePnpBatch({ ...input, initPose: sub(init, 6) });
    const refGrad = pnpBackwardBatch({ ...input, pose: ref.pose, status: ref.status, gradPose: sub(gradPose, 6) });
    const refGrads = [refGrad.gradPts2d, refGrad.gradPts3d, refGrad.gradK, refGrad.gradWeights!];
    const strides = [2 * kN, 3 * kN, 9, kN];
    const errs: number[][] = [[], [], [], []];
    let agree = 0;
    const bad: string[] = [];
    idx.forEach((b, j) => {
      const rot = rotationErrorRad(poseV, ref.pose, 6 * b, 6 * j);
      const t = translationRelError(poseV, ref.pose, 6 * b, 6 * j);
      const g = strides.map((s, i) => relNorm(gradV[i], s * b, refGrads[i], s * j, s));
      if (ref.status[j] === PnpStatus.Converged) g.forEach((e, i) => errs[i].push(e));
      if (statusV[b] === ref.status[j] && rot < 1e-4 && t < 1e-4 && g.every((e) => e < 1e-2)) agree++;
      else bad.push(`b=${b}: status ${statusV[b]}/${ref.status[j]} rot ${rot.toExponential(1)} t ${t.toExponential(1)} grads ${g.map((e) => e.toExponential(1)).join(' ')}`);
    });
    if (bad.length) console.log(`[B=65536] disagreements:\n  ${bad.join('\n  ')}`);
    console.log(`[B=65536] sampled gradient error vs float64: ${kNames.map((nm, i) => `${nm} median ${quantile(errs[i], 0.5).toExponential(1)} max ${quantile(errs[i], 1).toExponential(1)}`).join(', ')}`);
    expect(agree, `sampled problems agreeing with float64 (of ${kSample})`).toBeGreaterThanOrEqual(kSample - 1);
    // The same bounds as the 1,200-problem comparison of tests/kernels/pnpKernels.test.ts (5 times its
    // measured medians): the batch size changes nothing in a problem's arithmetic.
    kNames.forEach((nm, i) => expect(quantile(errs[i], 0.5), `${nm}: median relative error`).toBeLessThan(kMedianBound[i]));
  });
});
