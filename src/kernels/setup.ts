/**
 * The one tfjs configuration every host runs (the page's Worker, the command line, the benchmarks and
 * the tests), so that what the tests exercise is what people train on:
 * - the convolution gradients of the cpu and wasm backends from convGradients.ts (tfjs's cpu filter
 *   gradient is 97% of a cpu training step; its wasm backend has none);
 * - under webgpu, every op on the GPU (`WEBGPU_CPU_FORWARD` false): tfjs's default moves small ops to
 *   the CPU, which reads tensors back inside a step and puts the PnP kernels' inputs elsewhere than the
 *   tests have them.
 * Idempotent. Hosts call it after importing the backend's module (webgpu, wasm) and before selecting
 * it; useCpuBackend does both for the CPU paths.
 */
import * as tf from '@tensorflow/tfjs';
import { registerConvGradients } from './convGradients';

export function setupTfjs(): void {
  registerConvGradients('cpu');
  if (tf.findBackendFactory('wasm')) registerConvGradients('wasm');
  // The flag exists once the webgpu backend's module has registered the backend.
  if (tf.findBackendFactory('webgpu')) tf.env().set('WEBGPU_CPU_FORWARD', false);
}

/** The backends that train without a GPU, fastest first (bench:train measures them against each other). */
export type CpuBackendName = 'wasm' | 'cpu';

/**
 * setupTfjs, then `name`; throws naming the backend when tfjs cannot start it (a host that asked for
 * one backend never silently gets another).
 */
export async function useCpuBackend(name: CpuBackendName = 'cpu'): Promise<void> {
  let ok = false;
  let why = '';
  try {
    // Imported only when chosen: once registered, wasm is tfjs's highest-priority backend, and code
    // that runs ops before a host has selected one would find it not yet initialised.
    if (name === 'wasm') await import('@tensorflow/tfjs-backend-wasm');
    setupTfjs();
    ok = await tf.setBackend(name);
  } catch (e) {
    why = `: ${e instanceof Error ? e.message : String(e)}`;
  }
  if (!ok) throw new Error(`tfjs could not initialise its ${name} backend${why}`);
  await tf.ready();
}

/**
 * The fastest CPU path that starts here: wasm (XNNPACK, SIMD where the engine has it), else the cpu
 * backend. Returns the backend chosen and, where wasm could not start, why, for hosts to show.
 */
export async function useFastestCpuBackend(): Promise<{ backend: CpuBackendName; notice?: string }> {
  try {
    await useCpuBackend('wasm');
    return { backend: 'wasm' };
  } catch (e) {
    await useCpuBackend('cpu');
    return { backend: 'cpu', notice: `${e instanceof Error ? e.message : String(e)}; training on the slower cpu backend` };
  }
}

/** The adapter WebGPU offers, in words, for hosts to show. */
export function adapterDescription(a: GPUAdapter): string {
  return a.info?.description || [a.info?.vendor, a.info?.architecture].filter(Boolean).join(' ') || 'unnamed adapter';
}

/**
 * setupTfjs, then tfjs's webgpu backend on `gpu` (the browser's navigator.gpu, or Dawn's in Node; the
 * backend's module must be imported already): the adapter's description, or why WebGPU is not to be
 * had, in words, for the host to fall back on and say so.
 */
export async function startWebgpu(gpu: GPU | undefined): Promise<{ adapter: string } | { why: string }> {
  if (!gpu) return { why: 'navigator.gpu is missing' };
  const a = await gpu.requestAdapter().catch(() => null);
  if (!a) return { why: 'no WebGPU adapter was offered' };
  try {
    setupTfjs();
    if (await tf.setBackend('webgpu')) {
      await tf.ready();
      return { adapter: adapterDescription(a) };
    }
    return { why: 'tfjs could not start its WebGPU backend' };
  } catch (e) {
    return { why: `tfjs could not start its WebGPU backend (${e instanceof Error ? e.message : String(e)})` };
  }
}
