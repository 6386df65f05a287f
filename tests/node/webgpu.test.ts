/**
 * src/node/webgpu.ts: WebGPU in Node starts on SwiftShader without lines of its own on stderr. Without
 * XDG_RUNTIME_DIR the Vulkan loader's Wayland support printed "XDG_RUNTIME_DIR is invalid or not set"
 * at every start of every command that uses WebGPU. dawn.node's polls wait a timer tick instead of
 * spinning through setImmediate (a busy loop that took a core from SwiftShader's kernels).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const kRepo = join(__dirname, '..', '..');

describe('WebGPU in Node', () => {
  it('starts an adapter with XDG_RUNTIME_DIR unset, says nothing on stderr, and leaves no folder behind', () => {
    const script = join(mkdtempSync(join(tmpdir(), 'poselab-webgpu-test-')), 'start.mts');
    writeFileSync(script, `import { nodeGpu } from ${JSON.stringify(join(kRepo, 'src', 'node', 'webgpu.ts'))};\n` +
      'const a = await (await nodeGpu()).requestAdapter();\n' +
      'console.log(JSON.stringify({ adapter: !!a, xdg: process.env.XDG_RUNTIME_DIR }));\n');
    const env = { ...process.env };
    delete env.XDG_RUNTIME_DIR;
    const r = spawnSync('npx', ['tsx', script], { cwd: kRepo, env, encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { adapter: boolean; xdg: string };
    expect(out.adapter, 'a WebGPU adapter (SwiftShader here)').toBe(true);
    expect(r.stderr).not.toMatch(/XDG_RUNTIME_DIR/);
    expect(out.xdg).toMatch(/poselab-xdg-/);
    expect(existsSync(out.xdg), 'the stand-in folder is removed at exit').toBe(false);
  });

  it("routes dawn.node's event polls through setTimeout, not setImmediate, and a readback still arrives", () => {
    const script = join(mkdtempSync(join(tmpdir(), 'poselab-webgpu-test-')), 'poll.mts');
    // Counters installed before nodeGpu(): the patch wraps them, so they see what reaches each timer.
    writeFileSync(script, `import { nodeGpu } from ${JSON.stringify(join(kRepo, 'src', 'node', 'webgpu.ts'))};\n` +
      // A poll: native, anonymous, no parameters (what dawn.node hands over).
      'const poll = (fn) => typeof fn === "function" && fn.name === "" && fn.length === 0 && /\\[native code\\]/.test(Function.prototype.toString.call(fn));\n' +
      'const count = { immediatePoll: 0, immediateOther: 0, timeoutPoll: 0 };\n' +
      'const si = globalThis.setImmediate, st = globalThis.setTimeout;\n' +
      'globalThis.setImmediate = (fn, ...a) => { if (poll(fn)) count.immediatePoll++; else count.immediateOther++; return si(fn, ...a); };\n' +
      'globalThis.setTimeout = (fn, ms, ...a) => { if (poll(fn)) count.timeoutPoll++; return st(fn, ms, ...a); };\n' +
      'const device = await (await (await nodeGpu()).requestAdapter()).requestDevice();\n' +
      'const src = device.createBuffer({ size: 16, usage: GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });\n' +
      'device.queue.writeBuffer(src, 0, new Float32Array([1.5, -2, 3.25, 4e6]));\n' +
      'const dst = device.createBuffer({ size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });\n' +
      'const enc = device.createCommandEncoder(); enc.copyBufferToBuffer(src, 0, dst, 0, 16); device.queue.submit([enc.finish()]);\n' +
      'await dst.mapAsync(GPUMapMode.READ);\n' +
      'const data = Array.from(new Float32Array(dst.getMappedRange()));\n' +
      // Two other callers: a JavaScript function and a promise's resolve function (native, one parameter).
      'await new Promise((r) => setImmediate(() => r()));\n' +
      'await new Promise((r) => setImmediate(r));\n' +
      'console.log(JSON.stringify({ data, ...count }));\n' +
      'process.exit(0);\n');
    const r = spawnSync('npx', ['tsx', script], { cwd: kRepo, encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { data: number[]; immediatePoll: number; immediateOther: number; timeoutPoll: number };
    expect(out.data, 'the buffer read back through mapAsync').toEqual([1.5, -2, 3.25, 4e6]);
    expect(out.timeoutPoll, "dawn.node's polls went to setTimeout").toBeGreaterThan(0);
    expect(out.immediatePoll, 'none reached setImmediate').toBe(0);
    expect(out.immediateOther, 'the other two callers still reach the original setImmediate').toBe(2);
  });
});
