/**
 * The benchmarks' command lines, in the one style of src/cli (src/cli/args.ts): usage, --help (exit 0),
 * exit 2 naming the flag and value, every argument checked before any work. Kept apart from the
 * benchmarks themselves so that the tests check them without running one.
 *
 * --out of every benchmark: a .json file name, or a folder (an existing one, or a path ending in '/') in
 * which the benchmark writes its default file name; checked, and its folder made, before the run; an
 * existing file is written over only when it holds that benchmark's own results.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  InputError, kMaxSeed, parseChoiceList, parseFlags, parseInteger, parseIntegerList, parsePositiveInt, prepareFileOrFolder, UsageError,
} from '../src/cli/args';
import { parseBackend } from '../src/cli/common';
import { decimal } from '../src/data/decimal';
import type { BackendName } from '../src/node/backend';
import { isConfigName, kConfigs, type ConfigName } from '../src/train/config';

const kConfigNames = Object.keys(kConfigs) as ConfigName[];

export const kPnpBenchUsage = 'usage: npm run bench:pnp -- [--quick] [--B 1,64,1024] [--n 8,64] [--impls wgsl,op-cpu,float64,opencv,opencv-sqpnp] [--out <file.json|folder/>]\n' +
  '  --quick  B in 1, 64, 1024 and shorter timings; --B: batch sizes, integers >= 1; --n: points per problem, integers >= 4\n' +
  '  --impls  the implementations timed (default all; at large B the CPU ones take minutes a call)\n' +
  '  --out    default bench/results/pnp-<device>[-quick][-B<B>-n<n>][-<impls>].json (the sizes when --B or --n is given, the implementations when --impls is); ' +
  'a folder gets that name inside it';

export const kTrainBenchUsage = 'usage: npm run bench:train -- [--configs tiny@32,small@8,small,default,large] [--backends wasm,cpu,webgpu] ' +
  '[--steps N] [--warmup N] [--machine name] [--all] [--no-torch] [--torch-device auto|cpu|cuda] [--python <path>] [--out <file.json|folder/>]\n' +
  '  --configs  <tiny|small|default|large>[@batch]; --steps: measured steps >= 1 (5); --warmup: steps left out >= 0 (2)\n' +
  '  --torch-device  where the PyTorch peer runs: auto (cuda where torch.cuda.is_available(), else cpu), cpu or cuda\n' +
  '  --python   the Python that runs it (default /usr/bin/python3, Debian\'s, given python3-torch when missing)\n' +
  '  --out      default bench/results/train-<machine>.json (rows of the same config, batch and backend replaced); a folder gets that name inside it';

export const kAccuracyBenchUsage = 'usage: npm run bench:accuracy -- [--dataset <folder|zip>] [--config tiny|small|default|large] [--steps N] ' +
  '[--seeds 1,2] [--variants heatmap,pose-kp,pose-mesh] [--eval-every K] [--pose-after S] [--backend auto|webgpu|wasm|cpu] ' +
  '[--machine name] [--out <file.json|folder/>]\n' +
  '  --steps >= 1 (2000); --seeds: integers >= 0; --eval-every >= 1 (steps / 8); --pose-after: 0 to steps - 1 (steps / 4)\n' +
  '  --out   default bench/results/accuracy-<machine>.json, the plot beside it as .svg; a folder gets those names inside it';

export const kKeypointsBenchUsage = 'usage: npm run bench:keypoints -- --model <bundle> [--dataset <folder|zip>] [--split test|train] ' +
  '[--sigmas 0.5,1,1.5,2,3] [--repeats 5] [--backend auto|webgpu|wasm|cpu] [--out <file.json|folder/>]\n' +
  '  --sigmas  crop px per coordinate, numbers >= 0; --repeats: noise draws per sigma, integer >= 1\n' +
  '  --out     default bench/results/keypoints-<bundle folder name>-<split>.json; a folder gets that name inside it';

export interface KeypointsBenchArgs {
  model: string;
  dataset?: string;
  split: 'test' | 'train';
  sigmas: number[];
  repeats: number;
  backend: BackendName;
  out?: string;
}

export function parseKeypointsBenchArgs(argv: readonly string[]): KeypointsBenchArgs {
  const v = parseFlags(argv, {
    model: { type: 'string' }, dataset: { type: 'string' }, split: { type: 'string' }, sigmas: { type: 'string' }, repeats: { type: 'string' },
    backend: { type: 'string' }, out: { type: 'string' },
  });
  if (v.model === undefined) throw new UsageError('--model is required');
  const split = v.split ?? 'test';
  if (split !== 'test' && split !== 'train') throw new UsageError(`--split ${split}: expected test or train`);
  const sigmas = (v.sigmas ?? '0.5,1,1.5,2,3').split(',').map((x) => {
    const n = decimal(x);
    if (x.trim() === '' || !Number.isFinite(n) || n < 0) throw new UsageError(`--sigmas ${v.sigmas}: ${x.trim() === '' ? 'an empty item' : `${x} is not a number >= 0`}; expected crop px, a comma list of numbers >= 0`);
    return n;
  });
  return { model: v.model, dataset: v.dataset, split, sigmas, repeats: parsePositiveInt('repeats', v.repeats) ?? 5, backend: parseBackend(v.backend), out: v.out };
}

/** Where a benchmark writes: `file` as given, or its default name in `folder` (the results folder by default). */
export interface BenchOut { file?: string; folder?: string }

/** --out's path once the default file name is known. */
export function benchOutPath(out: BenchOut, resultsDir: string, defaultName: string): string {
  return out.file ?? join(out.folder ?? resultsDir, defaultName);
}

/** Checks --out before the run: a .json name (its folder made) or a folder (made, found writable); another name is a usage error, an unwritable place an input error. */
export async function prepareBenchOut(out: string | undefined): Promise<BenchOut> {
  return out === undefined ? {} : prepareFileOrFolder(out, '--out', '.json');
}

/**
 * Refuses to write a benchmark's results over a file that is not that benchmark's own results (a problem
 * file, another benchmark's results): `isOwn` recognises the parsed JSON; a missing file is fine. Call it
 * before the run, once the file's name is known.
 */
export function refuseForeignResults(path: string, benchmark: string, isOwn: (json: Record<string, unknown>) => boolean): void {
  if (!existsSync(path)) return;
  let old: unknown;
  try {
    old = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    old = undefined;
  }
  if (typeof old === 'object' && old !== null && !Array.isArray(old) && isOwn(old as Record<string, unknown>)) return;
  throw new InputError(`--out ${path}: exists and is not a bench:${benchmark} results file, which this run writes; give another name`);
}

/** --machine names the results file: a word of letters, digits, '.', '_' and '-'. */
function parseMachine(s: string | undefined): string | undefined {
  if (s !== undefined && !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(s)) throw new UsageError(`--machine ${s}: expected a name of letters, digits, '.', '_' and '-' (it names the results file)`);
  return s;
}

/** bench:pnp's implementations, in the order each configuration times them. */
export type PnpImpl = 'op-cpu' | 'float64' | 'opencv' | 'opencv-sqpnp' | 'wgsl';
export const kPnpImpls: readonly PnpImpl[] = ['op-cpu', 'float64', 'opencv', 'opencv-sqpnp', 'wgsl'];

export interface PnpBenchArgs {
  quick: boolean; batches: number[]; points: number[]; out?: string;
  /** The implementations timed, in kPnpImpls' order (all by default). */
  impls: PnpImpl[];
  /** The default file name's suffix: `-B<B>-n<n>` when --B or --n chose the sizes, then `-<impls>` when --impls chose them; else ''. */
  sizes: string;
}

export function parsePnpBenchArgs(argv: readonly string[]): PnpBenchArgs {
  const v = parseFlags(argv, { quick: { type: 'boolean' }, B: { type: 'string' }, n: { type: 'string' }, impls: { type: 'string' }, out: { type: 'string' } });
  const quick = v.quick ?? false;
  const chosen = parseChoiceList('impls', v.impls, kPnpImpls);
  const twice = chosen?.find((x, i) => chosen.indexOf(x) !== i);
  if (twice !== undefined) throw new UsageError(`--impls ${v.impls}: ${twice} is given twice; give each once`);
  const impls = kPnpImpls.filter((x) => chosen === undefined || chosen.includes(x));
  const batches = parseIntegerList('B', v.B, 1) ?? (quick ? [1, 64, 1024] : [1, 64, 1024, 16384]);
  const points = parseIntegerList('n', v.n, 4, ' (PnP needs at least 4 points)') ?? [8, 64];
  const most = Math.max(...batches) * Math.max(...points);
  if (most > kPnpBenchMaxPoints) {
    throw new UsageError(`--B ${batches.join(',')} with --n ${points.join(',')}: ${most.toLocaleString('en-US')} points in one configuration; ` +
      `at most ${kPnpBenchMaxPoints.toLocaleString('en-US')} (B x n: every implementation holds its problems in memory)`);
  }
  // A run of chosen sizes is named by them, so that it does not overwrite the full run's file.
  // A run of some implementations is named by them too, so that it does not overwrite a run of all of them.
  const sizes = (v.B !== undefined || v.n !== undefined ? `-B${batches.join('_')}-n${points.join('_')}` : '') + (chosen ? `-${impls.join('_')}` : '');
  return { quick, batches, points, impls, out: v.out, sizes };
}

/** The most points (B x n) one bench:pnp configuration may have: 1.6 GB of float64 image points alone. */
export const kPnpBenchMaxPoints = 100_000_000;

/** Where bench:train's PyTorch peer runs: auto is cuda where torch.cuda.is_available(), else cpu (decided by bench/train_torch.py). */
export type TorchDevice = 'auto' | 'cpu' | 'cuda';
export const kTorchDevices: readonly TorchDevice[] = ['auto', 'cpu', 'cuda'];
const isTorchDevice = (s: string): s is TorchDevice => (kTorchDevices as readonly string[]).includes(s);

export interface TrainBenchArgs {
  cases: { name: ConfigName; batch?: number }[];
  backends: ('wasm' | 'cpu' | 'webgpu')[];
  steps: number;
  warmup: number;
  machine?: string;
  all: boolean;
  noTorch: boolean;
  torchDevice: TorchDevice;
  /** The Python that runs bench/train_torch.py: given, or undefined for Debian's /usr/bin/python3. */
  python?: string;
  out?: string;
}

export function parseTrainBenchArgs(argv: readonly string[]): TrainBenchArgs {
  const v = parseFlags(argv, {
    configs: { type: 'string' }, backends: { type: 'string' }, steps: { type: 'string' }, warmup: { type: 'string' }, machine: { type: 'string' },
    all: { type: 'boolean' }, 'no-torch': { type: 'boolean' }, 'torch-device': { type: 'string' }, python: { type: 'string' }, out: { type: 'string' },
  });
  const torchDevice = v['torch-device'] ?? 'auto';
  if (!isTorchDevice(torchDevice)) {
    throw new UsageError(`--torch-device ${torchDevice}: expected auto (cuda where PyTorch sees a CUDA device, else cpu), cpu or cuda`);
  }
  if (v['no-torch'] && (v['torch-device'] !== undefined || v.python !== undefined)) {
    throw new UsageError(`--no-torch leaves the PyTorch peer out: --${v['torch-device'] !== undefined ? `torch-device ${v['torch-device']}` : `python ${v.python}`} would say nothing`);
  }
  const configs = v.configs ?? 'tiny@32,small@8,small,default,large';
  const cases = configs.split(',').map((c) => {
    const [name, b, extra] = c.split('@');
    const batch = b === undefined ? undefined : Number(b);
    if (!isConfigName(name) || extra !== undefined || (batch !== undefined && !(Number.isInteger(batch) && batch >= 1))) {
      throw new UsageError(`--configs ${configs}: ${c || 'an empty item'} is not <${kConfigNames.join('|')}>[@batch] (batch an integer >= 1)`);
    }
    return { name, batch };
  });
  return {
    cases,
    backends: parseChoiceList('backends', v.backends, ['wasm', 'cpu', 'webgpu'] as const) ?? ['wasm', 'cpu', 'webgpu'],
    steps: parsePositiveInt('steps', v.steps) ?? 5,
    warmup: parseInteger('warmup', v.warmup, 0) ?? 2,
    machine: parseMachine(v.machine),
    all: v.all ?? false,
    noTorch: v['no-torch'] ?? false,
    torchDevice,
    python: v.python,
    out: v.out,
  };
}

export type Variant = 'heatmap' | 'pose-kp' | 'pose-mesh';
export const kVariants: readonly Variant[] = ['heatmap', 'pose-kp', 'pose-mesh'];

export interface AccuracyBenchArgs {
  dataset?: string;
  config: ConfigName;
  steps: number;
  seeds: number[];
  variants: Variant[];
  evalEvery: number;
  poseAfter: number;
  backend: BackendName;
  machine?: string;
  out?: string;
}

export function parseAccuracyBenchArgs(argv: readonly string[]): AccuracyBenchArgs {
  const v = parseFlags(argv, {
    dataset: { type: 'string' }, config: { type: 'string' }, steps: { type: 'string' }, seeds: { type: 'string' }, variants: { type: 'string' },
    'eval-every': { type: 'string' }, 'pose-after': { type: 'string' }, backend: { type: 'string' }, machine: { type: 'string' }, out: { type: 'string' },
  });
  const config = v.config ?? 'small';
  if (!isConfigName(config)) throw new UsageError(`--config ${config}: expected ${kConfigNames.join(', ')}`);
  const steps = parsePositiveInt('steps', v.steps) ?? 2000;
  const poseAfter = parseInteger('pose-after', v['pose-after'], 0) ?? Math.round(steps / 4);
  // The pose loss starts after poseAfter steps: at or past the last step it would never be used.
  if (poseAfter >= steps) {
    throw new UsageError(`--pose-after ${poseAfter}: the pose loss would start after the run's last step (--steps ${steps}); give fewer than --steps`);
  }
  return {
    dataset: v.dataset,
    config,
    steps,
    seeds: parseIntegerList('seeds', v.seeds, 0, '', kMaxSeed) ?? [1, 2],
    variants: parseChoiceList('variants', v.variants, kVariants) ?? [...kVariants],
    evalEvery: parsePositiveInt('eval-every', v['eval-every']) ?? Math.max(1, Math.round(steps / 8)),
    poseAfter,
    backend: parseBackend(v.backend),
    machine: parseMachine(v.machine),
    out: v.out,
  };
}
