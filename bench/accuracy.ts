/**
 * `npm run bench:accuracy [-- --dataset <folder|zip>] [--config small] [--steps N] [--seeds 1,2]
 *                          [--variants heatmap,pose-kp,pose-mesh] [--eval-every K] [--pose-after S]
 *                          [--backend auto|webgpu|wasm|cpu] [--machine name] [--out <file.json|folder/>]`
 *
 * The ablation of BPnP's LINEMOD experiment (Chen et al., CVPR 2020, section 5.3) on PoseLab's engine:
 * the same network and data trained with
 *   heatmap     beta = 0: the heatmap and keypoint losses only
 *   pose-kp     + beta x the pose loss through bpnp, reprojecting the keypoints
 *   pose-mesh   + the same pose loss reprojecting mesh points (loss.posePoints = 500)
 * for each seed, evaluated every K steps on the test split with detected crops (the localiser trains in
 * every variant alike). The pose loss starts after --pose-after steps and ramps over as many again.
 * Writes bench/results/accuracy-<machine>.json (every evaluation, with step and wall time) and
 * accuracy-<machine>.svg (ADD-0.1d, 2D-5px and 5cm5deg against steps and wall time, one line per run),
 * and prints the final table. --out: a .json file (the .svg beside it), or a folder to write those
 * names in. Arguments and the dataset are checked before the run (bench/args.ts): exit 2 naming the flag.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { decodePure } from '../src/data/decode/pure';
import { InputError, openDataset, prepareOutputFile, runMain, selectBackend } from '../src/cli/common';
import { makeConfig, type TrainConfig } from '../src/train/config';
import { datasetTrainingData } from '../src/train/datasetTrainingData';
import { placeLocaliser } from '../src/node/localiserThread';
import { TrainingEngine } from '../src/train/engine';
import type { PoseMetrics } from '../src/train/metrics';
import { benchOutPath, kAccuracyBenchUsage, kVariants, parseAccuracyBenchArgs, prepareBenchOut, refuseForeignResults, type Variant } from './args';
import { deviceSlug } from './device';

const here = dirname(fileURLToPath(import.meta.url));

interface Point { step: number; wallS: number; add01d: number; proj5px: number; cm5deg5: number; detectionRecall: number }
interface Run { variant: Variant; seed: number; points: Point[]; final: PoseMetrics; wallS: number }

function variantConfig(base: TrainConfig, v: Variant, seed: number, poseAfter: number): TrainConfig {
  const loss = v === 'heatmap'
    ? { ...base.loss, betaMax: 0 }
    : { ...base.loss, warmupSteps: poseAfter, betaRampSteps: poseAfter, posePoints: v === 'pose-mesh' ? 500 : 0 };
  return { ...base, seed, loss };
}

async function main(argv: string[]): Promise<number> {
  const v = parseAccuracyBenchArgs(argv);
  const { config: name, steps, evalEvery, poseAfter, seeds, variants } = v;
  const dataset = v.dataset ?? join(here, '..', 'public', 'datasets', 'poselab-toy');
  // Where the results go is settled before the run: a bad --out is an input error, not a lost benchmark.
  const outTo = await prepareBenchOut(v.out);
  const backend = await selectBackend(v.backend);
  const machine = v.machine ?? (backend === 'webgpu' ? deviceSlug('gpu') : `cpu-${backend}`);
  const outJson = benchOutPath(outTo, join(here, 'results'), `accuracy-${machine}.json`);
  const outSvg = outJson.replace(/\.json$/i, '.svg');
  refuseForeignResults(outJson, 'accuracy', (j) => j.benchmark === 'accuracy');
  // The plot beside it is replaced only with the results it belongs to.
  if (existsSync(outSvg) && !existsSync(outJson)) throw new InputError(`--out ${outJson}: ${outSvg} exists beside it, and this run writes its plot there; give another name`);
  const ds = await openDataset(dataset);
  const runs: Run[] = [];
  for (const variant of variants) {
    for (const seed of seeds) {
      const cfg = variantConfig(makeConfig(name, { optim: { steps }, evalEvery, evalMaxInstances: 0, checkpointEvery: 0 }), variant, seed, poseAfter);
      const data = datasetTrainingData(ds, cfg, { decode: decodePure });
      // The localiser on the second core where there is one, as npm run train places it (bit for bit the same training).
      const localiser = await placeLocaliser(backend, cfg.localiser, cfg.optim);
      if (runs.length === 0) console.error(`${cfg.name} on ${backend}: ${localiser.where}`);
      const engine = new TrainingEngine(data, cfg, { finalEval: true, localiserSteps: localiser.steps });
      const t0 = performance.now();
      const points: Point[] = [];
      let final: PoseMetrics | undefined;
      engine.on((e) => {
        if (e.type === 'step' && e.step % 100 === 0) process.stderr.write(`\r${variant} seed ${seed}: ${e.step}/${steps}\x1b[K`);
        if (e.type !== 'eval') return;
        const m = e.metrics;
        points.push({ step: e.step, wallS: (performance.now() - t0) / 1000, add01d: m.add01d, proj5px: m.proj5px, cm5deg5: m.cm5deg5, detectionRecall: m.detectionRecall });
        if (e.final) final = m;
      });
      await engine.start();
      engine.dispose();
      const wallS = (performance.now() - t0) / 1000;
      runs.push({ variant, seed, points, final: final!, wallS });
      process.stderr.write(`\r${variant} seed ${seed}: ADD-0.1d ${(100 * final!.add01d).toFixed(1)}%  2D-5px ${(100 * final!.proj5px).toFixed(1)}%  ` +
        `5cm5deg ${(100 * final!.cm5deg5).toFixed(1)}%  detected ${(100 * final!.detectionRecall).toFixed(1)}%  (${wallS.toFixed(0)} s)\x1b[K\n`);
    }
  }
  await prepareOutputFile(outJson, '--out');
  writeFileSync(outJson, `${JSON.stringify({
    benchmark: 'accuracy', machine, date: new Date().toISOString(), cpu: `${cpus()[0]?.model ?? 'unknown'} x ${cpus().length}`,
    memoryGiB: Math.round(totalmem() / 2 ** 30), backend, tfjs: tf.version.tfjs, dataset, config: name, steps, evalEvery, poseAfter,
    note: 'test split, crops from the localiser (detected); the pose loss starts at poseAfter and ramps over poseAfter steps',
    runs,
  }, null, 1)}\n`);
  writeFileSync(outSvg, plot(runs, `${name}, ${steps} steps, ${backend} on ${cpus().length} cores`));
  console.log('variant     seed  ADD-0.1d  2D-5px  5cm5deg  detected  wall s');
  for (const r of runs) {
    const p = (x: number) => `${(100 * x).toFixed(1)}%`.padStart(8);
    console.log(`${r.variant.padEnd(10)} ${String(r.seed).padStart(5)} ${p(r.final.add01d)}${p(r.final.proj5px)} ${p(r.final.cm5deg5)}  ${p(r.final.detectionRecall)} ${r.wallS.toFixed(0).padStart(7)}`);
  }
  console.log(`wrote ${outJson} and ${outSvg}`);
  return 0;
}

/** Six small line charts (three metrics against steps, then against wall time), one line per run. */
function plot(runs: Run[], title: string): string {
  const metrics: [keyof Point, string][] = [['add01d', 'ADD-0.1d'], ['proj5px', '2D-5px'], ['cm5deg5', '5cm5deg']];
  const colours: Record<Variant, string> = { heatmap: '#1f77b4', 'pose-kp': '#d62728', 'pose-mesh': '#2ca02c' };
  const W = 300, H = 200, m = 40;
  const parts: string[] = [];
  const xs: [keyof Point, string][] = [['step', 'steps'], ['wallS', 'wall time, s']];
  xs.forEach(([xKey, xLabel], row) => {
    const xMax = Math.max(1, ...runs.flatMap((r) => r.points.map((p) => p[xKey])));
    metrics.forEach(([key, label], col) => {
      const ox = col * (W + m) + m, oy = row * (H + m) + m + 20;
      parts.push(`<rect x="${ox}" y="${oy}" width="${W}" height="${H}" fill="none" stroke="#999"/>`);
      parts.push(`<text x="${ox + W / 2}" y="${oy - 6}" text-anchor="middle" font-size="12">${label} (%) vs ${xLabel}</text>`);
      for (const t of [0, 0.5, 1]) parts.push(`<text x="${ox - 4}" y="${oy + H - t * H + 4}" text-anchor="end" font-size="10">${100 * t}</text>`);
      parts.push(`<text x="${ox + W}" y="${oy + H + 14}" text-anchor="end" font-size="10">${xMax.toFixed(0)}</text>`);
      for (const r of runs) {
        const pts = r.points.map((p) => `${(ox + (p[xKey] / xMax) * W).toFixed(1)},${(oy + H - p[key] * H).toFixed(1)}`).join(' ');
        parts.push(`<polyline fill="none" stroke="${colours[r.variant]}" stroke-width="1.5" stroke-dasharray="${r.seed % 2 ? '' : '4 2'}" points="${pts}"/>`);
      }
    });
  });
  const legend = kVariants.map((v, i) => `<text x="${m + i * 150}" y="16" font-size="12" fill="${colours[v]}">${v}</text>`).join('');
  const width = 3 * (W + m) + m, height = 2 * (H + m) + m + 20;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">` +
    `<rect width="100%" height="100%" fill="white"/>${legend}<text x="${width - m}" y="16" font-size="12" text-anchor="end">${title}; dashed: even seeds</text>${parts.join('')}</svg>\n`;
}

runMain(() => main(process.argv.slice(2)), kAccuracyBenchUsage);
