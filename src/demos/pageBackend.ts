/**
 * The page's own tfjs backend for the demos. They run on the main thread (the training engine has the
 * worker and its own tfjs), one awaited step per animation frame, so the backend is chosen here, with
 * the setup every host runs (kernels/setup.ts): WebGPU when the browser offers an adapter and tfjs
 * starts on it, else the cpu backend, with the reason.
 */
import '@tensorflow/tfjs-backend-webgpu';
import { startWebgpu, useCpuBackend } from '../kernels/setup';

export type DemoBackendName = 'webgpu' | 'cpu';

export interface DemoBackend {
  /** the backend tfjs now runs on */
  name: DemoBackendName;
  /** why WebGPU was asked for and not obtained */
  notice?: string;
}

export async function selectDemoBackend(wanted: DemoBackendName): Promise<DemoBackend> {
  if (wanted === 'webgpu') {
    const started = await startWebgpu(navigator.gpu);
    if ('adapter' in started) return { name: 'webgpu' };
    await useCpuBackend('cpu');
    const why = navigator.gpu ? started.why : 'this browser offers no WebGPU (navigator.gpu is missing)';
    return { name: 'cpu', notice: `WebGPU is not available: ${why}. The demo runs on the cpu backend (the float64 reference solver).` };
  }
  await useCpuBackend('cpu');
  return { name: 'cpu' };
}
