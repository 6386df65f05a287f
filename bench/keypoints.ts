/**
 * `npm run bench:keypoints -- --model <bundle> [--dataset <folder|zip>] [--split test|train]
 *                             [--sigmas 0.5,1,1.5,2,3] [--repeats 5] [--backend ...] [--out <file.json|folder/>]`
 *
 * How precise must keypoints be for a pose, and how precise are the model's? On the split's oracle
 * crops (around the ground truth's box, the crops training cuts), the ground-truth keypoints plus
 * Gaussian noise of sigma crop px per coordinate are solved by the float64 PnP with the crop's K, and
 * scored as evaluation scores (ADD(-S)-0.1d, 5cm5deg); beside them, the model's own keypoints on the same
 * crops: their distance to the ground truth's (median, rms per coordinate) and the same scores. Prints a
 * table and writes bench/results/keypoints-<bundle>-<split>.json. Arguments are checked before the run
 * (bench/args.ts): exit 2 naming the flag.
 */
import { writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodePure } from '../src/data/decode/pure';
import { Rng } from '../src/data/rng';
import { InputError, isWithin, loadBundle, openDataset, runMain, selectBackend } from '../src/cli/common';
import { solvePnpBatch } from '../src/solver/pnp';
import { so3Exp } from '../src/solver/so3';
import { projectKeypoints } from '../src/train/batch';
import { bundleData } from '../src/train/bundleRuns';
import { predictBatch } from '../src/train/evaluate';
import { KdTree3 } from '../src/train/kdtree';
import { instanceErrors, summarise } from '../src/train/metrics';
import type { EvalSample, PoseObject } from '../src/train/trainingData';
import { benchOutPath, kKeypointsBenchUsage, parseKeypointsBenchArgs, prepareBenchOut, refuseForeignResults } from './args';

const here = dirname(fileURLToPath(import.meta.url));

export interface ScoredPoses { add01d: number; cm5deg5: number; medianTransMm: number }

/**
 * Scores poses [B, 6] (axis-angle + t mm, model to camera) against the samples' ground truth as
 * evaluation does (metrics.ts; PnP failures count as wrong).
 */
export function scorePoses(obj: PoseObject, samples: readonly EvalSample[], pose: Float64Array, status: Int32Array, tree?: KdTree3): ScoredPoses {
  const pts = obj.metricPointsMm ?? obj.pointsMm;
  const errs = samples.map((s, b) => {
    const p = pose.subarray(6 * b, 6 * b + 6);
    return instanceErrors({ R: so3Exp(new Float64Array(9), p), t: p.slice(3, 6) }, { R: s.rM2c, t: s.tM2cMm }, pts, s.kPx, obj.symmetric, status[b], tree);
  });
  const m = summarise(errs, obj.metricDiameterMm ?? obj.diameterMm, obj.symmetric, 0, 'oracle');
  return { add01d: m.add01d, cm5deg5: m.cm5deg5, medianTransMm: m.medianTransMm };
}

/** The float64 solve of keypoints [B, k, 2] crop px (weights [B, k] or none) with each sample's crop K. */
export function solveKeypoints(obj: PoseObject, samples: readonly EvalSample[], kpPx: Float64Array, weights?: Float64Array): { pose: Float64Array; status: Int32Array } {
  const K = new Float64Array(9 * samples.length);
  samples.forEach((s, b) => K.set(s.kCrop, 9 * b));
  const k = obj.keypointsMm.length / 3;
  const r = solvePnpBatch({ pts2d: kpPx, pts3d: obj.keypointsMm, K, weights, B: samples.length, n: k, sharedPts3d: true, sharedK: false });
  return { pose: r.pose, status: r.status };
}

/**
 * The scores of the ground-truth keypoints of the samples (projected with their crop K) plus Gaussian
 * noise of sigmaPx per coordinate, averaged over `repeats` seeded draws.
 */
export function noisyKeypointScores(obj: PoseObject, samples: readonly EvalSample[], sigmaPx: number, repeats: number, seed: number, tree?: KdTree3): ScoredPoses {
  const gt = Float64Array.from(samples.flatMap((s) => Array.from(projectKeypoints(obj.keypointsMm, s.rM2c, s.tM2cMm, s.kCrop))));
  const rng = new Rng(seed);
  const sum: ScoredPoses = { add01d: 0, cm5deg5: 0, medianTransMm: 0 };
  for (let r = 0; r < repeats; r++) {
    const noisy = Float64Array.from(gt, (v) => v + sigmaPx * rng.normal());
    const { pose, status } = solveKeypoints(obj, samples, noisy);
    const s = scorePoses(obj, samples, pose, status, tree);
    sum.add01d += s.add01d / repeats;
    sum.cm5deg5 += s.cm5deg5 / repeats;
    sum.medianTransMm += s.medianTransMm / repeats;
  }
  return sum;
}

async function main(argv: string[]): Promise<number> {
  const a = parseKeypointsBenchArgs(argv);
  const outTo = await prepareBenchOut(a.out);
  const name = basename(resolve(a.model)).replace(/\.zip$/i, '').replace(/[^A-Za-z0-9._-]/g, '_');
  const file = benchOutPath(outTo, join(here, 'results'), `keypoints-${name}-${a.split}.json`);
  // Settled before the run: never the bundle read, nor a file other than this benchmark's results.
  if (isWithin(file, a.model)) throw new InputError(`--out ${file}: is inside the bundle --model ${a.model}, which this run reads; give a path outside it`);
  refuseForeignResults(file, 'keypoints', (j) => j.benchmark === 'keypoints' || (j.benchmark === undefined && 'noise' in j && 'modelKeypoints' in j));
  const backend = await selectBackend(a.backend);
  const bundle = await loadBundle(a.model);
  const datasetPath = a.dataset ?? join(here, '..', 'public', 'datasets', 'poselab-toy');
  const ds = await openDataset(datasetPath);
  const data = bundleData(ds, bundle, { decode: decodePure, evalSplit: a.split });
  const obj = data.object;
  const tree = obj.symmetric ? new KdTree3(obj.metricModelMm ?? obj.metricPointsMm ?? obj.pointsMm) : undefined;
  const samples: EvalSample[] = [];
  for (let i = 0; i < data.testCount; i++) samples.push(await data.test(i));
  console.error(`${samples.length} ${a.split} instances, oracle crops of ${bundle.meta.input.sizePx} px, ${backend} backend`);

  const k = obj.keypointsMm.length / 3;
  const kp = new Float64Array(samples.length * k * 2);
  const conf = new Float64Array(samples.length * k).fill(1);
  const batch = bundle.meta.config.optim.batchSize;
  for (let s = 0; s < samples.length; s += batch) {
    const preds = await predictBatch(bundle.model, samples.slice(s, s + batch), obj.keypointsMm, bundle.meta.input);
    preds.forEach((p, j) => { kp.set(p.keypointsPx, 2 * k * (s + j)); if (p.confidence) conf.set(p.confidence, k * (s + j)); });
  }
  const dist: number[] = [];
  let sq = 0;
  samples.forEach((smp, b) => {
    const g = projectKeypoints(obj.keypointsMm, smp.rM2c, smp.tM2cMm, smp.kCrop);
    for (let q = 0; q < k; q++) {
      const dx = kp[2 * (k * b + q)] - g[2 * q], dy = kp[2 * (k * b + q) + 1] - g[2 * q + 1];
      dist.push(Math.hypot(dx, dy));
      sq += dx * dx + dy * dy;
    }
  });
  dist.sort((x, y) => x - y);
  const solved = solveKeypoints(obj, samples, kp, conf);
  const model = { medianPx: dist[dist.length >> 1], rmsPerCoordinatePx: Math.sqrt(sq / (2 * dist.length)), ...scorePoses(obj, samples, solved.pose, solved.status, tree) };
  const noise = a.sigmas.map((sigma) => ({ sigmaPx: sigma, ...noisyKeypointScores(obj, samples, sigma, a.repeats, 0x5eed, tree) }));

  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const row = (label: string, s: ScoredPoses) => console.log(`${label.padEnd(48)} | ${pct(s.add01d).padStart(8)} | ${pct(s.cm5deg5).padStart(7)} | ${s.medianTransMm.toFixed(1)} mm`);
  console.log(`${'keypoints (crop px)'.padEnd(48)} | ADD-0.1d | 5cm5deg | median t error`);
  for (const n of noise) row(`ground truth + noise, sigma ${n.sigmaPx.toFixed(2)} per coordinate`, n);
  row(`the model's: median ${model.medianPx.toFixed(2)}, rms ${model.rmsPerCoordinatePx.toFixed(2)} per coordinate`, model);
  writeFileSync(file, `${JSON.stringify({
    benchmark: 'keypoints', model: a.model, step: bundle.meta.step, dataset: datasetPath, split: a.split, instances: samples.length, inputPx: bundle.meta.input.sizePx,
    crops: 'oracle', repeats: a.repeats, noise, modelKeypoints: model,
  }, null, 1)}\n`);
  console.error(`results: ${file}`);
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) void runMain(() => main(process.argv.slice(2)), kKeypointsBenchUsage);
