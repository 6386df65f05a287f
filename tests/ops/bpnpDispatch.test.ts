/**
 * What the README promises of the PnP layer on WebGPU, counted on the device itself (Dawn on SwiftShader):
 * the forward pass is two compute dispatches (the second for the multi-start's screens of the problems in
 * doubt), the backward pass one more (plus tfjs's own kernels for the
 * batch sums and the reprojection), and nothing is read back to the CPU between the inputs and the
 * gradients. The counts come from wrapping the WebGPU objects' methods, so every dispatch and every buffer
 * mapping on the device is seen, whoever issues it.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { poseTerm, type LossBatch } from '../../src/train/loss';
import { makeProblems } from '../../src/synthetic/pnpProblems';
import { makeRng } from '../helpers/rng';
import { requireWebgpu } from '../helpers/webgpu';

interface Counts {
  /** Dispatches per compute-pass label. */
  dispatches: Map<string, number>;
  /** GPUBuffer.mapAsync calls (every readback to the CPU goes through one). */
  maps: number;
}

const counts: Counts = { dispatches: new Map(), maps: 0 };
const restore: (() => void)[] = [];

/** Replaces proto[name] with a counting wrapper, restored after the file. */
function wrap<T extends object>(proto: T, name: keyof T & string, count: (self: T) => void): void {
  const original = proto[name] as (...a: unknown[]) => unknown;
  (proto as Record<string, unknown>)[name] = function (this: T, ...args: unknown[]) {
    count(this);
    return original.apply(this, args);
  };
  restore.push(() => { (proto as Record<string, unknown>)[name] = original; });
}

beforeAll(async () => {
  await requireWebgpu();
  wrap(GPUComputePassEncoder.prototype, 'dispatchWorkgroups', (pass) => {
    const label = pass.label || '(unlabelled)';
    counts.dispatches.set(label, (counts.dispatches.get(label) ?? 0) + 1);
  });
  wrap(GPUComputePassEncoder.prototype, 'dispatchWorkgroupsIndirect', (pass) => {
    counts.dispatches.set(`${pass.label} (indirect)`, (counts.dispatches.get(`${pass.label} (indirect)`) ?? 0) + 1);
  });
  wrap(GPUBuffer.prototype, 'mapAsync', () => { counts.maps++; });
});

afterAll(() => {
  for (const r of restore.reverse()) r();
});

function reset(): void {
  counts.dispatches.clear();
  counts.maps = 0;
}

describe('bpnp on WebGPU: dispatches and readbacks', () => {
  it('a pose-loss step (bpnp forward, reprojection, gradients to keypoints and weights) is two forward dispatches (the solve, the multi-start\'s screens) and one backward, with no readback', async () => {
    const B = 16, n = 9;
    const p = makeProblems({ B, n, noisePx: 1, seed: 404 });
    const rng = makeRng(405);
    const pose = Float32Array.from(p.poseGT);
    const kp = tf.tensor3d(Float32Array.from(p.pts2d), [B, n, 2]);
    const conf = tf.tensor2d(Float32Array.from({ length: B * n }, () => rng.uniform(0.5, 1)), [B, n]);
    const pts = tf.tensor2d(Float32Array.from(p.pts3d), [n, 3]);
    const batch: LossBatch = {
      kpGtPx: tf.tensor3d(Float32Array.from(p.pts2dClean), [B, n, 2]),
      targets: tf.zeros([B, 1, 1, n]),
      kCrop: tf.tensor3d(Float32Array.from({ length: 9 * B }, (_, i) => p.K[i % 9]), [B, 3, 3]),
      poseGt: tf.tensor2d(pose, [B, 6]),
    };
    // Inputs on the device first: uploading them is not part of the step.
    await Promise.all([kp, conf, pts, ...Object.values(batch)].map((t) => t.data()));
    reset();
    const { value, grads } = tf.valueAndGrads((a: tf.Tensor, c: tf.Tensor) =>
      poseTerm(a as tf.Tensor3D, c as tf.Tensor2D, batch, { keypointsMm: pts, posePointsMm: pts }, { pnpInit: 'epnp', poseError: 'reprojection' }).loss)([kp, conf]);
    // Everything is encoded and submitted; nothing has been read.
    const during = { dispatches: new Map(counts.dispatches), maps: counts.maps };
    const [loss, gKp, gConf] = await Promise.all([value.data(), grads[0].data(), grads[1].data()]);
    console.log(`[dispatch] during the step: ${[...during.dispatches].map(([l, c]) => `${l} x${c}`).join(', ')}; mapAsync ${during.maps}; after reading: mapAsync ${counts.maps}`);
    expect(during.dispatches.get('PnpForwardKernel.pass'), 'forward PnP dispatches').toBe(2);
    expect(during.dispatches.get('PnpBackwardKernel.pass'), 'backward PnP dispatches').toBe(1);
    expect(during.maps, 'buffers mapped for reading during the step').toBe(0);
    // The counter sees readbacks: reading the three results maps buffers.
    expect(counts.maps, 'buffers mapped once the results are read').toBeGreaterThanOrEqual(1);
    expect(Number.isFinite(loss[0]) && loss[0] > 0, 'the pose loss is finite and positive (noisy keypoints)').toBe(true);
    expect(gKp.some((v) => v !== 0) && gConf.some((v) => v !== 0), 'gradients reach keypoints and weights').toBe(true);
    tf.dispose([kp, conf, pts, ...Object.values(batch), value, ...grads]);
  });
});
