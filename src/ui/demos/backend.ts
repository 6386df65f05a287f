/**
 * The page's own tfjs backend for the demos. They run on the main thread (the training engine has the
 * worker and its own tfjs), one awaited step per animation frame, so the backend is chosen here:
 * WebGPU when the browser offers an adapter and tfjs starts on it, else the cpu backend, with the reason.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';

export type DemoBackendName = 'webgpu' | 'cpu';

export interface DemoBackend {
  /** the backend tfjs now runs on */
  name: DemoBackendName;
  /** why WebGPU was asked for and not obtained */
  notice?: string;
}

export async function selectDemoBackend(wanted: DemoBackendName): Promise<DemoBackend> {
  if (wanted === 'webgpu') {
    let why: string;
    if (!navigator.gpu) {
      why = 'this browser offers no WebGPU (navigator.gpu is missing)';
    } else if (!(await navigator.gpu.requestAdapter().catch(() => null))) {
      why = 'no WebGPU adapter was offered';
    } else {
      try {
        if (await tf.setBackend('webgpu')) {
          await tf.ready();
          return { name: 'webgpu' };
        }
        why = 'tfjs could not start its WebGPU backend';
      } catch (e) {
        why = `tfjs could not start its WebGPU backend (${e instanceof Error ? e.message : String(e)})`;
      }
    }
    await tf.setBackend('cpu');
    await tf.ready();
    return { name: 'cpu', notice: `WebGPU is not available: ${why}. The demo runs on the cpu backend (the float64 reference solver).` };
  }
  await tf.setBackend('cpu');
  await tf.ready();
  return { name: 'cpu' };
}
