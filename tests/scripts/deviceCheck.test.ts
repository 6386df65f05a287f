/**
 * scripts/device-check.sh measures nothing unless Dawn's adapter is a GPU: on this machine, where Dawn finds only
 * SwiftShader (Vulkan on the CPU) or, with a driver manifest that does not exist, no adapter at all, the adapter check
 * exits non-zero saying why, every step asked for is reported as not run, and no step's log is written. Run on the
 * kit's bundles (scripts/kit/bundle.ts) unpacked as the script unpacks them (bin/node, app/), with this Node.
 * With --allow-software (for tests alone) it runs every step on SwiftShader, tiny sizes, each line labelled as a
 * software adapter's: the path the GPU machine takes, from the training to bench.json. Before anything else it refuses
 * a kit whose manifest's sources digest is not this tree's (scripts/kit/sources.ts computes it, the script
 * recomputes it with sha256sum). And its arguments: a usage error exits 2 before anything runs.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { bundleKit } from '../../scripts/kit/bundle';
import { kitSources } from '../../scripts/kit/sources';
import { bopFixture, writeTree } from '../data/fixtures';

const kRepo = fileURLToPath(new URL('../..', import.meta.url));
const kSwiftShaderIcd = '/usr/lib/chromium/vk_swiftshader_icd.json';
const kSoftwareLabel = 'SOFTWARE ADAPTER: not a GPU\'s figures';
const dir = mkdtempSync(join(tmpdir(), 'poselab-device-check-'));
const kit = join(dir, 'kit');
const kEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir };

function deviceCheck(out: string, env: Record<string, string>, ...args: string[]): { code: number | null; output: string } {
  return runScript(kRepo, ['--unpacked', kit, '--out', out, ...args], env);
}

function runScript(cwd: string, args: string[], env: Record<string, string> = {}, timeout = 120_000): { code: number | null; output: string } {
  const r = spawnSync('bash', ['scripts/device-check.sh', ...args], { cwd, encoding: 'utf8', timeout, env: { ...kEnv, ...env } });
  return { code: r.status, output: r.stdout + r.stderr };
}

/**
 * A packed kit's folder as npm run kit leaves it, but for the archive (a few bytes, whose sha256 is not the
 * manifest's): the sources' list and a manifest giving `sourcesSha256` as their digest.
 */
function fakeKit(name: string, list: string, sourcesSha256: string): string {
  const k = join(dir, name);
  mkdirSync(k);
  writeFileSync(join(k, 'sources.sha256'), list);
  writeFileSync(join(k, 'manifest.json'), `${JSON.stringify({
    commit: 'test', sources: { list: 'sources.sha256', files: list.split('\n').length - 1, sha256: sourcesSha256 },
    archive: { name: 'poselab-kit.tar.xz', bytes: 4, sha256: '0'.repeat(64) },
  }, null, 2)}\n`);
  writeFileSync(join(k, 'poselab-kit.tar.xz'), 'none');
  return k;
}

describe('scripts/device-check.sh', () => {
  beforeAll(async () => {
    await bundleKit(join(kit, 'app'));
    mkdirSync(join(kit, 'bin'));
    symlinkSync(process.execPath, join(kit, 'bin', 'node'));
  }, 120_000);

  it('refuses SwiftShader: exit 1, the adapter named and why, no step run', () => {
    expect(existsSync(kSwiftShaderIcd), `${kSwiftShaderIcd} (Debian's chromium, which npm test installs)`).toBe(true);
    const out = join(dir, 'swiftshader');
    const r = deviceCheck(out, { VK_ICD_FILENAMES: kSwiftShaderIcd }, 'pnp', 'train');
    expect(r.code, r.output).toBe(1);
    expect(r.output).toMatch(/adapter \(the default request\): vendor "google", architecture "swiftshader"/);
    expect(r.output).toMatch(/REFUSED: a software adapter \(the default request\): its architecture is "swiftshader"; Dawn calls it a fallback adapter/);
    expect(r.output).toMatch(/pnp: NOT RUN: no GPU adapter/);
    expect(r.output).toMatch(/train: NOT RUN: no GPU adapter/);
    expect(r.output).toMatch(/FAILED: no GPU adapter/);
    expect(readdirSync(out)).toEqual(['device-check.log']);
    expect(readFileSync(join(out, 'device-check.log'), 'utf8')).toMatch(/REFUSED: a software adapter/);
  });

  it('with no adapter at all: exit 1, and the Vulkan loader says why', () => {
    const out = join(dir, 'none');
    const r = deviceCheck(out, { VK_ICD_FILENAMES: join(dir, 'no-such-driver.json') }, 'eval');
    expect(r.code, r.output).toBe(1);
    expect(r.output).toMatch(/REFUSED: no WebGPU adapter \(the default request\)/);
    expect(r.output).toMatch(/the Vulkan loader's own account/);
    expect(r.output).toMatch(/eval: NOT RUN: no GPU adapter/);
    expect(readdirSync(out)).toEqual(['device-check.log']);
  });

  it('refuses a kit built from other sources before anything else, naming both digests and the files that differ', () => {
    const sources = kitSources(kRepo);
    // What the bundles are built from, and this script; not the results the kit brings back.
    for (const f of ['package-lock.json', 'scripts/device-check.sh', 'src/cli/train.ts', 'bench/train.ts']) expect(sources.list).toContain(`  ${f}\n`);
    expect(sources.list).not.toMatch(/ {2}(bench\/results\/|tests\/|public\/)/);
    // This tree's digest as sha256sum recomputes it: the check passes, and the archive's is the next to fail.
    const good = fakeKit('kit-good', sources.list, sources.sha256);
    const ok = runScript(kRepo, ['--kit', good, '--out', join(dir, 'kit-good-out')]);
    expect(ok.code, ok.output).toBe(1);
    expect(ok.output).toContain(`kit: built from this tree's sources (${sources.files} files, sha256 ${sources.sha256})`);
    expect(ok.output).toMatch(/poselab-kit\.tar\.xz: sha256 [0-9a-f]{64}, not the 0{64} of .*manifest\.json: a damaged copy/);
    expect(ok.output).not.toMatch(/stale/);

    // Another digest in the manifest: refused first (the archive is not looked at), exit 1.
    const other = 'f'.repeat(64);
    const stale = runScript(kRepo, ['--kit', fakeKit('kit-stale', sources.list, other), '--out', join(dir, 'kit-stale-out')]);
    expect(stale.code, stale.output).toBe(1);
    expect(stale.output).toMatch(new RegExp(`REFUSED: a stale kit: the ${sources.files} files .* hash to ${sources.sha256} in this tree .*but the kit's bundles were built from ${other} .*; rebuild the kit with npm run kit`));
    expect(stale.output).toMatch(/every file matches .*sources\.sha256 itself: the list is not the one the manifest's digest was made from/);
    expect(stale.output).not.toMatch(/damaged copy|unpacked/);
    expect(readdirSync(join(dir, 'kit-stale-out'))).toEqual(['device-check.log']);
    expect(readFileSync(join(dir, 'kit-stale-out', 'device-check.log'), 'utf8')).toMatch(/REFUSED: a stale kit/);

    // A tree whose one source was edited after the kit was built: a copy of the sources, one of them changed.
    const tree = join(dir, 'tree');
    for (const line of sources.list.trim().split('\n')) {
      const f = line.slice(66);
      mkdirSync(dirname(join(tree, f)), { recursive: true });
      copyFileSync(join(kRepo, f), join(tree, f));
    }
    const edited = 'src/train/config.ts';
    expect(sources.list).toContain(`  ${edited}\n`);
    writeFileSync(join(tree, edited), `${readFileSync(join(tree, edited), 'utf8')}\n// edited after the kit\n`);
    const inTree = fakeKit('kit-tree', sources.list, sources.sha256);
    // pnp alone: the copy has no dataset for train and eval to read.
    const r = runScript(tree, ['--kit', inTree, '--out', join(dir, 'tree-out'), 'pnp']);
    expect(r.code, r.output).toBe(1);
    expect(r.output).toMatch(new RegExp(`REFUSED: a stale kit: .* hash to (?!${sources.sha256})[0-9a-f]{64} in this tree .*built from ${sources.sha256} .*rebuild the kit with npm run kit`));
    expect(r.output).toContain(`${edited}: FAILED`);
    // A kit from before the check (no sources block) is refused the same way.
    const old = join(dir, 'kit-old');
    mkdirSync(old);
    writeFileSync(join(old, 'manifest.json'), '{ "archive": { "sha256": "00" } }\n');
    const o = runScript(kRepo, ['--kit', old, '--out', join(dir, 'kit-old-out')]);
    expect(o.code, o.output).toBe(1);
    expect(o.output).toMatch(/REFUSED: no sources digest in .*manifest\.json, or no .*sources\.sha256: .*rebuild the kit with npm run kit/);
  });

  // About 2.5 minutes on two busy cores; the limits leave room for a slower run beside other tests.
  it('with --allow-software runs every step on SwiftShader, tiny: the results, bench.json and every line labelled', () => {
    expect(existsSync(kSwiftShaderIcd), `${kSwiftShaderIcd} (Debian's chromium, which npm test installs)`).toBe(true);
    const out = join(dir, 'software');
    const dataset = writeTree(bopFixture(), join(dir, 'fixture'));
    // Debian's python3-torch may be installed here or not: the script takes PyTorch's peer where it imports.
    const torch = spawnSync('python3', ['-c', 'import torch'], { env: kEnv }).status === 0;
    const r = runScript(kRepo, ['--unpacked', kit, '--out', out, '--allow-software', '--quick', '--config', 'tiny', '--dataset', dataset,
      '--train-seconds', '30', '--pnp-B', '64'], { VK_ICD_FILENAMES: kSwiftShaderIcd }, 420_000);
    expect(r.code, r.output).toBe(0);
    for (const s of ['train', 'eval', 'pnp', 'train-bench']) expect(r.output).toContain(`summary: ${s} passed`);
    expect(r.output).toMatch(/all steps passed in \d+ s/);
    // In the order the lease wants them: the training and its evaluation first.
    const order = ['train', 'eval', 'pnp', 'train-bench'].map((s) => r.output.indexOf(`${s}: passed in`));
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(r.output).toMatch(torch
      ? /train-bench: PyTorch \S+ in \S+ is the webgpu row's peer/
      : /train-bench: (\S+ cannot import torch|no python3) here: bench:train runs with --no-torch/);

    const files = readdirSync(out).sort();
    // The fixture's dataset is named lmfix, hence the CSV's name.
    expect(files).toEqual(['bench.json', 'device-check.log', 'eval.log', 'pnp.log', 'poselab_lmfix-test.csv', 'train-bench.log', 'train-tiny.zip', 'train.log']);
    for (const f of ['train-tiny.zip', 'poselab_lmfix-test.csv']) expect(statSync(join(out, f)).size, f).toBeGreaterThan(0);

    const bench = JSON.parse(readFileSync(join(out, 'bench.json'), 'utf8')) as Record<string, { label?: string; rows?: { impl: string; B: number }[]; results?: { config: string; backend: string }[] }>;
    const names = Object.keys(bench).sort();
    expect(names).toEqual([
      expect.stringMatching(/^pnp-.*-quick-B64-n8-wgsl\.json$/), expect.stringMatching(/^pnp-.*-quick-B64-n8\.json$/), expect.stringMatching(/^train-.*\.json$/),
    ]);
    for (const n of names) expect(bench[n].label, n).toBe(kSoftwareLabel);
    const [wgsl, all, train] = names.map((n) => bench[n]);
    expect(wgsl.rows?.map((x) => [x.impl, x.B])).toEqual([['wgsl', 64]]);
    expect(all.rows?.map((x) => x.impl).sort()).toEqual(['float64', 'op-cpu', 'opencv', 'opencv-sqpnp', 'wgsl']);
    expect(train.results?.map((x) => [x.config, x.backend])).toEqual([['tiny', 'webgpu']]);

    // Every line of every log says what it is.
    for (const f of files.filter((x) => x.endsWith('.log'))) {
      const lines = readFileSync(join(out, f), 'utf8').split('\n').filter(Boolean);
      expect(lines.length, f).toBeGreaterThan(0);
      expect(lines.filter((l) => !l.includes(kSoftwareLabel)), f).toEqual([]);
    }
    expect(readFileSync(join(out, 'device-check.log'), 'utf8')).toMatch(new RegExp(`\\[${kSoftwareLabel}\\] all steps passed`));
  }, 450_000);

  it('a usage error exits 2 naming the argument, before anything runs', () => {
    const cases: [string[], RegExp][] = [
      [['frobnicate'], /device-check: unknown argument frobnicate/],
      [['--train-seconds', '10'], /--train-seconds 10: expected a whole number of seconds >= 30/],
      [['--deadline', 'soon'], /--deadline soon: expected a whole number of seconds >= 1/],
      [['--pnp-B', '1024;rm'], /--pnp-B 1024;rm: expected a comma list of batch sizes/],
      [['--resume', join(dir, 'missing.zip')], /--resume .*missing\.zip: no such file or folder/],
      [['--steps'], /--steps needs a value/],
      [['--steps', '0'], /--steps 0: expected a positive integer/],
      [['--config', 'huge'], /--config huge: expected tiny, small, default or large/],
      [['--pnp-B', '0,64'], /--pnp-B 0,64: expected a comma list of batch sizes/],
      [['--pnp-B', '1024,12500001'], /--pnp-B 1024,12500001: 12500001 problems of 8 points exceed bench:pnp's 100,000,000 points/],
      [['--dataset', join(dir, 'missing')], /--dataset .*missing: no such folder or file/],
      // (every call here gives --unpacked and --out already)
      [['--kit', join(dir, 'kit')], /--kit and --unpacked: give one/],
      [['--out', join(dir, 'elsewhere')], /--out is given twice/],
      [['--deadline=300'], /--deadline=300: give the value after a space \(--deadline 300\)/],
    ];
    for (const [args, message] of cases) {
      const out = join(dir, `usage-${cases.findIndex((c) => c[0] === args)}`);
      const r = deviceCheck(out, { VK_ICD_FILENAMES: kSwiftShaderIcd }, ...args);
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.output).toMatch(message);
      expect(r.output).toMatch(/^usage: bash scripts\/device-check\.sh/m);
      expect(existsSync(out), `${out} is not made on a usage error`).toBe(false);
    }
  });
});
