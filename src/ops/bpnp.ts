/**
 * bpnp(pts2d, pts3d, K, {weights?, initPose?}) -> {pose [B,6], status [B]}: the PnP layer of BPnP
 * (Chen et al., CVPR 2020) as a differentiable TensorFlow.js op.
 *
 * Forward: the pose minimising sum_i w_i |pi(K, R X_i + t) - x_i|^2 (EPnP, then Levenberg-Marquardt).
 * Backward: the implicit function theorem at that optimum with the exact Hessian (docs/pnp-maths.md), so
 * the gradients match finite differences of the forward pass itself.
 *
 * The one place that chooses an implementation: on the webgpu backend the WGSL kernels run on the
 * backend's own GPUDevice over the tensors' own buffers (no readback); on any other backend the float64
 * reference of src/solver runs on the CPU.
 *
 * Shapes: pts2d [B,n,2] px; pts3d [n,3] shared or [B,n,3]; K [3,3] shared or [B,3,3] row-major;
 * weights [B,n] >= 0; initPose [B,6]. Status numbers: src/solver/status.ts (0 = converged).
 * Problems that fail get a finite pose and zero gradients.
 *
 * What the op expects of its float32 inputs: coordinates small against their spread. A float32 value
 * keeps 24 bits, so 3D points far from their model origin (UTM metres: 7,405,000 m rounds by 0.25 m) or
 * image points squeezed into a tiny patch far from pixel (0, 0) lose their geometry before any kernel
 * runs; where that rounding exceeds 1e-4 of the points' spread the problem is solved but reported as
 * IllConditioned (6), never Converged. Centre such points in float64 before making the tensors and move
 * the pose back (t = t' - R c), as `npm run pnp` does. Any overall scale of K is fine (the op rescales it
 * by a power of two); a singular or non-finite K is InvalidInput (2).
 */
import * as tf from '@tensorflow/tfjs';
import { encodePnpBackward, encodePnpForward, type PnpShape } from '../kernels/pnpKernels';
import { pnpBackwardBatch, solvePnpBatch } from '../solver/pnp';
import { kF32InputEps } from '../solver/status';
import { checkRank, checkShape } from './shapes';
import { emptyTensor, flushBackend, tensorBuffer, webgpuBackend } from './webgpuTensors';

export interface BpnpOptions {
  /** [B,n] per-point weights of the squared reprojection error (differentiable) */
  weights?: tf.Tensor2D;
  /** [B,6] initial poses replacing the EPnP initialiser (not differentiated) */
  initPose?: tf.Tensor2D;
}

export interface BpnpResult {
  /** [B,6] axis-angle and translation (unit of pts3d), model to camera */
  pose: tf.Tensor2D;
  /** [B] int32 PnpStatus */
  status: tf.Tensor1D;
}

interface Inputs {
  pts2d: tf.Tensor3D;
  pts3d: tf.Tensor;
  K: tf.Tensor;
  weights?: tf.Tensor;
  initPose?: tf.Tensor;
}

function shapeOf(pts2d: tf.Tensor, pts3d: tf.Tensor, K: tf.Tensor): PnpShape {
  return { B: pts2d.shape[0], n: pts2d.shape[1]!, sharedPts3d: pts3d.rank === 2, sharedK: K.rank === 2 };
}

function validate(pts2d: tf.Tensor, pts3d: tf.Tensor, K: tf.Tensor, opts: BpnpOptions): PnpShape {
  checkShape('bpnp', 'pts2d', pts2d, [-1, -1, 2]);
  const [B, n] = pts2d.shape;
  checkRank('bpnp', 'pts3d', pts3d, [2, 3]);
  checkShape('bpnp', 'pts3d', pts3d, pts3d.rank === 2 ? [n, 3] : [B, n, 3]);
  checkRank('bpnp', 'K', K, [2, 3]);
  checkShape('bpnp', 'K', K, K.rank === 2 ? [3, 3] : [B, 3, 3]);
  if (opts.weights) checkShape('bpnp', 'weights', opts.weights, [B, n]);
  if (opts.initPose) checkShape('bpnp', 'initPose', opts.initPose, [B, 6]);
  for (const [name, t] of Object.entries({ pts2d, pts3d, K, ...opts })) {
    if (t && t.dtype !== 'float32') throw new Error(`bpnp: ${name} must be float32, got ${t.dtype}`);
  }
  return shapeOf(pts2d, pts3d, K);
}

function forwardWebgpu(inputs: Inputs, shape: PnpShape): BpnpResult {
  const backend = webgpuBackend()!;
  const buffers = {
    pts2d: tensorBuffer(backend, inputs.pts2d),
    pts3d: tensorBuffer(backend, inputs.pts3d),
    K: tensorBuffer(backend, inputs.K),
    weights: inputs.weights && tensorBuffer(backend, inputs.weights),
    initPose: inputs.initPose && tensorBuffer(backend, inputs.initPose),
  };
  const pose = emptyTensor(backend, [shape.B, 6], 'float32');
  const status = emptyTensor(backend, [shape.B], 'int32');
  flushBackend(backend);
  encodePnpForward(backend.device, buffers, { pose: pose.buffer, status: status.buffer }, shape);
  return { pose: pose.tensor as tf.Tensor2D, status: status.tensor as tf.Tensor1D };
}

function f64(t: tf.Tensor | undefined): Float64Array | undefined {
  return t ? Float64Array.from(t.dataSync()) : undefined;
}

function forwardCpu(inputs: Inputs, shape: PnpShape): BpnpResult {
  const res = solvePnpBatch({
    pts2d: f64(inputs.pts2d)!,
    pts3d: f64(inputs.pts3d)!,
    K: f64(inputs.K)!,
    weights: f64(inputs.weights),
    initPose: f64(inputs.initPose),
    ...shape,
    // The tensors are float32: their rounding decides IllConditioned, as in the WGSL kernels.
    inputEps: kF32InputEps,
  });
  return { pose: tf.tensor2d(Float32Array.from(res.pose), [shape.B, 6], 'float32'), status: tf.tensor1d(res.status, 'int32') };
}

interface Grads {
  gradPts2d: tf.Tensor;
  gradPts3d: tf.Tensor;
  gradK: tf.Tensor;
  gradWeights: tf.Tensor;
}

function backwardWebgpu(inputs: Inputs, pose: tf.Tensor, status: tf.Tensor, dy: tf.Tensor, shape: PnpShape): Grads {
  const backend = webgpuBackend()!;
  const { B, n } = shape;
  const buffers = {
    pts2d: tensorBuffer(backend, inputs.pts2d),
    pts3d: tensorBuffer(backend, inputs.pts3d),
    K: tensorBuffer(backend, inputs.K),
    weights: inputs.weights && tensorBuffer(backend, inputs.weights),
  };
  const poseState = tf.concat([pose, dy, tf.cast(status, 'float32').reshape([B, 1])], 1);
  const gP = emptyTensor(backend, [B, n, 6], 'float32');
  const gK = emptyTensor(backend, [B, 3, 3], 'float32');
  const stateBuffer = tensorBuffer(backend, poseState);
  flushBackend(backend);
  encodePnpBackward(backend.device, { ...buffers, poseState: stateBuffer }, { gradPoint: gP.buffer, gradK: gK.buffer }, shape);
  // The packed per-point gradients are split, and shared pts3d and K receive the sum over the batch,
  // by tfjs ops on the same GPU.
  const grads = tf.tidy(() => {
    const [g2, g3, gW] = tf.split(gP.tensor, [2, 3, 1], 2);
    return {
      gradPts2d: g2,
      gradPts3d: shape.sharedPts3d ? tf.sum(g3, 0) : g3,
      gradK: shape.sharedK ? tf.sum(gK.tensor, 0) : tf.clone(gK.tensor),
      gradWeights: tf.reshape(gW, [B, n]),
    };
  });
  tf.dispose([poseState, gP.tensor, gK.tensor]);
  return grads;
}

function backwardCpu(inputs: Inputs, pose: tf.Tensor, status: tf.Tensor, dy: tf.Tensor, shape: PnpShape): Grads {
  const res = pnpBackwardBatch({
    pts2d: f64(inputs.pts2d)!,
    pts3d: f64(inputs.pts3d)!,
    K: f64(inputs.K)!,
    weights: f64(inputs.weights),
    pose: f64(pose)!,
    status: Int32Array.from(status.dataSync()),
    gradPose: f64(dy)!,
    ...shape,
  });
  const { B, n } = shape;
  return {
    gradPts2d: tf.tensor(Float32Array.from(res.gradPts2d), [B, n, 2], 'float32'),
    gradPts3d: tf.tensor(Float32Array.from(res.gradPts3d), inputs.pts3d.shape, 'float32'),
    gradK: tf.tensor(Float32Array.from(res.gradK), inputs.K.shape, 'float32'),
    gradWeights: res.gradWeights ? tf.tensor(Float32Array.from(res.gradWeights), [B, n], 'float32') : tf.zeros([B, n]),
  };
}

export function bpnp(
  pts2d: tf.Tensor3D,
  pts3d: tf.Tensor2D | tf.Tensor3D,
  K: tf.Tensor2D | tf.Tensor3D,
  opts: BpnpOptions = {},
): BpnpResult {
  const shape = validate(pts2d, pts3d, K, opts);
  const onGpu = webgpuBackend() !== null;
  const { initPose } = opts;
  // The forward runs outside customGrad, whose body is a tidy that would dispose the status tensor.
  const fwdInputs: Inputs = { pts2d, pts3d, K, weights: opts.weights, initPose };
  const out = onGpu ? forwardWebgpu(fwdInputs, shape) : forwardCpu(fwdInputs, shape);
  const body = (p2: tf.Tensor, p3: tf.Tensor, k: tf.Tensor, w: tf.Tensor | undefined, save: tf.GradSaveFunc) => {
    // The inputs are saved too, not read through the closure: tf.grads and tf.variableGrads run the
    // forward in a tidy, which disposes inputs that the differentiated function itself created (a K
    // built from learnt intrinsics, keypoints from a network) before the backward pass runs.
    save(w ? [out.pose, out.status, p2, p3, k, w] : [out.pose, out.status, p2, p3, k]);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [pose, st, sp2, sp3, sk, sw] = saved;
      const inputs: Inputs = { pts2d: sp2 as tf.Tensor3D, pts3d: sp3, K: sk, weights: sw };
      const g = onGpu ? backwardWebgpu(inputs, pose, st, dy, shape) : backwardCpu(inputs, pose, st, dy, shape);
      if (w) return [g.gradPts2d, g.gradPts3d, g.gradK, g.gradWeights];
      g.gradWeights.dispose();
      return [g.gradPts2d, g.gradPts3d, g.gradK];
    };
    return { value: tf.clone(out.pose), gradFunc };
  };
  const pose = opts.weights
    ? tf.customGrad((...a: (tf.Tensor | tf.GradSaveFunc)[]) =>
      body(a[0] as tf.Tensor, a[1] as tf.Tensor, a[2] as tf.Tensor, a[3] as tf.Tensor, a[4] as tf.GradSaveFunc))(pts2d, pts3d, K, opts.weights)
    : tf.customGrad((...a: (tf.Tensor | tf.GradSaveFunc)[]) =>
      body(a[0] as tf.Tensor, a[1] as tf.Tensor, a[2] as tf.Tensor, undefined, a[3] as tf.GradSaveFunc))(pts2d, pts3d, K);
  out.pose.dispose();
  return { pose: pose as tf.Tensor2D, status: out.status };
}
