/**
 * `npm run bench:train [-- --configs tiny@32,small@8,small,default,large] [--backends wasm,cpu,webgpu] [--steps N]
 *                       [--warmup N] [--machine name] [--all] [--no-torch] [--torch-device auto|cpu|cuda] [--python <path>]
 *                       [--out <file.json|folder/>]`
 *
 * Training throughput per config and backend, against PyTorch in the same run:
 * - the engine's whole step (data, network, heatmap and keypoint losses, the pose loss through bpnp,
 *   Adam): images/s and the share of a step spent in the PnP layer;
 * - the network alone (forward, a heatmap MSE, backward, Adam) beside the same network in PyTorch
 *   (bench/train_torch.py with Debian's python3-torch, installed here when missing and run as root, or the
 *   Python --python names; same layers, batch, input size and Adam, as many threads as cores), and their
 *   ratio. --torch-device says where PyTorch runs: auto (the default) is cuda where torch.cuda.is_available(),
 *   else cpu, so on a machine with a GPU the peer of tfjs's webgpu backend is PyTorch on that GPU, and here,
 *   without one, the CPU as before; each row records the device its peer ran on.
 * The PnP share (bpnp forward + implicit backward + the reprojection loss, timed between syncs by the
 * engine's 'split' timing; the aim is < 5% at batch 32). Synthetic crops (seeded noise, a 100 mm cube
 * at LINEMOD-like distances), so only compute is measured; the pose loss is on from the first step.
 * The first --warmup steps (shader compilation, allocation) are left out. 'name@B' runs a config at
 * batch B (tiny@32: the PnP layer at batch 32 beside the smallest network). Results merge into
 * bench/results/train-<machine>.json (or --out: a .json file, or a folder to write that name in),
 * replacing rows of the same config, batch and backend, so slow cases can be run apart. Arguments are
 * checked before the run (bench/args.ts): exit 2 naming the flag.
 *
 * Without --all, cases that say nothing but take very long are skipped: on a software WebGPU adapter
 * (SwiftShader) everything but tiny; on the cpu backend (plain JavaScript convolutions) everything
 * above small.
 */
import * as tf from '@tensorflow/tfjs';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { boxCorners } from '../src/data/mesh';
import { hashSeed, Rng } from '../src/data/rng';
import { so3Exp } from '../src/solver/so3';
import { useBackend } from '../src/node/backend';
import { adapterName } from '../src/node/webgpu';
import { InputError, prepareOutputFile, runMain, UsageError } from '../src/cli/args';
import { makeConfig, type ConfigName, type TrainConfig } from '../src/train/config';
import type { TrainingData, TrainingSample } from '../src/train/trainingData';
import { TrainingEngine } from '../src/train/engine';
import type { LocaliserSteps } from '../src/train/localiser';
import { placeLocaliser } from '../src/node/localiserThread';
import { buildModel, parameterCount, runModel, trainableVariables } from '../src/train/model';
import { Adam } from '../src/ops/adam';
import { benchOutPath, kTrainBenchUsage, parseTrainBenchArgs, prepareBenchOut, refuseForeignResults, type TorchDevice } from './args';
import { deviceSlug } from './device';

const here = dirname(fileURLToPath(import.meta.url));

/** A cube of side 100 mm; keypoints on its surface (seeded), the centre last; poses 400-900 mm away. */
function syntheticData(cfg: TrainConfig): TrainingData {
  const S = cfg.model.inputPx;
  const k = cfg.data.keypoints;
  const rng = new Rng(hashSeed(cfg.seed, 0xbe4c));
  const kp = new Float64Array(3 * (k + 1));
  for (let i = 0; i < k; i++) {
    const face = rng.int(3);
    for (let a = 0; a < 3; a++) kp[3 * i + a] = a === face ? (rng.next() < 0.5 ? -50 : 50) : rng.uniform(-50, 50);
  }
  const corners = boxCorners({ min: [-50, -50, -50], max: [50, 50, 50] });
  const sample = (item: number, index: number, seed: number): TrainingSample => {
    const r = new Rng(hashSeed(seed, index, item));
    const image = new Float32Array(S * S * 3);
    for (let i = 0; i < image.length; i++) image[i] = r.next();
    const z = r.uniform(400, 900);
    // focal length so the cube spans about half the crop
    const f = (0.5 * S * z) / 170;
    return {
      image,
      kCrop: Float64Array.from([f, 0, (S - 1) / 2, 0, f, (S - 1) / 2, 0, 0, 1]),
      rM2c: so3Exp(new Float64Array(9), [r.uniform(-1, 1), r.uniform(-1, 1), r.uniform(-1, 1)]),
      tM2cMm: Float64Array.from([r.uniform(-10, 10), r.uniform(-10, 10), z]),
    };
  };
  return {
    object: { id: 1, name: 'cube', diameterMm: 100 * Math.sqrt(3), symmetric: false, keypointsMm: kp, pointsMm: corners, outlineMm: corners },
    trainCount: 256,
    testCount: 0,
    train: async (item, index, seed) => sample(item, index, seed),
    // The localiser's views: seeded noise with a box, so only its compute is measured.
    trainView: async (item, index, seed) => {
      const L = cfg.localiser.model.inputPx;
      const r = new Rng(hashSeed(seed, index, item, 0x71e3));
      const image = new Float32Array(L * L * 3);
      for (let i = 0; i < image.length; i++) image[i] = r.next();
      const w = r.uniform(0.1, 0.4) * L;
      return { image, window: { cxPx: (L - 1) / 2, cyPx: (L - 1) / 2, sidePx: L, outPx: L }, boxViewPx: Float64Array.from([r.uniform(0, L - w), r.uniform(0, L - w), w, w]) };
    },
    testView: async () => { throw new Error('bench: no test split'); },
    test: async () => { throw new Error('bench: no test split'); },
  };
}

interface Row {
  config: ConfigName;
  backend: string;
  batch: number;
  inputPx: number;
  parameters: number;
  measuredSteps: number;
  warmupSteps: number;
  imagesPerSec: number;
  stepMs: number;
  /** Where the localiser's steps ran in stepMs: as `npm run train` places it (a second thread on a CPU backend with 2+ cores). */
  localiser: 'second thread' | 'same thread';
  /** On a CPU backend: the step with the localiser on the same thread, this run (null elsewhere). */
  stepMsLocaliserSameThread: number | null;
  netMs: number;
  pnpMs: number;
  /** pnpMs / stepMs */
  pnpShare: number;
  pnpFailuresPerStep: number;
  /** The network alone: forward, heatmap MSE, backward, Adam. */
  netOnlyImagesPerSec: number;
  /** The same network and step in PyTorch, this run (null where PyTorch could not run). */
  torchImagesPerSec: number | null;
  /** Where that PyTorch step ran: 'cpu', or 'cuda (<device name>; cuDNN TF32 on|off)' (null where PyTorch could not run). */
  torchDevice: string | null;
  /** netOnlyImagesPerSec / torchImagesPerSec */
  vsTorch: number | null;
}

interface TorchResult { torch: string; device: string; threads: number; parameters: number; stepMs: number; imagesPerSec: number }
const kDebianPython = '/usr/bin/python3';

/**
 * PyTorch importable by `python`, else the reason it is not. Debian's python3 is given python3-torch when
 * missing (as root); a Python named with --python that cannot import torch, or --torch-device cuda where
 * PyTorch sees no CUDA device, is an input error before the run (the peer asked for would not be measured).
 */
function ensureTorch(python: string | undefined, device: TorchDevice): string | null {
  const exe = python ?? kDebianPython;
  // What is printed, not the exit status alone: a program that is not a Python can exit 0 too.
  const probe = () => spawnSync(exe, ['-c', 'import torch; print(torch.__version__, torch.version.cuda, torch.cuda.is_available())'], { encoding: 'utf8' });
  const imports = (r: ReturnType<typeof probe>) => r.status === 0 && r.stdout.trim() !== '';
  let p = probe();
  if (!imports(p) && python !== undefined) {
    const why = p.error?.message ?? (p.stderr.trim().split('\n').pop() || `exit ${p.status}, no version printed`);
    throw new InputError(`--python ${python}: cannot import torch (${why})`);
  }
  if (!imports(p)) {
    if (process.getuid?.() !== 0) return `python3-torch is not installed (as root: apt-get install -y python3-torch)`;
    process.stderr.write('installing python3-torch from Debian\'s packages\n');
    const r = spawnSync('bash', ['-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-torch'], { stdio: 'inherit' });
    p = probe();
    if (r.status !== 0 || !imports(p)) return 'apt-get install python3-torch failed';
  }
  if (device === 'cuda') {
    const [version, built, available] = p.stdout.trim().split(' ');
    if (available !== 'True') {
      throw new InputError(`--torch-device cuda: PyTorch ${version ?? '?'} at ${exe} sees no CUDA device (torch.cuda.is_available() is ${available ?? '?'}; built for CUDA ${built ?? '?'})`);
    }
  }
  return null;
}

function torchPeer(python: string, device: TorchDevice, cfg: TrainConfig, heatmaps: number, steps: number, warmup: number): TorchResult {
  const script = join(here, 'train_torch.py');
  const args = [script, JSON.stringify(cfg.model), String(heatmaps), String(cfg.optim.batchSize), String(Math.max(steps, 5)), String(Math.max(warmup, 2)), String(cpus().length), device];
  const r = spawnSync(python, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`bench/train_torch.py failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as TorchResult;
}

/** The network-only step of bench/train_torch.py, in PoseLab: forward, heatmap MSE (+ mean confidence), backward, Adam. */
async function netOnlyImagesPerSec(cfg: TrainConfig, heatmaps: number, steps: number, warmup: number): Promise<number> {
  const model = buildModel(cfg.model, heatmaps, cfg.seed);
  const vars = trainableVariables(model);
  const adam = new Adam(vars, cfg.optim);
  const S = cfg.model.inputPx;
  const B = cfg.optim.batchSize;
  const x = tf.randomNormal([B, S, S, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
  const target = tf.randomUniform([B, S / 4, S / 4, heatmaps], 0, 1, 'float32', 2);
  const times: number[] = [];
  for (let i = 0; i < warmup + Math.max(steps, 5); i++) {
    const t0 = performance.now();
    const grads = tf.tidy(() => {
      const { grads: g } = tf.variableGrads(() => {
        const out = runModel(model, x);
        const mse = tf.mean(tf.squaredDifference(out.logits, target));
        return (out.confidence ? tf.add(mse, tf.mean(out.confidence)) : mse) as tf.Scalar;
      }, vars);
      return vars.map((v) => g[v.name]);
    });
    const norm = adam.apply(grads, cfg.optim.lr);
    await norm.data();
    tf.dispose([norm, ...grads]);
    if (i >= warmup) times.push(performance.now() - t0);
  }
  tf.dispose([x, target]);
  adam.dispose();
  model.dispose();
  return (1000 * B) / (times.reduce((a, b) => a + b, 0) / times.length);
}

async function benchOne(name: ConfigName, backend: string, steps: number, warmup: number, batch: number | undefined,
  torch: (cfg: TrainConfig, heatmaps: number) => TorchResult | null): Promise<Row> {
  const cfg = makeConfig(name, {
    loss: { warmupSteps: 0, betaRampSteps: 0 },
    optim: { steps: steps + warmup, ...(batch ? { batchSize: batch } : {}) },
    evalEvery: 0,
    checkpointEvery: 0,
  });
  const cpu = backend === 'wasm' || backend === 'cpu';
  const placed = await placeLocaliser(backend, cfg.localiser, cfg.optim);
  const threaded = placed.steps !== undefined;
  if (cpu && !threaded) process.stderr.write(`  ${placed.where}\n`);
  const run = async (localiserSteps?: LocaliserSteps) => {
    const engine = new TrainingEngine(syntheticData(cfg), cfg, { finalEval: false, timePnpEvery: 1, localiserSteps });
    const rows: { stepMs: number; netMs: number; pnpMs: number; fails: number }[] = [];
    const where = localiserSteps ? 'localiser on a second thread' : 'localiser on the same thread';
    engine.on((e) => {
      if (e.type !== 'step') return;
      process.stderr.write(`  ${name}/${backend} step ${e.step}/${e.totalSteps}, ${where}: ${e.stepMs.toFixed(0)} ms (pnp ${e.pnpMs.toFixed(1)} ms)\n`);
      if (e.step > warmup) rows.push({ stepMs: e.stepMs, netMs: e.netMs, pnpMs: e.pnpMs, fails: e.pnpFailures });
    });
    await engine.start();
    const parameters = parameterCount(engine.model);
    engine.dispose();
    const mean = (f: (r: (typeof rows)[number]) => number) => rows.reduce((s, r) => s + f(r), 0) / rows.length;
    return { rows, mean, parameters };
  };
  const { rows, mean, parameters } = await run(placed.steps);
  const sameThread = threaded ? (await run()).mean((r) => r.stepMs) : null;
  const stepMs = mean((r) => r.stepMs);
  const pnpMs = mean((r) => r.pnpMs);
  const heatmaps = cfg.data.keypoints + 1;
  const netOnly = await netOnlyImagesPerSec(cfg, heatmaps, steps, warmup);
  const peer = torch(cfg, heatmaps);
  return {
    config: name, backend, batch: cfg.optim.batchSize, inputPx: cfg.model.inputPx, parameters, measuredSteps: rows.length, warmupSteps: warmup,
    imagesPerSec: (1000 * cfg.optim.batchSize) / stepMs, stepMs, localiser: threaded ? 'second thread' : 'same thread',
    stepMsLocaliserSameThread: sameThread ?? (cpu ? stepMs : null), netMs: mean((r) => r.netMs), pnpMs, pnpShare: pnpMs / stepMs,
    pnpFailuresPerStep: mean((r) => r.fails),
    netOnlyImagesPerSec: netOnly, torchImagesPerSec: peer?.imagesPerSec ?? null, torchDevice: peer?.device ?? null,
    vsTorch: peer ? netOnly / peer.imagesPerSec : null,
  };
}

/** The earlier results in the file this run merges into, if it exists; a file that is not one is an input error, not overwritten. */
function earlierResults(path: string): { results?: Row[]; webgpuAdapter?: string } | undefined {
  refuseForeignResults(path, 'train', (j) => j.benchmark === 'train');
  return existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) as { results?: Row[]; webgpuAdapter?: string } : undefined;
}

async function main(argv: string[]): Promise<number> {
  const values = parseTrainBenchArgs(argv);
  const { cases, backends, steps, warmup } = values;
  // Where the results go is settled before the run: a bad --out is an input error, not a lost benchmark.
  const outTo = await prepareBenchOut(values.out);
  // The file is known now when named, or when --machine names it inside a folder (else the adapter found names it).
  if (outTo.file || values.machine !== undefined) earlierResults(benchOutPath(outTo, join(here, 'results'), `train-${values.machine}.json`));
  const results: Row[] = [];
  const skipped: string[] = [];
  let adapter = 'none';
  // PyTorch once per (config, batch): the same peer for every backend's row.
  const torchWhy = values.noTorch ? '--no-torch' : ensureTorch(values.python, values.torchDevice);
  if (torchWhy) skipped.push(`PyTorch peer: ${torchWhy}`);
  const torchRuns = new Map<string, TorchResult>();
  const torch = (cfg: TrainConfig, heatmaps: number): TorchResult | null => {
    if (torchWhy) return null;
    const key = JSON.stringify([cfg.model, heatmaps, cfg.optim.batchSize]);
    if (!torchRuns.has(key)) torchRuns.set(key, torchPeer(values.python ?? kDebianPython, values.torchDevice, cfg, heatmaps, steps, warmup));
    return torchRuns.get(key)!;
  };
  for (const backend of backends) {
    try {
      await useBackend(backend);
      if (backend === 'webgpu') adapter = await adapterName();
    } catch (e) {
      // Only WebGPU may be missing here: a CPU backend that cannot start stops the benchmark.
      if (backend !== 'webgpu') throw e;
      skipped.push(`webgpu: ${e instanceof Error ? e.message : String(e)}`);
      continue;
    }
    const software = backend === 'webgpu' && /swiftshader/i.test(adapter);
    for (const { name, batch } of cases) {
      const label = `${name}${batch ? `@${batch}` : ''}/${backend}`;
      if (software && name !== 'tiny' && !values.all) {
        skipped.push(`${label}: software adapter (${adapter}); --all to run anyway`);
        continue;
      }
      if (((backend === 'cpu' && name !== 'tiny' && name !== 'small') || (backend === 'wasm' && name === 'large')) && !values.all) {
        skipped.push(`${label}: too long per step on this path; --all to run anyway`);
        continue;
      }
      process.stderr.write(`${label}\n`);
      results.push(await benchOne(name, backend, steps, warmup, batch, torch));
    }
  }
  const machine = values.machine ?? deviceSlug(adapter);
  const report = {
    benchmark: 'train',
    machine,
    date: new Date().toISOString(),
    cpu: `${cpus()[0]?.model ?? 'unknown'} x ${cpus().length}`,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    webgpuAdapter: adapter,
    node: process.version,
    tfjs: tf.version.tfjs,
    torch: [...torchRuns.values()][0]?.torch ?? null,
    torchDevice: values.noTorch ? null : values.torchDevice,
    note: 'imagesPerSec: the engine step with the pose loss, the localiser where npm run train puts it (localiser; stepMsLocaliserSameThread: the step with it on the same thread, this run); pnpShare: bpnp forward + backward + pose loss over that step (split timing, syncs on both sides); ' +
      'netOnlyImagesPerSec vs torchImagesPerSec: the network alone (forward, heatmap MSE, backward, Adam) in PoseLab and in PyTorch on this machine, this run, ' +
      'PyTorch on the device its row names (torchDevice: cpu, or cuda with the GPU\'s name; --torch-device auto picks cuda where PyTorch sees one); warm-up steps left out',
    results,
    skipped,
  };
  const out = benchOutPath(outTo, join(here, 'results'), `train-${machine}.json`);
  await prepareOutputFile(out, '--out');
  const old = earlierResults(out);
  if (old) {
    // Merge: keep earlier rows this run did not measure again (and the adapter they name).
    const key = (r: Row) => `${r.config}@${r.batch}/${r.backend}`;
    const fresh = new Set(results.map(key));
    results.unshift(...(old.results ?? []).filter((r) => !fresh.has(key(r))));
    if (adapter === 'none' && old.webgpuAdapter) report.webgpuAdapter = old.webgpuAdapter;
  }
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  console.log('config   backend  batch  input  params   step img/s  step ms  localiser      1-thread ms  pnp share   net img/s  torch img/s  net/torch  torch on');
  for (const r of results) {
    console.log(`${r.config.padEnd(8)} ${r.backend.padEnd(8)} ${String(r.batch).padStart(5)} ${String(r.inputPx).padStart(6)} ${String(r.parameters).padStart(7)} ` +
      `${r.imagesPerSec.toPrecision(3).padStart(11)} ${r.stepMs.toFixed(0).padStart(8)}  ${(r.localiser ?? 'same thread').padEnd(13)} ` +
      `${r.stepMsLocaliserSameThread == null ? '          -' : r.stepMsLocaliserSameThread.toFixed(0).padStart(11)} ${(100 * r.pnpShare).toFixed(1).padStart(9)}% ` +
      `${(r.netOnlyImagesPerSec ?? NaN).toPrecision(3).padStart(11)} ${r.torchImagesPerSec === null || r.torchImagesPerSec === undefined ? '          -' : r.torchImagesPerSec.toPrecision(3).padStart(12)} ` +
      `${r.vsTorch === null || r.vsTorch === undefined ? '        -' : r.vsTorch.toFixed(2).padStart(10)}  ${r.torchDevice ?? '-'}`);
  }
  for (const s of skipped) console.log(`skipped ${s}`);
  console.log(`wrote ${out}`);
  return 0;
}

runMain(() => main(process.argv.slice(2)), kTrainBenchUsage);
