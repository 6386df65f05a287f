/**
 * WebGPU in Node through Dawn (the npm package `webgpu`), for the command line, the benchmarks and the
 * tests. On machines without a GPU, Dawn runs on SwiftShader's Vulkan (Debian's chromium ships it): set
 * VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json, as `npm test` does.
 */
import * as tf from '@tensorflow/tfjs';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { clearTimeout as clearTimer, setTimeout as setTimer } from 'node:timers';
import { types } from 'node:util';
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
  await refuseMalformedManifests();
  const { create, globals } = await import('webgpu');
  Object.assign(globalThis, globals);
  pollDawnOnTimers();
  const gpu = create([]) as GPU;
  Object.defineProperty(globalThis, 'navigator', { value: { ...(g.navigator ?? {}), gpu }, configurable: true, writable: true });
  return gpu;
}

const kPollPatched = Symbol.for('poselab.dawnPollsOnTimers');
/**
 * How long a run of Dawn's poll loop polls without pause before it polls once per timer tick: what a GPU
 * finishes within it settles as soon as before (a 16-byte readback took 0.07 to 0.27 ms on SwiftShader, a timer
 * tick 1.1 to 1.2 ms).
 */
const kDawnSpinMs = 1;

/**
 * dawn.node settles its promises (mapAsync, onSubmittedWorkDone, requestDevice, and their rejections) by
 * polling: while one is pending it hands the global setImmediate a native callback that processes Dawn's
 * events and queues a new such callback, a busy loop on the main thread for as long as the GPU works. On
 * SwiftShader the GPU is the same CPU cores, so that loop took one of a two-core machine's cores from the
 * kernels it was waiting for (README, "Benchmark (`npm run bench:pnp`)"). Here a run of that loop (begun by a
 * poll queued from outside a poll) polls without pause for kDawnSpinMs from its first poll, then once per timer
 * tick (setTimeout 0); an operation started while a run is on timers joins it. Polls are told apart as
 * native, anonymous functions given no arguments that take no parameters and are not proxies: a JavaScript
 * function's source never ends in `{ [native code] }`, and a promise's resolve function, the other native
 * callback often handed to setImmediate, takes one parameter. Every other call gets the original setImmediate
 * with its arguments. This replaces the process's global setImmediate and clearImmediate (a handle that is a
 * timer is cleared as one); the clock is shared by every GPU instance of the process.
 */
function pollDawnOnTimers(): void {
  const g = globalThis as typeof globalThis & { [kPollPatched]?: true };
  if (g[kPollPatched]) return;
  g[kPollPatched] = true;
  const originalSet = g.setImmediate;
  const originalClear = g.clearImmediate;
  const timerHandles = new WeakSet<object>();
  let inPoll = false;
  let spinUntil = 0;
  const isDawnPoll = (fn: unknown): fn is () => void =>
    typeof fn === 'function' && fn.name === '' && fn.length === 0 && fn !== Function.prototype && !types.isProxy(fn) &&
    Function.prototype.toString.call(fn).endsWith('{ [native code] }');
  function setImmediate(this: unknown, fn: unknown, ...args: unknown[]): unknown {
    if (args.length > 0 || !isDawnPoll(fn)) return Reflect.apply(originalSet, this, [fn, ...args]);
    const starts = !inPoll;
    const poll = (): void => {
      if (starts) spinUntil = performance.now() + kDawnSpinMs;
      const outer = inPoll;
      inPoll = true;
      try {
        fn();
      } finally {
        inPoll = outer;
      }
    };
    if (starts || performance.now() < spinUntil) return Reflect.apply(originalSet, this, [poll]);
    const handle = setTimer(poll, 0);
    timerHandles.add(handle);
    return handle;
  }
  function clearImmediate(this: unknown, handle: unknown): void {
    if (typeof handle === 'object' && handle !== null && timerHandles.has(handle)) clearTimer(handle as NodeJS.Timeout);
    else Reflect.apply(originalClear, this, [handle]);
  }
  // Keeps util.promisify's custom form and the rest of setImmediate's own properties.
  Object.defineProperties(setImmediate, Object.getOwnPropertyDescriptors(originalSet));
  g.setImmediate = setImmediate as typeof g.setImmediate;
  g.clearImmediate = clearImmediate as typeof g.clearImmediate;
}

/**
 * Selects tfjs's webgpu backend on Dawn. Throws, naming what is missing, when no adapter is found: a
 * caller that asked for WebGPU never silently gets the CPU.
 */
export function useNodeWebgpu(): Promise<WebGPUBackend> {
  ready ??= (async () => {
    const gpu = await nodeGpu();
    if (!(await gpu.requestAdapter())) {
      // The Vulkan loader's own warnings (a manifest it could not open, no driver) come first on stderr, from
      // native code; this line ties them to the setting that caused them.
      throw new Error(`WebGPU: no adapter found (is libvulkan1 installed and VK_ICD_FILENAMES pointing at a Vulkan driver, e.g. ${kSwiftShaderIcd}? ` +
        `${await driverSetting()}; the Vulkan loader's warnings above, if any, say why)`);
    }
    // The backend registers itself at import only where navigator.gpu exists, so it is imported now.
    await import('@tensorflow/tfjs-backend-webgpu');
    const started = await startWebgpu(gpu);
    if ('why' in started) throw new Error(`WebGPU: ${started.why}`);
    return tf.backend() as WebGPUBackend;
  })();
  return ready;
}

/** A driver manifest named by the loader's variable, and what is wrong with it ('' when nothing is). */
interface ManifestCheck { manifest: string; problem: string; malformed: boolean }

/**
 * The Vulkan loader's driver setting (VK_DRIVER_FILES before VK_ICD_FILENAMES, as loaders since 1.3.207 read
 * them) and each manifest it names, a folder's *.json files included: one that does not exist or cannot be
 * parsed, one of the wrong shape (malformed: JSON values of the wrong type where the loader expects an
 * object or a string), one without a driver, and one whose driver (library_path) does not exist; a bare
 * library name is looked up by the system's loader and not checked.
 */
async function driverManifests(): Promise<{ name: string; value?: string; checks: ManifestCheck[] }> {
  const { existsSync, readFileSync, readdirSync, statSync } = await import('node:fs');
  const { dirname, isAbsolute, join, resolve } = await import('node:path');
  const name = process.env.VK_DRIVER_FILES !== undefined ? 'VK_DRIVER_FILES' : 'VK_ICD_FILENAMES';
  const value = process.env[name];
  const checks: ManifestCheck[] = [];
  const check = (manifest: string): void => {
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(manifest, 'utf8'));
    } catch (e) {
      // The loader skips a file it cannot parse, with a warning of its own.
      checks.push({ manifest, problem: `${manifest} cannot be read as JSON (${e instanceof Error ? e.message : String(e)})`, malformed: false });
      return;
    }
    const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
    // What it does not skip: values of the wrong JSON type where it expects an object or a string.
    const icd = isObject(json) ? json.ICD : undefined;
    const library = isObject(icd) ? icd.library_path : undefined;
    if (!isObject(json) || (icd !== undefined && !isObject(icd)) || (library !== undefined && typeof library !== 'string')) {
      checks.push({ manifest, problem: `${manifest} is not a Vulkan driver manifest (a JSON object whose ICD is an object with a library_path string)`, malformed: true });
      return;
    }
    if (typeof library !== 'string') {
      checks.push({ manifest, problem: `${manifest} has no ICD.library_path`, malformed: false });
      return;
    }
    const path = isAbsolute(library) ? library : resolve(dirname(manifest), library);
    const missing = library.includes('/') && !existsSync(path);
    checks.push({ manifest, problem: missing ? `${manifest}'s driver, ${path}, does not exist` : '', malformed: false });
  };
  for (const entry of (value ?? '').split(':').filter(Boolean)) {
    try {
      if (!existsSync(entry)) checks.push({ manifest: entry, problem: `${entry} does not exist`, malformed: false });
      else if (statSync(entry).isDirectory()) for (const f of readdirSync(entry).filter((n) => n.endsWith('.json')).sort()) check(join(entry, f));
      else check(entry);
    } catch (e) {
      checks.push({ manifest: entry, problem: `${entry} cannot be read (${e instanceof Error ? e.message : String(e)})`, malformed: false });
    }
  }
  return { name, value, checks };
}

/**
 * Refuses, before Dawn starts, a driver manifest of the wrong shape: the Vulkan loader reads its values
 * without checking their types and crashes the process (a JSON array, an ICD that is not an object, a
 * library_path that is not a string: SIGSEGV or SIGABRT, no message). What the loader skips with a warning
 * (a file it cannot parse, a missing one) is left to it: another manifest may still give an adapter.
 */
async function refuseMalformedManifests(): Promise<void> {
  const { name, value, checks } = await driverManifests();
  const bad = checks.filter((c) => c.malformed);
  if (bad.length) throw new Error(`WebGPU: ${name} is ${value}; ${bad.map((c) => c.problem).join('; ')}`);
}

/** What the loader was told to load and what is wrong with it, in words, for "no adapter found". */
async function driverSetting(): Promise<string> {
  const { name, value, checks } = await driverManifests();
  if (value === undefined) return 'neither VK_DRIVER_FILES nor VK_ICD_FILENAMES is set';
  const problems = checks.map((c) => c.problem).filter(Boolean);
  return `${name} is ${value}${problems.length ? `; ${problems.join('; ')}` : ''}`;
}

/** A human name for the adapter, for benchmark tables. */
export async function adapterName(): Promise<string> {
  const gpu = await nodeGpu();
  const adapter = await gpu.requestAdapter();
  const info = adapter?.info;
  return info ? [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' ') || 'unknown adapter' : 'no adapter';
}
