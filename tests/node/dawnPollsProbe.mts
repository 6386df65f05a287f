// Run by tests/node/webgpu.test.ts in a process of its own (it replaces timers): prints one JSON line on what
// reached which timer while WebGPU waited, and how other setImmediate callers fared.
import { createHook } from 'node:async_hooks';
import { promisify } from 'node:util';
import { nodeGpu } from '../../src/node/webgpu';

// Installed before nodeGpu(), so the patch wraps it: it sees every callback that reaches the original.
const original = globalThis.setImmediate;
const reachedOriginal: unknown[] = [];
globalThis.setImmediate = Object.assign((fn: (...a: unknown[]) => void, ...args: unknown[]) => {
  reachedOriginal.push(fn);
  return original(fn, ...args);
}, original) as typeof setImmediate;

const device = await (await (await nodeGpu()).requestAdapter())!.requestDevice();

// Every Immediate and Timeout created while `record` runs, timed from its start.
async function record(run: () => Promise<void>): Promise<{ ms: number; immediates: number[]; timeouts: number; order: string }> {
  const created: { type: string; ms: number }[] = [];
  let t0 = 0;
  const hook = createHook({
    init(_id, type) {
      if (type === 'Immediate' || type === 'Timeout') created.push({ type, ms: performance.now() - t0 });
    },
  });
  t0 = performance.now();
  hook.enable();
  await run();
  const ms = performance.now() - t0;
  hook.disable();
  const immediates = created.filter((c) => c.type === 'Immediate').map((c) => c.ms);
  return { ms, immediates, timeouts: created.length - immediates.length, order: created.map((c) => c.type[0]).join('') };
}

// Readbacks of 16 bytes: the first checks the round trip; the later ones, warm, settle within the back-to-back
// phase (no timer).
const src = device.createBuffer({ size: 16, usage: GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
device.queue.writeBuffer(src, 0, new Float32Array([1.5, -2, 3.25, 4e6]));
const dst = device.createBuffer({ size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
async function readBack(): Promise<number[]> {
  const enc = device.createCommandEncoder();
  enc.copyBufferToBuffer(src, 0, dst, 0, 16);
  device.queue.submit([enc.finish()]);
  await dst.mapAsync(GPUMapMode.READ);
  const values = Array.from(new Float32Array(dst.getMappedRange()));
  dst.unmap();
  return values;
}
const roundTrip = await readBack();
const shortWaitTimeouts: number[] = [];
for (let k = 0; k < 5; k++) shortWaitTimeouts.push((await record(async () => void (await readBack()))).timeouts);

// A long wait: a kernel whose loop count doubles until the wait passes 20 ms, whatever the adapter's speed.
const module = device.createShaderModule({
  code: `@group(0) @binding(0) var<storage, read_write> out: array<f32>;
@group(0) @binding(1) var<uniform> iters: vec4<u32>;
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  var x = f32(id.x);
  for (var i = 0u; i < iters.x; i++) { x = x * 0.9999999 + 1e-7; }
  out[id.x] = x;
}`,
});
const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
const out = device.createBuffer({ size: 1024, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
const read = device.createBuffer({ size: 1024, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
const iters = device.createBuffer({ size: 16, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
const bindGroup = device.createBindGroup({
  layout: pipeline.getBindGroupLayout(0),
  entries: [{ binding: 0, resource: { buffer: out } }, { binding: 1, resource: { buffer: iters } }],
});
let long = { ms: 0, immediates: [] as number[], timeouts: 0, order: '' };
for (let n = 50_000; n <= 2 ** 30 && long.ms < 20; n *= 2) {
  device.queue.writeBuffer(iters, 0, new Uint32Array([n, 0, 0, 0]));
  long = await record(async () => {
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(4);
    pass.end();
    enc.copyBufferToBuffer(out, 0, read, 0, 1024);
    device.queue.submit([enc.finish()]);
    await read.mapAsync(GPUMapMode.READ);
    read.unmap();
  });
}

// Other callers, each of which must reach the original as itself: an anonymous arrow (its source is checked),
// a named native function, Function.prototype, a proxy of an anonymous parameterless function (its source
// reads as native code) and a promise's resolve function (native, one parameter).
const arrow = [() => {}][0];
const proxy = new Proxy(function () {}, {});
const throwTypeError = Object.getOwnPropertyDescriptor(Function.prototype, 'caller')!.get!;
let resolver: unknown = null;
await new Promise<void>((resolve) => {
  resolver = resolve;
  setImmediate(arrow);
  setImmediate(Date.now);
  setImmediate(Function.prototype as () => void);
  setImmediate(proxy);
  setImmediate(() => setImmediate(resolve));
});
const othersReachedOriginal = [arrow, Date.now, Function.prototype, proxy, resolver].map((f) => reachedOriginal.includes(f));
// %ThrowTypeError% (native, anonymous, parameterless; throws when called) looks like a poll. Given an argument
// it is not one: it reaches the original as itself. Scheduled and cleared, with or without, it must never run,
// and setImmediate must go on working after it. (Outside a poll its handle is an Immediate; a timer handle
// arises only inside one of Dawn's polls.)
clearImmediate(setImmediate(throwTypeError as (a: string) => void, 'an argument'));
const withArgumentReachedOriginal = reachedOriginal.includes(throwTypeError);
clearImmediate(setImmediate(throwTypeError));
const afterClear = await new Promise<boolean>((resolve) => setImmediate(() => resolve(true)));
const promisified = await promisify(setImmediate)(7);
console.log(JSON.stringify({
  roundTrip,
  shortWaitTimeouts,
  longWaitMs: long.ms,
  longImmediates: long.immediates.length,
  // From the second Immediate, queued inside the run's first poll (the first was queued before that poll ran).
  // On a loaded machine the process can be switched out between the poll's clock check and the hook's, so this is
  // only roughly the 1 ms.
  longImmediateSpanMs: long.immediates.length > 1 ? long.immediates[long.immediates.length - 1] - long.immediates[1] : -1,
  // I for an Immediate, T for a Timeout, in the order created: once on timers, a run stays on them.
  longOrder: long.order,
  longTimeouts: long.timeouts,
  othersReachedOriginal,
  withArgumentReachedOriginal,
  afterClear,
  promisified,
}));
process.exit(0);
