/**
 * The worker's tfjs backend: WebGPU when the browser offers an adapter and tfjs can start on it,
 * else the cpu backend, with a notice the page shows as it is.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import type { BackendInfo } from './protocol';

export async function initBackend(): Promise<BackendInfo> {
  let why: string;
  let adapter: string | undefined;
  const gpu = (self.navigator as Navigator | undefined)?.gpu;
  if (!gpu) {
    why = 'this browser offers no WebGPU to workers (navigator.gpu is missing)';
  } else {
    const a = await gpu.requestAdapter().catch(() => null);
    if (!a) {
      why = 'no WebGPU adapter was offered';
    } else {
      adapter = a.info?.description || [a.info?.vendor, a.info?.architecture].filter(Boolean).join(' ') || 'unnamed adapter';
      try {
        if (await tf.setBackend('webgpu')) {
          await tf.ready();
          return { backend: 'webgpu', webgpu: true, adapter };
        }
        why = 'tfjs could not start its WebGPU backend';
      } catch (e) {
        why = `tfjs could not start its WebGPU backend (${e instanceof Error ? e.message : String(e)})`;
      }
    }
  }
  await tf.setBackend('cpu');
  await tf.ready();
  return { backend: 'cpu', webgpu: false, notice: `WebGPU is not available: ${why}. Training runs on the CPU backend, much more slowly.` };
}
