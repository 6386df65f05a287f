/**
 * WebGPU in Node through Dawn (the npm package `webgpu`), for the command line, the benchmarks and the
 * tests. On machines without a GPU, Dawn runs on SwiftShader's Vulkan (Debian's chromium ships it): set
 * VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json, as `npm test` does.
 */
import * as tf from '@tensorflow/tfjs';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { startWebgpu } from '../kernels/setup';

let ready: Promise<WebGPUBackend> | null = null;

const kSwiftShaderIcd = '/usr/lib/chromium/vk_swiftshader_icd.json';

/** Makes navigator.gpu exist in Node (once) and returns it. */
export async function nodeGpu(): Promise<GPU> {
  const g = globalThis as { navigator?: { gpu?: GPU } };
  if (g.navigator?.gpu) return g.navigator.gpu;
  if (!process.env.VK_ICD_FILENAMES && !process.env.VK_DRIVER_FILES) {
    const { existsSync } = await import('node:fs');
    if (existsSync(kSwiftShaderIcd)) process.env.VK_ICD_FILENAMES = kSwiftShaderIcd;
  }
  if (!process.env.XDG_RUNTIME_DIR) {
    // The Vulkan loader's Wayland support looks for a display there and, without the variable, prints
    // "XDG_RUNTIME_DIR is invalid or not set" on stderr at every start; a headless process has no display
    // either way, so a private empty folder of this process's own stands in.
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'poselab-xdg-'));
    process.env.XDG_RUNTIME_DIR = dir;
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  const { create, globals } = await import('webgpu');
  Object.assign(globalThis, globals);
  pollDawnOnTimers();
  const gpu = create([]) as GPU;
  Object.defineProperty(globalThis, 'navigator', { value: { ...(g.navigator ?? {}), gpu }, configurable: true, writable: true });
  return gpu;
}

const kPollPatched = Symbol.for('poselab.dawnPollsOnTimers');

/**
 * dawn.node settles its promises (mapAsync, onSubmittedWorkDone, requestDevice) by polling: while one is
 * pending it hands the global setImmediate a native callback that processes Dawn's events and queues itself
 * again, a busy loop on the main thread for as long as the GPU works. On SwiftShader the GPU is the same CPU
 * cores, so that loop took one of a two-core machine's cores from the kernels it was waiting for (the PnP
 * forward at B = 1,024, n = 8, scratch runs: median 65 ms with the loop, 40 and 51 ms without; README,
 * "Benchmark (`npm run bench:pnp`)"). Those callbacks, and only those, go through setTimeout(fn, 0) instead:
 * one poll per timer tick (1 ms in Node), a delay of at most that per settled promise. They are told apart as
 * native, anonymous and parameterless: a JavaScript function's source is never native code, and a promise's
 * resolve function, the other native callback often handed to setImmediate, takes one parameter. Every other
 * caller gets the original.
 */
function pollDawnOnTimers(): void {
  const g = globalThis as unknown as Record<PropertyKey, unknown> & { setImmediate: typeof setImmediate };
  if (g[kPollPatched]) return;
  g[kPollPatched] = true;
  const original = g.setImmediate;
  const isDawnPoll = (fn: unknown): boolean =>
    typeof fn === 'function' && fn.name === '' && fn.length === 0 && /\{\s*\[native code\]\s*\}\s*$/.test(Function.prototype.toString.call(fn));
  const patched = function (this: unknown, fn: unknown, ...args: unknown[]) {
    if (isDawnPoll(fn)) return globalThis.setTimeout(fn as () => void, 0, ...args);
    return (original as (...a: unknown[]) => unknown).call(this, fn, ...args);
  };
  // Keeps util.promisify's custom form and the rest of setImmediate's own properties.
  Object.defineProperties(patched, Object.getOwnPropertyDescriptors(original));
  g.setImmediate = patched as unknown as typeof setImmediate;
}

/**
 * Selects tfjs's webgpu backend on Dawn. Throws, naming what is missing, when no adapter is found: a
 * caller that asked for WebGPU never silently gets the CPU.
 */
export function useNodeWebgpu(): Promise<WebGPUBackend> {
  ready ??= (async () => {
    const gpu = await nodeGpu();
    if (!(await gpu.requestAdapter())) {
      throw new Error('WebGPU: no adapter found (is libvulkan1 installed and VK_ICD_FILENAMES pointing at a Vulkan driver, e.g. ' +
        `${kSwiftShaderIcd}?)`);
    }
    // The backend registers itself at import only where navigator.gpu exists, so it is imported now.
    await import('@tensorflow/tfjs-backend-webgpu');
    const started = await startWebgpu(gpu);
    if ('why' in started) throw new Error(`WebGPU: ${started.why}`);
    return tf.backend() as WebGPUBackend;
  })();
  return ready;
}

/** A human name for the adapter, for benchmark tables. */
export async function adapterName(): Promise<string> {
  const gpu = await nodeGpu();
  const adapter = await gpu.requestAdapter();
  const info = adapter?.info;
  return info ? [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' ') || 'unknown adapter' : 'no adapter';
}
