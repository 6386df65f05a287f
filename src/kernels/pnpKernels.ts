/**
 * Host code of the PnP kernels: builds each pipeline once per GPUDevice and encodes the forward
 * (pnpForward.wgsl) and implicit backward (pnpBackward.wgsl) passes over caller-owned GPUBuffers.
 * Knows nothing of tfjs: src/ops hands it the tensors' own buffers.
 *
 * One invocation per problem: B up to 65,536 gives enough parallelism on its own, and a problem's
 * n <= 256 points stream through registers instead of workgroup memory. Large batches are split into
 * chunks whose bindings fit maxStorageBufferBindingSize; chunk starts are multiples of 64 problems so
 * that every binding offset is a multiple of 256 bytes.
 */
import commonWgsl from './common.wgsl?raw';
import problemWgsl from './problem.wgsl?raw';
import eigenWgsl from './eigen.wgsl?raw';
import forwardWgsl from './pnpForward.wgsl?raw';
import backwardWgsl from './pnpBackward.wgsl?raw';
import { kEpnpWgsl } from './epnpWgsl';
// LM's options and their float32 values are the float64 solver's own: the kernels run the same LM.
import { kLmDefaultsF32, type LmOptions } from '../solver/lm';

export const kWorkgroupSize = 64;
const kChunkAlign = 64;
/** The forward's screen list, words per problem: its slot in the list and kScreenStateWords (pnpForward.wgsl). */
const kScreenWordsPerProblem = 1 + 27;

/** Per-problem status, the numbers of src/solver/status.ts. */
export interface PnpShape {
  /** problems */
  B: number;
  /** points per problem */
  n: number;
  /** pts3d is [n,3] for every problem rather than [B,n,3] */
  sharedPts3d: boolean;
  /** K is [3,3] for every problem rather than [B,3,3] */
  sharedK: boolean;
}

export interface PnpInputBuffers {
  /** [B,n,2] f32 px */
  pts2d: GPUBuffer;
  /** [n,3] or [B,n,3] f32, any length unit */
  pts3d: GPUBuffer;
  /** [3,3] or [B,3,3] f32 row-major */
  K: GPUBuffer;
  /** [B,n] f32 >= 0 */
  weights?: GPUBuffer;
}

const FLAG_SHARED_PTS3D = 1;
const FLAG_SHARED_K = 2;
const FLAG_WEIGHTS = 4;
const FLAG_INIT_POSE = 8;

type Binding = { buffer: GPUBuffer; offset: number; size: number };

interface Pipelines {
  forward: GPUComputePipeline;
  /** the multi-start's screens of the problems `forward` left in doubt (pnpForward.wgsl, screen_main) */
  forwardScreen: GPUComputePipeline;
  forwardLayout: GPUBindGroupLayout;
  backward: GPUComputePipeline;
  backwardLayout: GPUBindGroupLayout;
  dummy: GPUBuffer;
}

const pipelineCache = new WeakMap<GPUDevice, Pipelines>();

function layoutEntries(readOnly: number[], readWrite: number[]): GPUBindGroupLayoutEntry[] {
  const entries: GPUBindGroupLayoutEntry[] = [
    { binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'uniform' } },
  ];
  for (const b of readOnly) entries.push({ binding: b, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'read-only-storage' } });
  for (const b of readWrite) entries.push({ binding: b, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'storage' } });
  return entries;
}

function getPipelines(device: GPUDevice): Pipelines {
  const cached = pipelineCache.get(device);
  if (cached) return cached;
  const constants = { kWorkgroupSize };
  const forwardLayout = device.createBindGroupLayout({
    label: 'PnpForwardKernel.bindGroupLayout',
    entries: layoutEntries([1, 2, 3, 4, 5], [6, 7, 8]),
  });
  const backwardLayout = device.createBindGroupLayout({
    label: 'PnpBackwardKernel.bindGroupLayout',
    entries: layoutEntries([1, 2, 3, 4, 5], [6, 7]),
  });
  const forwardModule = device.createShaderModule({
    label: 'PnpForwardKernel.shader',
    code: [commonWgsl, problemWgsl, eigenWgsl, kEpnpWgsl, forwardWgsl].join('\n'),
  });
  const backwardModule = device.createShaderModule({
    label: 'PnpBackwardKernel.shader',
    code: [commonWgsl, problemWgsl, eigenWgsl, backwardWgsl].join('\n'),
  });
  const forwardPipelineLayout = device.createPipelineLayout({ label: 'PnpForwardKernel.pipelineLayout', bindGroupLayouts: [forwardLayout] });
  const pipelines: Pipelines = {
    forwardLayout,
    backwardLayout,
    forward: device.createComputePipeline({
      label: 'PnpForwardKernel.pipeline',
      layout: forwardPipelineLayout,
      compute: { module: forwardModule, entryPoint: 'main', constants },
    }),
    forwardScreen: device.createComputePipeline({
      label: 'PnpForwardKernel.screenPipeline',
      layout: forwardPipelineLayout,
      compute: { module: forwardModule, entryPoint: 'screen_main', constants },
    }),
    backward: device.createComputePipeline({
      label: 'PnpBackwardKernel.pipeline',
      layout: device.createPipelineLayout({ label: 'PnpBackwardKernel.pipelineLayout', bindGroupLayouts: [backwardLayout] }),
      compute: { module: backwardModule, entryPoint: 'main', constants },
    }),
    dummy: device.createBuffer({ label: 'PnpKernels.absentInput', size: 16, usage: GPUBufferUsage.STORAGE }),
  };
  pipelineCache.set(device, pipelines);
  return pipelines;
}

/** Problems per dispatch so that the largest per-problem binding fits the device's binding limit. */
function chunkSize(device: GPUDevice, shape: PnpShape): number {
  const perProblemBytes = Math.max(shape.n * 6 * 4, 13 * 4, kScreenWordsPerProblem * 4);
  const fit = Math.floor(device.limits.maxStorageBufferBindingSize / perProblemBytes);
  const maxGroups = device.limits.maxComputeWorkgroupsPerDimension * kWorkgroupSize;
  const c = Math.min(fit, maxGroups * 65535);
  return Math.max(kChunkAlign, Math.floor(c / kChunkAlign) * kChunkAlign);
}

function perProblem(buffer: GPUBuffer | undefined, start: number, count: number, floatsPerProblem: number, dummy: GPUBuffer): Binding {
  const size = count * floatsPerProblem * 4;
  if (!buffer || size === 0) return { buffer: dummy, offset: 0, size: 16 };
  return { buffer, offset: start * floatsPerProblem * 4, size };
}

function shared(buffer: GPUBuffer | undefined, floats: number, dummy: GPUBuffer): Binding {
  if (!buffer || floats === 0) return { buffer: dummy, offset: 0, size: 16 };
  return { buffer, offset: 0, size: floats * 4 };
}

function makeParams(device: GPUDevice, label: string, B: number, n: number, flags: number, lm: LmOptions): GPUBuffer {
  const data = new ArrayBuffer(32);
  const u = new Uint32Array(data);
  const f = new Float32Array(data);
  u[0] = B;
  u[1] = n;
  u[2] = flags;
  u[3] = lm.maxIters;
  f[4] = lm.stepTol;
  f[5] = lm.costTol;
  const buffer = device.createBuffer({ label, size: 32, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(buffer, 0, data);
  return buffer;
}

function dispatchGeometry(device: GPUDevice, count: number): [number, number] {
  const groups = Math.ceil(count / kWorkgroupSize);
  const maxX = device.limits.maxComputeWorkgroupsPerDimension;
  if (groups <= maxX) return [groups, 1];
  return [maxX, Math.ceil(groups / maxX)];
}

function inputBindings(p: Pipelines, inputs: PnpInputBuffers, shape: PnpShape, start: number, count: number): Binding[] {
  const { n } = shape;
  return [
    perProblem(inputs.pts2d, start, count, n * 2, p.dummy),
    shape.sharedPts3d ? shared(inputs.pts3d, n * 3, p.dummy) : perProblem(inputs.pts3d, start, count, n * 3, p.dummy),
    shape.sharedK ? shared(inputs.K, 9, p.dummy) : perProblem(inputs.K, start, count, 9, p.dummy),
    perProblem(inputs.weights, start, count, n, p.dummy),
  ];
}

function flagsOf(inputs: PnpInputBuffers, shape: PnpShape, initPose: boolean): number {
  return (shape.sharedPts3d ? FLAG_SHARED_PTS3D : 0) | (shape.sharedK ? FLAG_SHARED_K : 0) |
    (inputs.weights ? FLAG_WEIGHTS : 0) | (initPose ? FLAG_INIT_POSE : 0);
}

function encodeChunks(
  device: GPUDevice,
  pipeline: GPUComputePipeline,
  layout: GPUBindGroupLayout,
  label: string,
  shape: PnpShape,
  flags: number,
  lm: LmOptions,
  bindings: (start: number, count: number) => Binding[],
  screen?: GPUComputePipeline,
): void {
  const encoder = device.createCommandEncoder({ label: `${label}.encoder` });
  const temporaries: GPUBuffer[] = [];
  const step = chunkSize(device, shape);
  for (let start = 0; start < shape.B; start += step) {
    const count = Math.min(step, shape.B - start);
    const params = makeParams(device, `${label}.params`, count, shape.n, flags, lm);
    temporaries.push(params);
    const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: params } }];
    bindings(start, count).forEach((b, i) => entries.push({ binding: i + 1, resource: b }));
    if (screen) {
      // The screen list's count, slots and state (ScreenState), zeroed as every new buffer is.
      const list = device.createBuffer({ label: `${label}.screenList`, size: 4 * (1 + count * kScreenWordsPerProblem), usage: GPUBufferUsage.STORAGE });
      temporaries.push(list);
      entries.push({ binding: entries.length, resource: { buffer: list } });
    }
    const bindGroup = device.createBindGroup({ label: `${label}.bindGroup`, layout, entries });
    const pass = encoder.beginComputePass({ label: `${label}.pass` });
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    const [x, y] = dispatchGeometry(device, count);
    pass.dispatchWorkgroups(x, y);
    if (screen) {
      // The same geometry: invocations past the list's count return at once.
      pass.setPipeline(screen);
      pass.dispatchWorkgroups(x, y);
    }
    pass.end();
  }
  device.queue.submit([encoder.finish()]);
  // Destroying after submit is allowed: the submitted work keeps the buffers alive until it completes.
  for (const t of temporaries) t.destroy();
}

/**
 * Forward PnP: writes pose [B,6] f32 (axis-angle, translation in the unit of pts3d) and status [B] i32.
 * initPose [B,6], when given, replaces the EPnP initialiser.
 */
export function encodePnpForward(
  device: GPUDevice,
  inputs: PnpInputBuffers & { initPose?: GPUBuffer },
  outputs: { pose: GPUBuffer; status: GPUBuffer },
  shape: PnpShape,
  lm: LmOptions = kLmDefaultsF32,
): void {
  if (shape.B === 0) return;
  const p = getPipelines(device);
  encodeChunks(device, p.forward, p.forwardLayout, 'PnpForwardKernel', shape, flagsOf(inputs, shape, !!inputs.initPose), lm,
    (start, count) => [
      ...inputBindings(p, inputs, shape, start, count),
      perProblem(inputs.initPose, start, count, 6, p.dummy),
      perProblem(outputs.pose, start, count, 6, p.dummy),
      perProblem(outputs.status, start, count, 1, p.dummy),
    ], p.forwardScreen);
}

/**
 * Implicit backward. poseState [B,13] packs the forward pose [6], dL/dpose [6] and the status (as f32);
 * writes gradPoint [B,n,6] = (dL/dpts2d [2], dL/dpts3d [3], dL/dweights [1]) per problem (also when pts3d
 * is shared: the caller sums) and gradK [B,9] (likewise). Packed so that the kernel binds no more than
 * the 8 storage buffers a stage gets by default.
 */
export function encodePnpBackward(
  device: GPUDevice,
  inputs: PnpInputBuffers & { poseState: GPUBuffer },
  outputs: { gradPoint: GPUBuffer; gradK: GPUBuffer },
  shape: PnpShape,
): void {
  if (shape.B === 0) return;
  const p = getPipelines(device);
  const { n } = shape;
  encodeChunks(device, p.backward, p.backwardLayout, 'PnpBackwardKernel', shape, flagsOf(inputs, shape, false), kLmDefaultsF32,
    (start, count) => [
      ...inputBindings(p, inputs, shape, start, count),
      perProblem(inputs.poseState, start, count, 13, p.dummy),
      perProblem(outputs.gradPoint, start, count, n * 6, p.dummy),
      perProblem(outputs.gradK, start, count, 9, p.dummy),
    ]);
}
