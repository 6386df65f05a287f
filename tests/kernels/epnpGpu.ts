/**
 * Runs the WGSL EPnP twin (src/kernels/epnp.wgsl) on a batch of problems through the test-only harness
 * kernel (tests/kernels/epnpHarness.wgsl): one thread per problem, on Dawn (SwiftShader in CI).
 */
import commonWgsl from '../../src/kernels/common.wgsl?raw';
import eigenWgsl from '../../src/kernels/eigen.wgsl?raw';
import { kEpnpWgsl } from '../../src/kernels/epnpWgsl';
import harnessWgsl from './epnpHarness.wgsl?raw';
import { nodeGpu } from '../../src/node/webgpu';

export interface EpnpGpuProblem {
  n: number;
  /** [n,3] normalised 3D points */
  xn: ArrayLike<number>;
  /** [n,2] normalised image coordinates */
  m: ArrayLike<number>;
  /** [n] weights, or null for all 1 */
  w: ArrayLike<number> | null;
}

export interface EpnpGpuResult {
  /** [9] row-major */
  R: Float64Array;
  t: Float64Array;
  ok: boolean;
}

const kWorkgroupSize = 64;
let devicePromise: Promise<GPUDevice> | null = null;
let pipeline: GPUComputePipeline | null = null;

/** The Dawn device; throws (never skips) when WebGPU has no adapter. */
export function epnpTestDevice(): Promise<GPUDevice> {
  devicePromise ??= (async () => {
    const gpu = await nodeGpu();
    const adapter = await gpu.requestAdapter();
    if (!adapter) {
      throw new Error('WebGPU: no adapter found; set VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json (SwiftShader)');
    }
    return adapter.requestDevice();
  })();
  return devicePromise;
}

async function epnpPipeline(device: GPUDevice): Promise<GPUComputePipeline> {
  if (pipeline) return pipeline;
  const module = device.createShaderModule({
    label: 'EpnpHarness.module',
    code: [commonWgsl, eigenWgsl, kEpnpWgsl, harnessWgsl].join('\n'),
  });
  const info = await module.getCompilationInfo();
  const errors = info.messages.filter((msg) => msg.type === 'error');
  if (errors.length) {
    throw new Error(`epnp harness WGSL: ${errors.map((e) => `line ${e.lineNum}:${e.linePos} ${e.message}`).join('\n')}`);
  }
  device.pushErrorScope('validation');
  pipeline = await device.createComputePipelineAsync({
    label: 'EpnpHarness.pipeline',
    layout: 'auto',
    compute: { module, entryPoint: 'main', constants: { kWorkgroupSize } },
  });
  const err = await device.popErrorScope();
  if (err) throw new Error(`epnp harness pipeline: ${err.message}`);
  return pipeline;
}

function storage(device: GPUDevice, label: string, data: Float32Array<ArrayBuffer> | Uint32Array<ArrayBuffer>, usage = 0): GPUBuffer {
  const buf = device.createBuffer({
    label,
    size: Math.max(16, data.byteLength),
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | usage,
  });
  device.queue.writeBuffer(buf, 0, data);
  return buf;
}

/** epnp_init on every problem (inputs rounded to f32). */
export async function epnpInitGpu(problems: EpnpGpuProblem[]): Promise<EpnpGpuResult[]> {
  const device = await epnpTestDevice();
  const pipe = await epnpPipeline(device);
  const B = problems.length;
  const offsets = new Uint32Array(B + 1);
  for (let b = 0; b < B; b++) offsets[b + 1] = offsets[b] + problems[b].n;
  const N = offsets[B];
  const xn = new Float32Array(3 * N);
  const m = new Float32Array(2 * N);
  const w = new Float32Array(N);
  for (let b = 0; b < B; b++) {
    const p = problems[b];
    const o = offsets[b];
    for (let i = 0; i < 3 * p.n; i++) xn[3 * o + i] = p.xn[i];
    for (let i = 0; i < 2 * p.n; i++) m[2 * o + i] = p.m[i];
    for (let i = 0; i < p.n; i++) w[o + i] = p.w ? p.w[i] : 1;
  }
  device.pushErrorScope('validation');
  const bufs = [
    storage(device, 'EpnpHarness.offsets', offsets),
    storage(device, 'EpnpHarness.xn', xn),
    storage(device, 'EpnpHarness.m', m),
    storage(device, 'EpnpHarness.w', w),
  ];
  const outSize = 16 * 4 * B;
  const out = device.createBuffer({ label: 'EpnpHarness.out', size: outSize, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
  const read = device.createBuffer({ label: 'EpnpHarness.read', size: outSize, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const bindGroup = device.createBindGroup({
    label: 'EpnpHarness.bindGroup',
    layout: pipe.getBindGroupLayout(0),
    entries: [...bufs, out].map((buffer, binding) => ({ binding, resource: { buffer } })),
  });
  const enc = device.createCommandEncoder({ label: 'EpnpHarness.encoder' });
  const pass = enc.beginComputePass({ label: 'EpnpHarness.pass' });
  pass.setPipeline(pipe);
  pass.setBindGroup(0, bindGroup);
  pass.dispatchWorkgroups(Math.ceil(B / kWorkgroupSize));
  pass.end();
  enc.copyBufferToBuffer(out, 0, read, 0, outSize);
  device.queue.submit([enc.finish()]);
  const err = await device.popErrorScope();
  if (err) throw new Error(`epnp harness dispatch: ${err.message}`);
  await read.mapAsync(GPUMapMode.READ);
  const res = new Float32Array(read.getMappedRange().slice(0));
  read.unmap();
  for (const b of [...bufs, out, read]) b.destroy();
  const results: EpnpGpuResult[] = [];
  for (let b = 0; b < B; b++) {
    const o = 16 * b;
    results.push({ R: Float64Array.from(res.subarray(o, o + 9)), t: Float64Array.from(res.subarray(o + 9, o + 12)), ok: res[o + 12] === 1 });
  }
  return results;
}
