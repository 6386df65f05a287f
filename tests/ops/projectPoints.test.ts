/**
 * projectPoints, the tfjs projection every loss uses, run as one suite on both backends: values against
 * the float64 reference (src/solver/projection), and its gradients with respect to pose, points and K
 * against central finite differences of that reference. Tolerances are float32's.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectPoints } from '../../src/ops/projectPoints';
import { projectPoints as projectF64 } from '../../src/solver/projection';
import { makeProblems } from '../../src/synthetic/pnpProblems';
import { makeRng } from '../helpers/rng';
import { requireWebgpu } from '../helpers/webgpu';

for (const backend of ['cpu', 'webgpu'] as const) {
  describe(`projectPoints on the ${backend} backend`, () => {
    beforeAll(async () => {
      if (backend === 'webgpu') await requireWebgpu();
      else await tf.setBackend('cpu');
    });
    afterAll(() => tf.disposeVariables());

    for (const shared of [true, false]) {
      it(`matches the float64 projection and its finite-difference gradients (${shared ? 'shared' : 'per-problem'} pts3d and K)`, async () => {
        const p = makeProblems({ B: 3, n: 5, seed: 7, sharedPts3d: shared, sharedK: shared });
        const { B, n } = p;
        // One pose at exactly zero rotation and one just inside Rodrigues' small-angle branch.
        const poses = Float64Array.from(p.poseGT);
        poses.fill(0, 0, 3);
        poses.set([1e-5, -2e-5, 1e-5], 6);
        const rng = makeRng(3);
        const w = Float64Array.from({ length: B * n * 2 }, () => rng.uniform(-1, 1));
        const loss64 = (pts: Float64Array, P: Float64Array, K: Float64Array) => {
          const out = projectF64(new Float64Array(B * n * 2), pts, P, K, B, n, shared, shared);
          return out.reduce((s, v, j) => s + w[j] * v, 0);
        };
        const pts3d = tf.tensor<tf.Rank>(Float32Array.from(p.pts3d), shared ? [n, 3] : [B, n, 3]) as tf.Tensor2D;
        const K = tf.tensor<tf.Rank>(Float32Array.from(p.K), shared ? [3, 3] : [B, 3, 3]) as tf.Tensor2D;
        const pose = tf.tensor2d(Float32Array.from(poses), [B, 6]);
        const proj = await projectPoints(pose, pts3d, K).data();
        const ref = projectF64(new Float64Array(B * n * 2), p.pts3d, poses, p.K, B, n, shared, shared);
        // 1e-5 of ~500 px: float32 arithmetic and the GPU's own sin and cos.
        for (let j = 0; j < ref.length; j++) expect(Math.abs(proj[j] - ref[j]), `pixel ${j}`).toBeLessThan(1e-2);

        const wT = tf.tensor3d(Float32Array.from(w), [B, n, 2]);
        const grads = tf.grads((P: tf.Tensor, X: tf.Tensor, k: tf.Tensor) => tf.sum(tf.mul(projectPoints(P as tf.Tensor2D, X as tf.Tensor2D, k as tf.Tensor2D), wT)))(
          [pose, pts3d, K]);
        const [gP, gX, gK] = await Promise.all(grads.map((g) => g.data()));
        const args = [poses, Float64Array.from(p.pts3d), Float64Array.from(p.K)];
        const central = (which: number, j: number, h: number) => {
          const plus = args.map((a) => Float64Array.from(a)), minus = args.map((a) => Float64Array.from(a));
          plus[which][j] += h;
          minus[which][j] -= h;
          return (loss64(plus[1], plus[0], plus[2]) - loss64(minus[1], minus[0], minus[2])) / (2 * h);
        };
        for (const [name, g, which, h] of [['pose', gP, 0, 1e-6], ['pts3d', gX, 1, 1e-4], ['K', gK, 2, 1e-4]] as const) {
          for (let j = 0; j < g.length; j++) {
            const fd = central(which, j, h);
            expect(Math.abs(g[j] - fd), `d/d${name}[${j}]: ${g[j]} vs finite differences ${fd}`).toBeLessThan(1e-3 * Math.max(1, Math.abs(fd)));
          }
        }
      });
    }
  });
}
