/**
 * src/node/webgpu.ts: WebGPU in Node starts on SwiftShader without lines of its own on stderr. Without
 * XDG_RUNTIME_DIR the Vulkan loader's Wayland support printed "XDG_RUNTIME_DIR is invalid or not set"
 * at every start of every command that uses WebGPU.
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
});
