/**
 * The benchmarks' command lines (bench/args.ts), checked without running a benchmark: defaults, every bad
 * value a usage error naming the flag and the value, --out as a .json file or a folder, and each
 * benchmark's answer to a bad value (exit 2), which returns before any work.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { benchOutPath, parseAccuracyBenchArgs, parseKeypointsBenchArgs, parsePnpBenchArgs, parseTrainBenchArgs, prepareBenchOut, refuseForeignResults } from '../../bench/args';
import { InputError, UsageError } from '../../src/cli/args';

const kRepo = fileURLToPath(new URL('../..', import.meta.url));

function expectUsageError(f: () => unknown, message: string): void {
  expect(f).toThrow(UsageError);
  expect(f).toThrow(message);
}

describe('benchmark arguments', () => {
  it('bench:pnp: batch and point lists, at least 4 points', () => {
    const all = ['op-cpu', 'float64', 'opencv', 'opencv-sqpnp', 'wgsl'];
    expect(parsePnpBenchArgs([])).toEqual({ quick: false, batches: [1, 64, 1024, 16384], points: [8, 64], impls: all, out: undefined, sizes: '' });
    expect(parsePnpBenchArgs(['--quick', '--B', '1024', '--n=8,9'])).toEqual({ quick: true, batches: [1024], points: [8, 9], impls: all, out: undefined, sizes: '-B1024-n8_9' });
    expect(parsePnpBenchArgs(['--n', '6']).sizes).toBe('-B1_64_1024_16384-n6');
    expectUsageError(() => parsePnpBenchArgs(['--B', '0']), '--B 0: 0 is not an integer >= 1; expected a comma list of integers >= 1');
    expectUsageError(() => parsePnpBenchArgs(['--B', 'abc']), '--B abc: abc is not an integer >= 1');
    expectUsageError(() => parsePnpBenchArgs(['--B', '-5']), '--B -5: -5 is not an integer >= 1');
    expectUsageError(() => parsePnpBenchArgs(['--n', '3']), '--n 3: 3 is not an integer >= 4; expected a comma list of integers >= 4 (PnP needs at least 4 points)');
    expectUsageError(() => parsePnpBenchArgs(['--frobnicate']), "Unknown option '--frobnicate'");
    expectUsageError(() => parsePnpBenchArgs(['--n', '4,8,4']), '--n 4,8,4: 4 is given twice');
    // A batch no machine holds is refused before the run, not met by a RangeError after the banner.
    expectUsageError(() => parsePnpBenchArgs(['--B', '99999999999', '--n', '8']),
      '--B 99999999999 with --n 8: 799,999,999,992 points in one configuration; at most 100,000,000');
    expect(parsePnpBenchArgs(['--B', '1000000', '--n', '8,64']).batches, '10^6 problems of 64 points fit').toEqual([1000000]);
    // --impls: a subset, timed in the benchmark's own order, and named in the default file name.
    expect(parsePnpBenchArgs(['--impls', 'wgsl,float64'])).toMatchObject({ impls: ['float64', 'wgsl'], sizes: '-float64_wgsl' });
    expect(parsePnpBenchArgs(['--B', '1048576', '--n', '8', '--impls', 'wgsl']).sizes).toBe('-B1048576-n8-wgsl');
    expectUsageError(() => parsePnpBenchArgs(['--impls', 'wgsl,cuda']), '--impls wgsl,cuda: cuda is not one of op-cpu, float64, opencv, opencv-sqpnp, wgsl');
    expectUsageError(() => parsePnpBenchArgs(['--impls', 'wgsl,']), '--impls wgsl,: an empty item');
    expectUsageError(() => parsePnpBenchArgs(['--impls', 'wgsl,wgsl']), '--impls wgsl,wgsl: wgsl is given twice; give each once');
  });

  it('bench:train: configs with batches, backends, steps and warm-up', () => {
    const d = parseTrainBenchArgs([]);
    expect(d.cases).toEqual([{ name: 'tiny', batch: 32 }, { name: 'small', batch: 8 }, { name: 'small' }, { name: 'default' }, { name: 'large' }]);
    expect([d.backends, d.steps, d.warmup, d.all, d.noTorch, d.torchDevice, d.python]).toEqual([['wasm', 'cpu', 'webgpu'], 5, 2, false, false, 'auto', undefined]);
    const r = parseTrainBenchArgs(['--configs', 'tiny@4', '--backends', 'cpu', '--steps', '3', '--warmup', '0', '--no-torch', '--machine', 'my-box', '--out', 'x.json']);
    expect(r).toMatchObject({ cases: [{ name: 'tiny', batch: 4 }], backends: ['cpu'], steps: 3, warmup: 0, noTorch: true, machine: 'my-box', out: 'x.json' });
    expectUsageError(() => parseTrainBenchArgs(['--configs', 'tiny@0']), '--configs tiny@0: tiny@0 is not <tiny|small|default|large>[@batch] (batch an integer >= 1)');
    expectUsageError(() => parseTrainBenchArgs(['--configs', 'huge']), '--configs huge: huge is not');
    expectUsageError(() => parseTrainBenchArgs(['--configs', 'tiny@2.5']), 'tiny@2.5 is not');
    expectUsageError(() => parseTrainBenchArgs(['--backends', 'cpu,metal']), '--backends cpu,metal: metal is not one of wasm, cpu, webgpu');
    expectUsageError(() => parseTrainBenchArgs(['--steps', '0']), '--steps 0: expected a positive integer');
    expectUsageError(() => parseTrainBenchArgs(['--warmup', '-1']), '--warmup -1: expected an integer >= 0');
    expectUsageError(() => parseTrainBenchArgs(['--machine', '../x']), "--machine ../x: expected a name of letters, digits, '.', '_' and '-'");
    // Where the PyTorch peer runs, and which Python runs it.
    expect(parseTrainBenchArgs(['--torch-device', 'cuda', '--python', '/opt/py/bin/python3'])).toMatchObject({ torchDevice: 'cuda', python: '/opt/py/bin/python3' });
    expect(parseTrainBenchArgs(['--torch-device', 'cpu']).torchDevice).toBe('cpu');
    expectUsageError(() => parseTrainBenchArgs(['--torch-device', 'gpu']), '--torch-device gpu: expected auto (cuda where PyTorch sees a CUDA device, else cpu), cpu or cuda');
    expectUsageError(() => parseTrainBenchArgs(['--python', ' ']), '--python has an empty value; give one, or leave the flag out');
    expectUsageError(() => parseTrainBenchArgs(['--no-torch', '--torch-device', 'cuda']), '--no-torch leaves the PyTorch peer out: --torch-device cuda would say nothing');
    expectUsageError(() => parseTrainBenchArgs(['--no-torch', '--python', 'python3']), '--no-torch leaves the PyTorch peer out: --python python3 would say nothing');
  });

  it('bench:accuracy: steps, seeds, variants, and a pose loss that starts before the last step', () => {
    expect(parseAccuracyBenchArgs([])).toEqual({
      dataset: undefined, config: 'small', steps: 2000, seeds: [1, 2], variants: ['heatmap', 'pose-kp', 'pose-mesh'], evalEvery: 250, poseAfter: 500,
      backend: 'auto', machine: undefined, out: undefined,
    });
    expect(parseAccuracyBenchArgs(['--steps', '10', '--pose-after', '9', '--seeds', '0,3', '--variants', 'pose-mesh', '--backend', 'cpu']))
      .toMatchObject({ steps: 10, poseAfter: 9, seeds: [0, 3], variants: ['pose-mesh'], evalEvery: 1, backend: 'cpu' });
    expectUsageError(() => parseAccuracyBenchArgs(['--seeds', 'abc']), '--seeds abc: abc is not an integer from 0 to 4294967295');
    expectUsageError(() => parseAccuracyBenchArgs(['--seeds', '1,4294967297']), '--seeds 1,4294967297: 4294967297 is not an integer from 0 to 4294967295');
    expectUsageError(() => parseAccuracyBenchArgs(['--seeds', '1,']), '--seeds 1,: an empty item');
    expectUsageError(() => parseAccuracyBenchArgs(['--steps', 'abc']), '--steps abc: expected a positive integer');
    expectUsageError(() => parseAccuracyBenchArgs(['--pose-after', '50', '--steps', '10']),
      '--pose-after 50: the pose loss would start after the run\'s last step (--steps 10); give fewer than --steps');
    expectUsageError(() => parseAccuracyBenchArgs(['--pose-after', '10', '--steps', '10']), '--pose-after 10:');
    expectUsageError(() => parseAccuracyBenchArgs(['--pose-after', '-1']), '--pose-after -1: expected an integer >= 0');
    expectUsageError(() => parseAccuracyBenchArgs(['--eval-every', '0']), '--eval-every 0: expected a positive integer');
    expectUsageError(() => parseAccuracyBenchArgs(['--variants', 'heatmap,pose']), '--variants heatmap,pose: pose is not one of heatmap, pose-kp, pose-mesh');
    expectUsageError(() => parseAccuracyBenchArgs(['--config', 'huge']), '--config huge: expected tiny, small, default, large');
    expectUsageError(() => parseAccuracyBenchArgs(['--backend', 'metal']), '--backend metal: expected auto');
  });

  it('bench:keypoints: a bundle, the split, noise levels in crop px, repeats', () => {
    expect(parseKeypointsBenchArgs(['--model', 'run/'])).toEqual({
      model: 'run/', dataset: undefined, split: 'test', sigmas: [0.5, 1, 1.5, 2, 3], repeats: 5, backend: 'auto', out: undefined,
    });
    expect(parseKeypointsBenchArgs(['--model', 'm.zip', '--split', 'train', '--sigmas', '0,0.25', '--repeats', '2']))
      .toMatchObject({ split: 'train', sigmas: [0, 0.25], repeats: 2 });
    expectUsageError(() => parseKeypointsBenchArgs([]), '--model is required');
    expectUsageError(() => parseKeypointsBenchArgs(['--model', 'm', '--split', 'val']), '--split val: expected test or train');
    expectUsageError(() => parseKeypointsBenchArgs(['--model', 'm', '--sigmas', '1,-2']), '--sigmas 1,-2: -2 is not a number >= 0');
    expectUsageError(() => parseKeypointsBenchArgs(['--model', 'm', '--sigmas', '1,']), '--sigmas 1,: an empty item');
    expectUsageError(() => parseKeypointsBenchArgs(['--model', 'm', '--repeats', '0']), '--repeats 0: expected a positive integer');
  });

  it('--out: a .json file (its folder made) or a folder for the default name, checked before the run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'poselab-bench-out-'));
    expect(benchOutPath(await prepareBenchOut(undefined), '/results', 'pnp-x.json')).toBe('/results/pnp-x.json');
    const file = join(dir, 'new', 'mine.json');
    expect(benchOutPath(await prepareBenchOut(file), '/results', 'pnp-x.json')).toBe(file);
    expect(existsSync(join(dir, 'new')), 'its folder made').toBe(true);
    // An existing folder, or a path with a trailing slash: the default name inside it.
    mkdirSync(join(dir, 'results'));
    expect(benchOutPath(await prepareBenchOut(join(dir, 'results')), '/results', 'pnp-x.json')).toBe(join(dir, 'results', 'pnp-x.json'));
    expect(benchOutPath(await prepareBenchOut(`${join(dir, 'fresh')}/`), '/results', 'pnp-x.json')).toBe(join(dir, 'fresh', 'pnp-x.json'));
    expect(existsSync(join(dir, 'fresh'))).toBe(true);
    // The name's form is the command line's mistake (with the usage); a place no file can be made is the input's.
    await expect(prepareBenchOut(join(dir, 'results.txt'))).rejects.toThrow(UsageError);
    await expect(prepareBenchOut(join(dir, 'results.txt'))).rejects.toThrow(`--out ${join(dir, 'results.txt')}: expected a .json file name, or a folder (an existing one, or a path ending in /)`);
    writeFileSync(join(dir, 'blocker'), 'a file');
    await expect(prepareBenchOut(join(dir, 'blocker', 'x.json'))).rejects.toThrow(InputError);
  });

  it('an existing --out is written over only when it holds that benchmark\'s results; bench:pnp refuses a problem file before any work', () => {
    const dir = mkdtempSync(join(tmpdir(), 'poselab-bench-own-'));
    const file = (name: string, text: string) => { writeFileSync(join(dir, name), text); return join(dir, name); };
    const isPnp = (j: Record<string, unknown>) => j.benchmark === 'pnp';
    expect(() => refuseForeignResults(join(dir, 'new.json'), 'pnp', isPnp)).not.toThrow();
    expect(() => refuseForeignResults(file('own.json', '{"benchmark": "pnp"}'), 'pnp', isPnp)).not.toThrow();
    for (const [name, text] of [['problems.json', '{"pts2d": []}'], ['list.json', '[1, 2]'], ['notes.json', 'not json'], ['train.json', '{"benchmark": "train"}']]) {
      const path = file(name, text);
      expect(() => refuseForeignResults(path, 'pnp', isPnp)).toThrow(`--out ${path}: exists and is not a bench:pnp results file, which this run writes; give another name`);
      expect(() => refuseForeignResults(path, 'pnp', isPnp)).toThrow(InputError);
    }
    const problems = file('p.json', '{"pts2d": [[[1, 2]]]}');
    const r = spawnSync('npx', ['tsx', '--import', './scripts/raw-loader.mjs', 'bench/pnp.ts', '--impls', 'float64', '--B', '1', '--n', '4', '--out', problems], { cwd: kRepo, encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toContain(`--out ${problems}: exists and is not a bench:pnp results file`);
    expect(r.stdout, 'nothing timed').not.toMatch(/fwd/);
    expect(readFileSync(problems, 'utf8')).toBe('{"pts2d": [[[1, 2]]]}');
    // bench:keypoints never writes into the bundle it reads, checked before the bundle is even opened.
    const kp = spawnSync('npx', ['tsx', '--import', './scripts/raw-loader.mjs', 'bench/keypoints.ts', '--model', dir, '--out', join(dir, 'poselab.json')], { cwd: kRepo, encoding: 'utf8', timeout: 120_000 });
    expect(kp.status, kp.stderr).toBe(2);
    expect(kp.stderr).toContain(`--out ${join(dir, 'poselab.json')}: is inside the bundle --model ${dir}, which this run reads; give a path outside it`);
  });

  it('each benchmark answers a bad value with exit 2 and its usage, before any work (--help: tests/cli/common.test.ts)', () => {
    // 'usage': the command line is wrong, and the usage follows; 'input': a well-formed one names what cannot be used.
    const cases: [string, string[], string, 'usage' | 'input'][] = [
      ['pnp', ['--n', '3'], '--n 3: 3 is not an integer >= 4', 'usage'],
      ['train', ['--steps', 'abc'], '--steps abc: expected a positive integer', 'usage'],
      // Checked before the run: a --python that cannot import torch (a program that exits 0 is not enough).
      ['train', ['--configs', 'tiny@4', '--backends', 'cpu', '--python', '/bin/true'], '--python /bin/true: cannot import torch (exit 0, no version printed)', 'input'],
      ['train', ['--configs', 'tiny@4', '--backends', 'cpu', '--python', '/no/such/python'], '--python /no/such/python: cannot import torch (spawnSync /no/such/python ENOENT)', 'input'],
      ['accuracy', ['--pose-after', '50', '--steps', '10'], '--pose-after 50: the pose loss would start after the run\'s last step', 'usage'],
    ];
    for (const [bench, bad, message, kind] of cases) {
      const run = (args: string[]) => spawnSync('npx', ['tsx', '--import', './scripts/raw-loader.mjs', `bench/${bench}.ts`, ...args], { cwd: kRepo, encoding: 'utf8', timeout: 120_000 });
      const b = run(bad);
      expect(b.status, `${bench}: ${b.stderr}`).toBe(2);
      expect(b.stderr).toContain(message);
      expect({ bad, usage: new RegExp(`\\nusage: npm run bench:${bench} -- `).test(b.stderr) }).toEqual({ bad, usage: kind === 'usage' });
      expect(b.stderr, 'no stack trace').not.toMatch(/\n\s+at /);
    }
    // --impls wgsl where Dawn finds no adapter (a Vulkan loader pointed at no driver): an input error, the CPU rows named.
    const noGpu = spawnSync('npx', ['tsx', '--import', './scripts/raw-loader.mjs', 'bench/pnp.ts', '--impls', 'wgsl', '--B', '4', '--n', '8', '--out', join(mkdtempSync(join(tmpdir(), 'poselab-bench-')), 'r.json')],
      { cwd: kRepo, encoding: 'utf8', timeout: 120_000, env: { ...process.env, VK_ICD_FILENAMES: '/nonexistent/icd.json' } });
    expect(noGpu.status, noGpu.stderr).toBe(2);
    expect(noGpu.stderr).toMatch(/\n--impls wgsl: wgsl needs WebGPU: WebGPU: no adapter found .*\(leave wgsl out to run the CPU rows\)\n$/);
    expect(noGpu.stderr).not.toMatch(/usage: npm run/);
  });
});
