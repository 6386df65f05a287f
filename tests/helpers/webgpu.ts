/**
 * Tests that need WebGPU call this: it selects tfjs's webgpu backend on Dawn (SwiftShader here) and
 * throws when no adapter exists, so such a test fails loudly instead of passing on the CPU.
 */
import * as tf from '@tensorflow/tfjs';
import { useCpuBackend } from '../../src/kernels/setup';
import { useNodeWebgpu } from '../../src/node/webgpu';

export async function requireWebgpu(): Promise<void> {
  await useNodeWebgpu();
  if (tf.getBackend() !== 'webgpu') throw new Error(`expected the webgpu backend, got ${tf.getBackend()}`);
}

/** Runs fn on the named backend, restoring the previous one after. */
export async function onBackend<T>(name: 'cpu' | 'webgpu', fn: () => Promise<T>): Promise<T> {
  const prev = tf.getBackend();
  if (name === 'webgpu') await requireWebgpu();
  else await useCpuBackend();
  try {
    return await fn();
  } finally {
    if (prev && prev !== tf.getBackend()) await tf.setBackend(prev);
  }
}
