/**
 * src/node/webgpu.ts: WebGPU in Node starts on SwiftShader without lines of its own on stderr. Without
 * XDG_RUNTIME_DIR the Vulkan loader's Wayland support printed "XDG_RUNTIME_DIR is invalid or not set"
 * at every start of every command that uses WebGPU. dawn.node's polls wait a timer tick instead of
 * spinning through setImmediate (a busy loop that took a core from SwiftShader's kernels); the probe is
 * dawnPollsProbe.mts, run in a process of its own since it replaces timers.
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

  it("dawn.node's polls wait timer ticks after the first millisecond of a wait; other setImmediate callers are untouched", () => {
    const r = spawnSync('npx', ['tsx', join(__dirname, 'dawnPollsProbe.mts')], { cwd: kRepo, encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as {
      roundTrip: number[]; waitMs: number; immediateSpanMs: number; timeouts: number;
      proxyReachedOriginal: boolean; resolveReachedOriginal: boolean; afterClear: boolean; promisified: number;
    };
    expect(out.roundTrip, 'a readback through mapAsync').toEqual([1.5, -2, 3.25, 4e6]);
    // The kernel must outlast the spin phase by far for the rest to say anything.
    expect(out.waitMs, 'the long kernel took long enough to tell').toBeGreaterThan(10);
    // kDawnSpinMs (1 ms) of back-to-back polls, then timers: the Immediates span about a millisecond (with the
    // busy loop they spanned the whole wait).
    expect(out.immediateSpanMs, 'ms from the first Immediate to the last').toBeLessThan(5);
    expect(out.timeouts, 'polls by timer tick').toBeGreaterThan(0);
    expect(out.proxyReachedOriginal, "a proxy (its source reads as native code) keeps setImmediate").toBe(true);
    expect(out.resolveReachedOriginal, "a promise's resolve function keeps setImmediate").toBe(true);
    expect(out.afterClear, 'setImmediate works after clearImmediate of a native parameterless callback').toBe(true);
    expect(out.promisified, 'util.promisify(setImmediate)').toBe(7);
  });
});
