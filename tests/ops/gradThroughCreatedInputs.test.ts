/**
 * Differentiating the ops the way a training loop does: through tf.variableGrads, with the ops' inputs
 * created inside the differentiated function, and with respect to the pose that projectPoints receives.
 * Both broke the paper's demos (src/demos) before they were fixed, on both backends.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bpnp } from '../../src/ops/bpnp';
import { projectPoints } from '../../src/ops/projectPoints';
import { makeProblems } from '../../src/synthetic/pnpProblems';
import { requireWebgpu } from '../helpers/webgpu';

for (const backend of ['cpu', 'webgpu'] as const) {
  describe(`gradients through created inputs on the ${backend} backend`, () => {
    beforeAll(async () => {
      if (backend === 'webgpu') await requireWebgpu();
      else await tf.setBackend('cpu');
    });
    afterAll(() => tf.disposeVariables());

    it('bpnp differentiates inputs that the differentiated function itself creates (K from learnt intrinsics)', async () => {
      // tf.variableGrads runs the forward in a tidy that disposes such inputs before the backward pass;
      // the gradient must come from what bpnp saved, and match that of the same K passed in from outside.
      const p = makeProblems({ B: 3, n: 8, noisePx: 1, seed: 41 });
      const pts2d = tf.tensor3d(Float32Array.from(p.pts2d), [p.B, p.n, 2]);
      const pts3d = tf.tensor2d(Float32Array.from(p.pts3d), [p.n, 3]);
      const K = tf.tensor2d(Float32Array.from(p.K), [3, 3]);
      const theta = tf.variable(tf.tensor1d([p.K[0], p.K[4], p.K[2], p.K[5]]));
      const kFrom = (q: tf.Tensor): tf.Tensor2D => {
        const [fx, fy, cx, cy] = tf.unstack(q);
        const [zero, one] = [tf.scalar(0), tf.scalar(1)];
        return tf.stack([fx, zero, cx, zero, fy, cy, zero, zero, one]).reshape([3, 3]);
      };
      // Copies of pts2d and pts3d made inside f, so they too are disposed before the backward pass.
      const f = (k: tf.Tensor2D) => tf.sum(tf.square(bpnp(tf.mul(pts2d, 1), tf.add(pts3d, 0), k).pose)) as tf.Scalar;
      const inside = tf.variableGrads(() => f(kFrom(theta)), [theta]).grads[theta.name];
      const gK = await tf.grad((k: tf.Tensor) => f(k as tf.Tensor2D))(K).data();
      const expected = [gK[0], gK[4], gK[2], gK[5]];
      const got = Array.from(await inside.data());
      expect(expected.some((v) => v !== 0), 'a non-trivial gradient').toBe(true);
      for (let i = 0; i < 4; i++) expect(got[i], `dL/d intrinsic ${i}`).toBeCloseTo(expected[i], 3);
    });

    it('projectPoints differentiates with respect to the pose, at zero rotation and away from it', async () => {
      // tfjs 4.22 has no gradient for Less; Rodrigues' small-angle mask must not need one.
      const pts3d = tf.tensor2d([[10, 0, 0], [0, 20, 0], [0, 0, 30], [5, 5, 5]]);
      const K = tf.tensor2d([[500, 0, 320], [0, 500, 240], [0, 0, 1]]);
      const pose = tf.tensor2d([[0, 0, 0, 1, 2, 400], [0.3, -0.2, 0.1, 1, 2, 400]]);
      const g = await tf.grad((x: tf.Tensor) => tf.sum(projectPoints(x as tf.Tensor2D, pts3d, K)))(pose).data();
      expect(Array.from(g).every(Number.isFinite), 'finite gradient').toBe(true);
      // At zero rotation Xc = X + t, so d(sum u + v)/dtx = sum_i fx / zc_i, an independent oracle.
      const dtx = [400, 400, 430, 405].reduce((sum, z) => sum + 500 / z, 0);
      expect(g[3], 'dL/dtx at zero rotation').toBeCloseTo(dtx, 3);
      expect(Math.abs(g[6]) + Math.abs(g[7]) + Math.abs(g[8]), 'the rotation gets a gradient away from zero').toBeGreaterThan(0);
    });
  });
}
