/**
 * The tfjs backend of a Node host (the command line, the benchmarks), chosen by name with the setup every
 * host runs (kernels/setup.ts): 'webgpu' (Dawn, node/webgpu.ts), 'wasm', 'cpu', or 'auto', the fastest
 * CPU path that starts here (wasm, else tfjs's plain JavaScript cpu backend).
 */
import * as tf from '@tensorflow/tfjs';
import { useCpuBackend, useFastestCpuBackend } from '../kernels/setup';
import { useNodeWebgpu } from './webgpu';

export type BackendName = 'auto' | 'webgpu' | 'wasm' | 'cpu';

export const kBackendNames: readonly BackendName[] = ['auto', 'webgpu', 'wasm', 'cpu'];

export function isBackendName(s: string): s is BackendName {
  return (kBackendNames as readonly string[]).includes(s);
}

/**
 * Selects the backend and returns tfjs's name for it and, for 'auto' when wasm could not start, why.
 * A backend named explicitly that cannot start throws, naming it: no silent fallback.
 */
export async function useBackend(b: BackendName): Promise<{ backend: string; notice?: string }> {
  let notice: string | undefined;
  if (b === 'webgpu') await useNodeWebgpu();
  else if (b !== 'auto') await useCpuBackend(b);
  else ({ notice } = await useFastestCpuBackend());
  if (tf.getBackend() === 'cpu') quietCpuBanner();
  return { backend: tf.getBackend(), notice };
}

/**
 * tfjs's cpu backend prints, on its first tensor in Node, a banner advising its native Node backend, which
 * this project does not use (its fast paths are wasm and WebGPU; the backend chosen, and why, is already on
 * stderr). Marking that first use as done keeps the output to what the command itself says.
 */
function quietCpuBanner(): void {
  const cpu = tf.findBackend('cpu') as (tf.KernelBackend & { firstUse?: boolean }) | null;
  if (cpu && cpu.firstUse === true) cpu.firstUse = false;
}
