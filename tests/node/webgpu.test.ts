/**
 * src/node/webgpu.ts: WebGPU in Node starts on SwiftShader without lines of its own on stderr. Without
 * XDG_RUNTIME_DIR the Vulkan loader's Wayland support printed "XDG_RUNTIME_DIR is invalid or not set"
 * at every start of every command that uses WebGPU. dawn.node's polls go back to back for a millisecond,
 * then wait a timer tick each, instead of spinning through setImmediate for the whole wait (a busy loop that took
 * a core from SwiftShader's kernels); the probe is dawnPollsProbe.mts, run in a process of its own since it
 * replaces timers.
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

  it("dawn.node's polls: back to back for a millisecond, then by timer tick; other setImmediate callers untouched", () => {
    const r = spawnSync('npx', ['tsx', join(__dirname, 'dawnPollsProbe.mts')], { cwd: kRepo, encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as {
      roundTrip: number[]; shortWaitTimeouts: number[]; longWaitMs: number; longImmediates: number;
      longImmediateSpanMs: number; longOrder: string; longTimeouts: number; othersReachedOriginal: boolean[];
      withArgumentReachedOriginal: boolean; afterClear: boolean; promisified: number;
    };
    expect(out.roundTrip, 'a readback through mapAsync').toEqual([1.5, -2, 3.25, 4e6]);
    // A warm 16-byte readback settles within the back-to-back phase: no timer at all (with timers from the
    // first poll on, every one waited a tick).
    expect(out.shortWaitTimeouts.filter((t) => t === 0).length, 'warm readbacks settled without a timer').toBeGreaterThan(0);
    // The long kernel's loop count doubles until the wait passes 20 ms, on any adapter.
    expect(out.longWaitMs, 'the long wait, ms').toBeGreaterThan(20);
    // kDawnSpinMs (1 ms) of back-to-back polls from the run's first poll, then timers: the Immediates queued by
    // polls span under a millisecond (with the busy loop they spanned the whole wait; with the first poll alone
    // back to back there was one).
    expect(out.longImmediates, 'back-to-back polls').toBeGreaterThan(1);
    expect(out.longOrder, 'Immediates first, then Timeouts only').toMatch(/^I+T+$/);
    // About 1 ms; the bound leaves room for the process being switched out on a loaded machine.
    expect(out.longImmediateSpanMs, 'ms from the second Immediate (the first queued by a poll) to the last').toBeLessThan(10);
    expect(out.longTimeouts, 'polls by timer tick').toBeGreaterThan(0);
    expect(out.othersReachedOriginal, "an arrow, Date.now, Function.prototype, a proxy and a promise's resolve keep setImmediate")
      .toEqual([true, true, true, true, true]);
    expect(out.withArgumentReachedOriginal, 'a native parameterless function given an argument keeps setImmediate').toBe(true);
    expect(out.afterClear, 'setImmediate works after clearImmediate of a native parameterless callback').toBe(true);
    expect(out.promisified, 'util.promisify(setImmediate)').toBe(7);
  });
});
