/**
 * Runs the WGSL EPnP twin (src/kernels/epnp.wgsl) on a batch of problems through the test-only harness
 * kernel (tests/kernels/epnpHarness.wgsl): one thread per problem, on Dawn (SwiftShader in CI).
 */
import commonWgsl from '../../src/kernels/common.wgsl?raw';
import eigenWgsl from '../../src/kernels/eigen.wgsl?raw';
import { kEpnpWgsl } from '../../src/kernels/epnpWgsl';
import harnessWgsl from './epnpHarness.wgsl?raw';
import { harnessBuffer, harnessDevice, harnessPipeline, runHarness } from './harness';

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

function epnpPipeline(device: GPUDevice, epnpSource: string): Promise<GPUComputePipeline> {
  return harnessPipeline(device, 'EpnpHarness', [commonWgsl, eigenWgsl, epnpSource, harnessWgsl].join('\n'));
}

/** epnp_init on every problem (inputs rounded to f32); epnpSource: the EPnP library's WGSL (kEpnpWgsl). */
export async function epnpInitGpu(problems: EpnpGpuProblem[], epnpSource = kEpnpWgsl): Promise<EpnpGpuResult[]> {
  const device = await harnessDevice();
  const pipe = await epnpPipeline(device, epnpSource);
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
  const res = await runHarness(device, pipe, 'EpnpHarness', [
    harnessBuffer(device, 'EpnpHarness.offsets', offsets),
    harnessBuffer(device, 'EpnpHarness.xn', xn),
    harnessBuffer(device, 'EpnpHarness.m', m),
    harnessBuffer(device, 'EpnpHarness.w', w),
  ], 16 * B, B);
  const results: EpnpGpuResult[] = [];
  for (let b = 0; b < B; b++) {
    const o = 16 * b;
    results.push({ R: Float64Array.from(res.subarray(o, o + 9)), t: Float64Array.from(res.subarray(o + 9, o + 12)), ok: res[o + 12] === 1 });
  }
  return results;
}
