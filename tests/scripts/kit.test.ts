/**
 * The kit's bundles (scripts/kit/bundle.ts, which `npm run kit` packs with Node for a GPU machine without Node's
 * packages) run on their own: built into a temporary folder with no node_modules above it, and run there by Node
 * with a PATH that has no Node on it and that folder as the working directory. The bundled `train` trains the tiny
 * config on the fixture on wasm, its localiser on the bundled worker thread; the bundled `eval` of that bundle prints
 * the metrics line `npm run eval` prints from source; the bundled `bench:pnp` times the CPU rows, OpenCV.js from the
 * kit's own node_modules; the bundled `bench:train` runs tiny on wasm. (The rest of the kit, Node compressed and the
 * Vulkan loader's package, is checked by `npm run kit` itself: a minute of xz.)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { bundleKit, kKitEntries } from '../../scripts/kit/bundle';
import { bopFixture, writeTree } from '../data/fixtures';

const kRepo = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'poselab-kit-'));
const dataset = writeTree(bopFixture(), join(dir, 'fixture'));
const emptyBin = join(dir, 'empty-bin');
mkdirSync(emptyBin);
/** What the GPU machine's process has: no Node on PATH, no node_modules above the working directory. */
const kEnv = { PATH: emptyBin, HOME: dir, TMPDIR: tmpdir() };

function bundled(app: string, entry: string, args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(app, `${entry}.mjs`), ...args], { cwd: dir, env: kEnv, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A metrics line without its time per image, the one figure two runs of the same evaluation do not share. */
const withoutTime = (line: string) => line.replace(/\s+[\d.]+ ms\/image\s*$/, '');

describe('the kit\'s bundles', () => {
  it('train, eval and both benchmarks run from a folder with no node_modules above it, eval as npm run eval does', async () => {
    for (let d = dir; d !== dirname(d); d = dirname(d)) expect(existsSync(join(dirname(d), 'node_modules')), `node_modules above ${dir}`).toBe(false);
    const app = join(dir, 'app');
    const { files } = await bundleKit(app);
    for (const name of Object.keys(kKitEntries)) expect(files.has(`${name}.mjs`), name).toBe(true);
    expect([...files.keys()].filter((f) => f.startsWith('node_modules/')).sort()).toEqual([
      'node_modules/@techstark/opencv-js/LICENSE', 'node_modules/@techstark/opencv-js/dist/opencv.js', 'node_modules/@techstark/opencv-js/package.json',
      'node_modules/webgpu/LICENSE.md', 'node_modules/webgpu/dist/linux-x64/dawn.node', 'node_modules/webgpu/index.js', 'node_modules/webgpu/package.json',
    ]);
    // Nothing resolves back into this checkout: the GPU machine's copy lives elsewhere.
    for (const f of readdirSync(app).filter((x) => x.endsWith('.mjs'))) expect(readFileSync(join(app, f), 'utf8').includes(kRepo), f).toBe(false);

    const run = join(dir, 'run');
    const t = bundled(app, 'train', ['--dataset', dataset, '--config', 'tiny', '--steps', '3', '--backend', 'wasm', '--out', run]);
    expect(t.code, t.stderr).toBe(0);
    expect(t.stderr).toMatch(/^training tiny on wasm: .*; the localiser on a second thread; batches cut on a thread of their own$/m);
    expect(t.stdout).toMatch(/^finished at step 3; bundle: /m);

    const e = bundled(app, 'eval', ['--model', run, '--dataset', dataset, '--backend', 'wasm']);
    expect(e.code, e.stderr).toBe(0);
    const source = spawnSync('npm', ['run', '--silent', 'eval', '--', '--model', run, '--dataset', dataset, '--backend', 'wasm'],
      { cwd: kRepo, encoding: 'utf8', timeout: 120_000 });
    expect(source.status, source.stderr).toBe(0);
    const line = (s: string) => s.trim().split('\n').find((l) => /^test \(\d+ instances\): /.test(l));
    expect(line(source.stdout), source.stdout).toBeDefined();
    expect(withoutTime(line(e.stdout) ?? e.stdout)).toBe(withoutTime(line(source.stdout)!));

    const results = join(dir, 'results');
    const p = bundled(app, 'bench-pnp', ['--quick', '--B', '8', '--n', '8', '--impls', 'op-cpu,float64,opencv-sqpnp', '--out', `${results}/`]);
    expect(p.code, p.stderr).toBe(0);
    expect(p.stderr).toMatch(/B=8 n=8 opencv-sqpnp: [\d.]+ ms forward/);
    const b = bundled(app, 'bench-train', ['--configs', 'tiny@4', '--backends', 'wasm', '--steps', '1', '--warmup', '0', '--no-torch', '--out', `${results}/`]);
    expect(b.code, b.stderr).toBe(0);
    expect(b.stdout).toMatch(/^tiny +wasm +4 /m);
    expect(readdirSync(results).sort()).toEqual([
      expect.stringMatching(/^pnp-.*-quick-B8-n8-op-cpu_float64_opencv-sqpnp\.json$/), expect.stringMatching(/^train-.*\.json$/),
    ]);
  }, 180_000);
});
