/**
 * The bpnp op's contract, run as one suite on both backends: cpu (float64 reference) and webgpu (WGSL
 * kernels on Dawn/SwiftShader, every op on the GPU). Tolerances are float32's.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bpnp } from '../../src/ops/bpnp';
import { projectPoints } from '../../src/ops/projectPoints';
import { so3Exp } from '../../src/solver/so3';
import { PnpStatus } from '../../src/solver/status';
import { makeProblems, type Problems } from '../../src/synthetic/pnpProblems';
import { rotationErrorRad, translationRelError } from '../helpers/poseError';
import { requireWebgpu } from '../helpers/webgpu';

function tensors(p: Problems) {
  const { B, n } = p;
  return {
    pts2d: tf.tensor3d(Float32Array.from(p.pts2d), [B, n, 2]),
    pts3d: tf.tensor<tf.Rank>(Float32Array.from(p.pts3d), p.sharedPts3d ? [n, 3] : [B, n, 3]) as tf.Tensor2D,
    K: tf.tensor<tf.Rank>(Float32Array.from(p.K), p.sharedK ? [3, 3] : [B, 3, 3]) as tf.Tensor2D,
  };
}

/** All of pose, status and the three gradients for dL/dpose = gradPose. */
async function solveWithGrads(pts2d: tf.Tensor3D, pts3d: tf.Tensor, K: tf.Tensor, gradPose: tf.Tensor2D, weights?: tf.Tensor2D) {
  const { pose, status } = bpnp(pts2d, pts3d as tf.Tensor2D, K as tf.Tensor2D, { weights });
  const args = weights ? [pts2d, pts3d, K, weights] : [pts2d, pts3d, K];
  const grads = tf.grads((...xs: tf.Tensor[]) =>
    bpnp(xs[0] as tf.Tensor3D, xs[1] as tf.Tensor2D, xs[2] as tf.Tensor2D, { weights: xs[3] as tf.Tensor2D | undefined }).pose,
  )(args, gradPose);
  return {
    pose: await pose.data(),
    status: Array.from(await status.data()),
    grads: await Promise.all(grads.map((g) => g.data())),
    gradShapes: grads.map((g) => g.shape),
  };
}

for (const backend of ['cpu', 'webgpu'] as const) {
  describe(`bpnp on the ${backend} backend`, () => {
    beforeAll(async () => {
      if (backend === 'webgpu') await requireWebgpu();
      else await tf.setBackend('cpu');
    });
    afterAll(() => tf.disposeVariables());

    it('names the argument and shape on bad input', () => {
      const good2d = tf.zeros([2, 5, 2]) as tf.Tensor3D;
      const K = tf.eye(3) as tf.Tensor2D;
      expect(() => bpnp(tf.zeros([2, 5, 3]) as tf.Tensor3D, tf.zeros([5, 3]) as tf.Tensor2D, K)).toThrow('bpnp: pts2d must have shape [*,*,2], got [2,5,3]');
      expect(() => bpnp(good2d, tf.zeros([4, 3]) as tf.Tensor2D, K)).toThrow('bpnp: pts3d must have shape [5,3], got [4,3]');
      expect(() => bpnp(good2d, tf.zeros([5, 3]) as tf.Tensor2D, tf.eye(4) as tf.Tensor2D)).toThrow('bpnp: K must have shape [3,3], got [4,4]');
      expect(() => bpnp(good2d, tf.zeros([5, 3]) as tf.Tensor2D, K, { weights: tf.ones([2, 4]) as tf.Tensor2D }))
        .toThrow('bpnp: weights must have shape [2,5], got [2,4]');
    });

    it('recovers ground truth from noise-free problems with no pose guess (planar and not, n = 4..64)', async () => {
      for (const [n, planar, seed] of [[4, false, 1], [6, true, 2], [8, false, 3], [64, true, 4]] as const) {
        const p = makeProblems({ B: 32, n, planar, seed });
        const t = tensors(p);
        const { pose, status } = bpnp(t.pts2d, t.pts3d, t.K);
        const P = await pose.data();
        const st = await status.data();
        let good = 0;
        for (let b = 0; b < p.B; b++) {
          if (st[b] === PnpStatus.Converged && rotationErrorRad(P, p.poseGT, 6 * b, 6 * b) < 1e-4 && translationRelError(P, p.poseGT, 6 * b, 6 * b) < 1e-4) good++;
        }
        expect(good, `problems of n=${n} planar=${planar} solved to 1e-4 of ground truth`).toBeGreaterThanOrEqual(p.B - 1);
      }
    });

    it('gives shared pts3d and K the batch sum of the per-problem gradients', async () => {
      const p = makeProblems({ B: 6, n: 8, noisePx: 1, seed: 11 });
      const t = tensors(p);
      const gradPose = tf.randomNormal([p.B, 6], 0, 1, 'float32', 5) as tf.Tensor2D;
      const shared = await solveWithGrads(t.pts2d, t.pts3d, t.K, gradPose);
      const perBatch = await solveWithGrads(t.pts2d, tf.tile(t.pts3d.expandDims(0), [p.B, 1, 1]), tf.tile(t.K.expandDims(0), [p.B, 1, 1]), gradPose);
      expect(shared.gradShapes).toEqual([[p.B, p.n, 2], [p.n, 3], [3, 3]]);
      expect(perBatch.gradShapes).toEqual([[p.B, p.n, 2], [p.B, p.n, 3], [p.B, 3, 3]]);
      const sum3d = new Float64Array(p.n * 3);
      for (let b = 0; b < p.B; b++) for (let j = 0; j < p.n * 3; j++) sum3d[j] += perBatch.grads[1][b * p.n * 3 + j];
      const sumK = new Float64Array(9);
      for (let b = 0; b < p.B; b++) for (let j = 0; j < 9; j++) sumK[j] += perBatch.grads[2][b * 9 + j];
      const close = (a: ArrayLike<number>, b: ArrayLike<number>) => {
        let d = 0, m = 0;
        for (let i = 0; i < a.length; i++) { d = Math.max(d, Math.abs(a[i] - b[i])); m = Math.max(m, Math.abs(b[i])); }
        return d / m;
      };
      expect(close(shared.grads[1], sum3d), 'shared dL/dpts3d vs sum of per-problem').toBeLessThan(1e-4);
      expect(close(shared.grads[2], sumK), 'shared dL/dK vs sum of per-problem').toBeLessThan(1e-4);
      expect(close(shared.grads[0], perBatch.grads[0]), 'dL/dpts2d the same either way').toBeLessThan(1e-4);
    });

    it('reports each degenerate problem by status, with a finite pose and zero gradients, leaving the rest intact', async () => {
      const n = 8;
      const p = makeProblems({ B: 8, n, noisePx: 1, seed: 21, sharedPts3d: false, sharedK: false });
      const x2 = Float32Array.from(p.pts2d);
      const X3 = Float32Array.from(p.pts3d);
      const K = Float32Array.from(p.K);
      const w = new Float32Array(p.B * n).fill(1);
      x2[0 * n * 2 + 3] = NaN; // problem 0: NaN pixel
      X3[1 * n * 3 + 4] = Infinity; // problem 1: infinite model point
      K[2 * 9 + 0] = NaN; // problem 2: NaN intrinsics
      for (let i = 3; i < n; i++) w[3 * n + i] = 0; // problem 3: three points left with weight > 0
      for (let i = 0; i < n; i++) X3.set([10, 20, 30], (4 * n + i) * 3); // problem 4: coincident points
      for (let i = 0; i < n; i++) X3.set([i * 10, i * 20, -i * 5], (5 * n + i) * 3); // problem 5: collinear points
      // Problem 6: a model that reaches behind the camera at its exact (noise-free) pose.
      const pose6 = [0.1, -0.2, 0.05, 0, 0, 300];
      for (let i = 0; i < n; i++) X3.set([(i % 3) * 80 - 80, ((i >> 1) % 3) * 60 - 60, i * 90 - 400], (6 * n + i) * 3);
      const proj6 = await projectPoints(
        tf.tensor2d([pose6]), tf.tensor3d(X3.slice(6 * n * 3, 7 * n * 3), [1, n, 3]), tf.tensor3d(K.slice(54, 63), [1, 3, 3])).data();
      x2.set(proj6, 6 * n * 2);
      const gradPose = tf.ones([p.B, 6]) as tf.Tensor2D;
      const out = await solveWithGrads(tf.tensor3d(x2, [p.B, n, 2]), tf.tensor3d(X3, [p.B, n, 3]), tf.tensor3d(K, [p.B, 3, 3]), gradPose,
        tf.tensor2d(w, [p.B, n]));
      expect(out.status.slice(0, 7), 'status per problem').toEqual([
        PnpStatus.InvalidInput, PnpStatus.InvalidInput, PnpStatus.InvalidInput, PnpStatus.TooFewPoints, PnpStatus.Degenerate, PnpStatus.Degenerate,
        PnpStatus.BehindCamera,
      ]);
      expect(out.status[7], 'the healthy problem in the same batch').toBe(PnpStatus.Converged);
      expect(Array.from(out.pose).every(Number.isFinite), 'every pose is finite').toBe(true);
      for (const [g, per] of [[out.grads[0], n * 2], [out.grads[1], n * 3], [out.grads[2], 9], [out.grads[3], n]] as const) {
        expect(Array.from(g).every(Number.isFinite), 'no NaN or Inf in any gradient').toBe(true);
        for (let b = 0; b < 7; b++) {
          expect(Array.from(g.slice(b * per, (b + 1) * per)).every((v) => v === 0), `zero gradient for failed problem ${b}`).toBe(true);
        }
        expect(Array.from(g.slice(7 * per, 8 * per)).some((v) => v !== 0), 'the healthy problem still gets gradients').toBe(true);
      }
    });

    it('reports fewer than 4 distinct 3D points as Degenerate, whatever the number of rows, at kCoincidentRatio of the spread', async () => {
      // Five problems of 5 rows, noise-free (each row's pixels the projection of its own 3D point): (0) rows 3
      // and 4 the same 3D points as rows 1 and 2: 3 distinct points; (1) rows 3 and 4 moved 0.3 x kCoincidentRatio
      // of the points' RMS spread from rows 1 and 0: still 3; (2) the same at 3 x: 5 distinct points, solvable;
      // (3) rows 2, 3 and 4 one point: 2 distinct; (4) untouched.
      const B = 5, n = 5;
      const p = makeProblems({ B, n, seed: 41, noisePx: 0, sharedPts3d: false });
      const X3 = Float64Array.from(p.pts3d);
      const rmsSpread = (b: number) => {
        const pts = Array.from({ length: n }, (_, i) => Array.from(p.pts3d.subarray((b * n + i) * 3, (b * n + i) * 3 + 3)));
        const m = [0, 1, 2].map((a) => pts.reduce((acc, r) => acc + r[a], 0) / n);
        return Math.sqrt(pts.reduce((acc, r) => acc + (r[0] - m[0]) ** 2 + (r[1] - m[1]) ** 2 + (r[2] - m[2]) ** 2, 0) / n);
      };
      // The spread once the rows are moved is within a few percent of this one: the factors 0.3 and 3 leave room.
      const copy = (b: number, from: number, to: number, f = 0) => X3.set([X3[(b * n + from) * 3] + f * 1e-3 * rmsSpread(b), X3[(b * n + from) * 3 + 1], X3[(b * n + from) * 3 + 2]], (b * n + to) * 3);
      copy(0, 1, 3); copy(0, 2, 4);
      copy(1, 1, 3, 0.3); copy(1, 0, 4, 0.3);
      copy(2, 1, 3, 3); copy(2, 0, 4, 3);
      copy(3, 2, 3); copy(3, 2, 4);
      const X = tf.tensor3d(Float32Array.from(X3), [B, n, 3]);
      const pts2d = await projectPoints(tf.tensor2d(Float32Array.from(p.poseGT), [B, 6]), X, tf.tensor3d(new Float32Array(9 * B).map((_, j) => p.K[j % 9]), [B, 3, 3])).data();
      const { status } = bpnp(tf.tensor3d(Float32Array.from(pts2d), [B, n, 2]), X, tf.tensor2d(Float32Array.from(p.K), [3, 3]));
      expect(Array.from(await status.data()), 'status per problem').toEqual([
        PnpStatus.Degenerate, PnpStatus.Degenerate, PnpStatus.Converged, PnpStatus.Degenerate, PnpStatus.Converged,
      ]);
    });

    it('gives a point with weight 0 dL/dw where it exists, in front of the camera with finite data, and 0 (never NaN) elsewhere', async () => {
      // One problem of 8 points, weights 1 but for: point 5 (w = 0, its pixel NaN), point 6 (w = 0, moved
      // behind the camera) and point 7 (w = 0, an ordinary point). The float64 solver gives point 7 the
      // derivative of the pose through a weight that grows from 0; both backends must agree on it.
      const n = 8;
      const p = makeProblems({ B: 1, n, seed: 59, noisePx: 0.5 });
      const x2 = Float32Array.from(p.pts2d);
      x2[10] = NaN; x2[11] = NaN;
      const X3 = Float32Array.from(p.pts3d);
      // Point 6 at camera-frame (0, 0, -500) mm under the true pose, X = R^T (Xc - t): behind the camera.
      const R = so3Exp(new Float64Array(9), p.poseGT);
      const d = [0 - p.poseGT[3], 0 - p.poseGT[4], -500 - p.poseGT[5]];
      X3.set([0, 1, 2].map((a) => R[a] * d[0] + R[3 + a] * d[1] + R[6 + a] * d[2]), 18);
      const w = Float32Array.of(1, 1, 1, 1, 1, 0, 0, 0);
      const out = await solveWithGrads(tf.tensor3d(x2, [1, n, 2]), tf.tensor2d(X3, [n, 3]), tf.tensor2d(Float32Array.from(p.K), [3, 3]),
        tf.tensor2d([[0.3, -0.2, 0.1, 0.01, 0.02, -0.03]]), tf.tensor2d(w, [1, n]));
      expect(out.status, 'status').toEqual([PnpStatus.Converged]);
      const gw = Array.from(out.grads[3]);
      expect(gw.every(Number.isFinite), `dL/dw finite: ${gw}`).toBe(true);
      expect(gw[5], 'point 5: its pixel is NaN').toBe(0);
      expect(gw[6], 'point 6: behind the camera').toBe(0);
      expect(gw[7], 'point 7: an ordinary point with w = 0 still has dL/dw').not.toBe(0);
    });

    it('reports n < 4 as too few points', async () => {
      const p = makeProblems({ B: 2, n: 3, seed: 31 });
      const t = tensors(p);
      const { pose, status } = bpnp(t.pts2d, t.pts3d, t.K);
      expect(Array.from(await status.data())).toEqual([PnpStatus.TooFewPoints, PnpStatus.TooFewPoints]);
      expect(Array.from(await pose.data())).toEqual(new Array(12).fill(0));
    });
  });
}
