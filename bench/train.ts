/**
 * `npm run bench:train [-- --configs tiny,tiny@32,default,large] [--backends cpu,webgpu] [--steps N] [--warmup N]
 *                       [--machine name] [--all]`
 *
 * Training throughput of the engine per config and backend: images/s and the share of a step spent in
 * the PnP layer (bpnp forward + implicit backward + the reprojection loss, timed between syncs by the
 * engine's 'split' timing; the aim is < 5% at batch 32). Synthetic crops (seeded noise, a 100 mm cube
 * at LINEMOD-like distances), so only compute is measured; the pose loss is on from the first step.
 * The first --warmup steps (shader compilation, allocation) are left out. 'name@B' runs a config at
 * batch B (tiny@32: the PnP layer at batch 32 beside the smallest network). Results merge into
 * bench/results/train-<machine>.json, replacing rows of the same config, batch and backend, so slow
 * cases can be run apart.
 *
 * Without --all, cases that say nothing but take very long are skipped: on a software WebGPU adapter
 * (SwiftShader) everything but tiny; on the cpu backend 'large' (tfjs's cpu convolutions are plain
 * JavaScript: 'default' already takes minutes per step on two cores).
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { boxCorners } from '../src/data/mesh';
import { hashSeed, Rng } from '../src/data/rng';
import { adapterName, useNodeWebgpu } from '../src/node/webgpu';
import { rotationFromAxisAngle } from '../src/train/metrics';
import { isConfigName, makeConfig, type ConfigName, type TrainConfig } from '../src/train/config';
import type { TrainingData, TrainingSample } from '../src/train/data';
import { TrainingEngine } from '../src/train/engine';
import { parameterCount } from '../src/train/model';
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
      rM2c: rotationFromAxisAngle([r.uniform(-1, 1), r.uniform(-1, 1), r.uniform(-1, 1)]),
      tM2cMm: Float64Array.from([r.uniform(-10, 10), r.uniform(-10, 10), z]),
    };
  };
  return {
    object: { id: 1, name: 'cube', diameterMm: 100 * Math.sqrt(3), symmetric: false, keypointsMm: kp, pointsMm: corners },
    trainCount: 256,
    testCount: 0,
    train: async (item, index, seed) => sample(item, index, seed),
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
  netMs: number;
  pnpMs: number;
  /** pnpMs / stepMs */
  pnpShare: number;
  pnpFailuresPerStep: number;
}

async function benchOne(name: ConfigName, backend: string, steps: number, warmup: number, batch: number | undefined): Promise<Row> {
  const cfg = makeConfig(name, {
    loss: { warmupSteps: 0, betaRampSteps: 0 },
    optim: { steps: steps + warmup, ...(batch ? { batchSize: batch } : {}) },
    evalEvery: 0,
    checkpointEvery: 0,
  });
  const engine = new TrainingEngine(syntheticData(cfg), cfg, { finalEval: false, timing: 'split' });
  const rows: { stepMs: number; netMs: number; pnpMs: number; fails: number }[] = [];
  engine.on((e) => {
    if (e.type !== 'step') return;
    process.stderr.write(`  ${name}/${backend} step ${e.step}/${e.totalSteps}: ${e.stepMs.toFixed(0)} ms (pnp ${e.pnpMs.toFixed(1)} ms)\n`);
    if (e.step > warmup) rows.push({ stepMs: e.stepMs, netMs: e.netMs, pnpMs: e.pnpMs, fails: e.pnpFailures });
  });
  await engine.start();
  const parameters = parameterCount(engine.model);
  engine.dispose();
  const mean = (f: (r: (typeof rows)[number]) => number) => rows.reduce((s, r) => s + f(r), 0) / rows.length;
  const stepMs = mean((r) => r.stepMs);
  const pnpMs = mean((r) => r.pnpMs);
  return {
    config: name, backend, batch: cfg.optim.batchSize, inputPx: cfg.model.inputPx, parameters, measuredSteps: rows.length, warmupSteps: warmup,
    imagesPerSec: (1000 * cfg.optim.batchSize) / stepMs, stepMs, netMs: mean((r) => r.netMs), pnpMs, pnpShare: pnpMs / stepMs,
    pnpFailuresPerStep: mean((r) => r.fails),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      configs: { type: 'string', default: 'tiny,tiny@32,default,large' }, backends: { type: 'string', default: 'cpu,webgpu' },
      steps: { type: 'string', default: '3' }, warmup: { type: 'string', default: '1' }, machine: { type: 'string' },
      all: { type: 'boolean', default: false },
    },
  });
  const cases = values.configs.split(',').map((c) => {
    const [name, b] = c.split('@');
    if (!isConfigName(name) || (b !== undefined && !(Number(b) >= 1))) throw new Error(`--configs: ${c} is not <tiny|default|large>[@batch]`);
    return { name, batch: b === undefined ? undefined : Number(b) };
  });
  const backends = values.backends.split(',');
  const steps = Math.max(1, Number(values.steps));
  const warmup = Math.max(0, Number(values.warmup));
  const results: Row[] = [];
  const skipped: string[] = [];
  let adapter = 'none';
  for (const backend of backends) {
    if (backend === 'webgpu') {
      try {
        await useNodeWebgpu();
        adapter = await adapterName();
      } catch (e) {
        skipped.push(`webgpu: ${e instanceof Error ? e.message : String(e)}`);
        continue;
      }
    } else {
      await tf.setBackend('cpu');
    }
    const software = backend === 'webgpu' && /swiftshader/i.test(adapter);
    for (const { name, batch } of cases) {
      const label = `${name}${batch ? `@${batch}` : ''}/${backend}`;
      if (software && name !== 'tiny' && !values.all) {
        skipped.push(`${label}: software adapter (${adapter}); --all to run anyway`);
        continue;
      }
      if (backend === 'cpu' && name === 'large' && !values.all) {
        skipped.push(`${label}: tfjs cpu convolutions (plain JavaScript) would take far too long per step; --all to run anyway`);
        continue;
      }
      process.stderr.write(`${label}\n`);
      results.push(await benchOne(name, backend, steps, warmup, batch));
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
    note: 'pnpShare: bpnp forward + backward + pose loss over the whole step (split timing, syncs on both sides); warm-up steps left out',
    results,
    skipped,
  };
  const out = join(here, 'results', `train-${machine}.json`);
  mkdirSync(dirname(out), { recursive: true });
  if (existsSync(out)) {
    // Merge: keep earlier rows this run did not measure again (and the adapter they name).
    const key = (r: Row) => `${r.config}@${r.batch}/${r.backend}`;
    const old = JSON.parse(readFileSync(out, 'utf8')) as { results?: Row[]; webgpuAdapter?: string };
    const fresh = new Set(results.map(key));
    results.unshift(...(old.results ?? []).filter((r) => !fresh.has(key(r))));
    if (adapter === 'none' && old.webgpuAdapter) adapter = old.webgpuAdapter;
  }
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  console.log('config   backend  batch  input  params     img/s   step ms   net ms   pnp ms   pnp share');
  for (const r of results) {
    console.log(`${r.config.padEnd(8)} ${r.backend.padEnd(8)} ${String(r.batch).padStart(5)} ${String(r.inputPx).padStart(6)} ${String(r.parameters).padStart(8)} ` +
      `${r.imagesPerSec.toPrecision(3).padStart(8)} ${r.stepMs.toFixed(0).padStart(9)} ${r.netMs.toFixed(0).padStart(8)} ${r.pnpMs.toFixed(1).padStart(8)} ${(100 * r.pnpShare).toFixed(1).padStart(10)}%`);
  }
  for (const s of skipped) console.log(`skipped ${s}`);
  console.log(`wrote ${out}`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
  process.exit(1);
});
