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

// A readback round trip: 16 bytes out and back.
const src = device.createBuffer({ size: 16, usage: GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
device.queue.writeBuffer(src, 0, new Float32Array([1.5, -2, 3.25, 4e6]));
const dst = device.createBuffer({ size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
let enc = device.createCommandEncoder();
enc.copyBufferToBuffer(src, 0, dst, 0, 16);
device.queue.submit([enc.finish()]);
await dst.mapAsync(GPUMapMode.READ);
const roundTrip = Array.from(new Float32Array(dst.getMappedRange()));

// A long wait: a kernel of about 20 to 100 ms on SwiftShader. Every Immediate and Timeout created meanwhile is
// timed from the submit.
const module = device.createShaderModule({
  code: `@group(0) @binding(0) var<storage, read_write> out: array<f32>;
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  var x = f32(id.x);
  for (var i = 0u; i < 100000u; i++) { x = x * 0.9999999 + 1e-7; }
  out[id.x] = x;
}`,
});
const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
const out = device.createBuffer({ size: 1024, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
const read = device.createBuffer({ size: 1024, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
const bindGroup = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: out } }] });
const created: { type: string; ms: number }[] = [];
let t0 = 0;
const hook = createHook({
  init(_id, type) {
    if (type === 'Immediate' || type === 'Timeout') created.push({ type, ms: performance.now() - t0 });
  },
});
enc = device.createCommandEncoder();
const pass = enc.beginComputePass();
pass.setPipeline(pipeline);
pass.setBindGroup(0, bindGroup);
pass.dispatchWorkgroups(4);
pass.end();
enc.copyBufferToBuffer(out, 0, read, 0, 1024);
t0 = performance.now();
hook.enable();
device.queue.submit([enc.finish()]);
await read.mapAsync(GPUMapMode.READ);
const waitMs = performance.now() - t0;
hook.disable();
const immediates = created.filter((c) => c.type === 'Immediate').map((c) => c.ms);
// From the wait's first poll (mapAsync's), which a slow submit can delay.
const immediateSpanMs = Math.max(...immediates) - Math.min(...immediates);
const timeouts = created.filter((c) => c.type === 'Timeout').length;

// Other callers. A proxy of an anonymous parameterless function reads as native code: it must reach the original.
const proxy = new Proxy(function () {}, {});
await new Promise<void>((resolve) => {
  setImmediate(proxy);
  setImmediate(resolve);
});
const proxyReachedOriginal = reachedOriginal.includes(proxy);
// A promise's resolve function (native, one parameter) reaches the original as itself.
let resolver: unknown = null;
await new Promise<void>((resolve) => {
  resolver = resolve;
  setImmediate(resolve);
});
const resolveReachedOriginal = reachedOriginal.includes(resolver);
// A native, anonymous, parameterless function that is not Dawn's (%ThrowTypeError%, which throws when
// called), scheduled and then cleared: it must never run, and setImmediate must go on working after it.
const throwTypeError = Object.getOwnPropertyDescriptor(Function.prototype, 'caller')!.get!;
clearImmediate(setImmediate(throwTypeError));
const afterClear = await new Promise<boolean>((resolve) => setImmediate(() => resolve(true)));
const promisified = await promisify(setImmediate)(7);
console.log(JSON.stringify({ roundTrip, waitMs, immediateSpanMs, timeouts, proxyReachedOriginal, resolveReachedOriginal, afterClear, promisified }));
process.exit(0);
