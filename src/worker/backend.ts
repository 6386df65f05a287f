/**
 * The worker's tfjs backend: WebGPU when the browser offers an adapter and tfjs can start on it,
 * else the fastest CPU path (wasm, else tfjs's cpu backend), with a notice the page shows as it is.
 */
import '@tensorflow/tfjs-backend-webgpu';
import { startWebgpu, useFastestCpuBackend } from '../kernels/setup';
import type { BackendInfo } from './protocol';
import { useServedWasmBinaries } from './wasmBinaries';

export async function initBackend(): Promise<BackendInfo> {
  const gpu = (self.navigator as Navigator | undefined)?.gpu;
  const started = await startWebgpu(gpu);
  if ('adapter' in started) return { backend: 'webgpu', webgpu: true, adapter: started.adapter };
  const why = gpu ? started.why : 'this browser offers no WebGPU to workers (navigator.gpu is missing)';
  await useServedWasmBinaries();
  const cpu = await useFastestCpuBackend();
  const path = cpu.backend === 'wasm' ? 'the wasm backend (WebAssembly)' : "tfjs's cpu backend (plain JavaScript)";
  return {
    backend: cpu.backend, webgpu: false,
    notice: `WebGPU is not available: ${why}. Training runs on the CPU through ${path}, more slowly than on a GPU.${cpu.notice ? ` (${cpu.notice}.)` : ''}`,
  };
}
