import { describe, expect, it } from 'vitest';
import { so3Exp } from '../../src/solver/so3';
import { bopResultsName } from '../../src/data/bopNames';
import { decodePure } from '../../src/data/decode/pure';
import { loadDataset } from '../../src/data/load';
import { writePly } from '../../src/data/ply';
import { problemLine } from '../../src/data/problems';
import { splitDataset } from '../../src/data/split';
import { MemorySource } from '../../src/data/source/source';
import { evaluationInstances } from '../../src/data/targets';
import { makeConfig } from '../../src/train/config';
import { datasetTrainingData } from '../../src/train/datasetTrainingData';
import { KdTree3 } from '../../src/train/kdtree';
import { addErrorMm, addsErrorMm, projection2dErrorPx } from '../../src/train/metrics';
import { Rng } from '../../src/data/rng';
import { bopFixture, boxMesh, type Files } from '../data/fixtures';

/**
 * Issue 13, items 5-10: what a BOP toolkit user would reproduce. Exact ADD-S (nearest neighbours over
 * the whole model), models_eval, test_targets_bop19.json, the official symmetric lists, the results
 * name, and a test-only dataset's automatic split announced and undone for a bundle's evaluation.
 */
const enc = (s: string) => new TextEncoder().encode(s);
const I = [1, 0, 0, 0, 1, 0, 0, 0, 1];

function bruteNearestSq(pts: Float64Array, x: number, y: number, z: number): number {
  let best = Infinity;
  for (let i = 0; i < pts.length; i += 3) best = Math.min(best, (pts[i] - x) ** 2 + (pts[i + 1] - y) ** 2 + (pts[i + 2] - z) ** 2);
  return best;
}

/** Points on a sphere of radius r mm (a dense, curved model like a scanned mesh), seeded. */
function spherePoints(n: number, r: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  const out = new Float64Array(3 * n);
  for (let i = 0; i < n; i++) {
    const z = rng.uniform(-1, 1), phi = rng.uniform(0, 2 * Math.PI), s = Math.sqrt(1 - z * z);
    out.set([r * s * Math.cos(phi), r * s * Math.sin(phi), r * z], 3 * i);
  }
  return out;
}

describe('k-d tree', () => {
  it('finds the exact nearest neighbour, as brute force does (random, duplicated and coincident points)', () => {
    const rng = new Rng(5);
    const pts = new Float64Array(3 * 3000);
    for (let i = 0; i < pts.length; i++) pts[i] = Math.round(rng.uniform(-50, 50) * 4) / 4; // many ties
    pts.copyWithin(0, 3 * 1000, 3 * 1100); // duplicates
    const tree = new KdTree3(pts);
    for (let q = 0; q < 500; q++) {
      const [x, y, z] = [rng.uniform(-70, 70), rng.uniform(-70, 70), rng.uniform(-70, 70)];
      expect(tree.nearestSq(x, y, z)).toBe(bruteNearestSq(pts, x, y, z));
    }
    const same = new KdTree3(new Float64Array(3 * 40).fill(2));
    expect(same.nearestSq(2, 2, 5)).toBe(9);
    expect(new KdTree3(new Float64Array(0)).nearestSq(0, 0, 0)).toBe(Infinity);
  });
});

describe('ADD-S', () => {
  it('hand-computed: two points, a shift of 3 mm and a swap by a half turn', () => {
    const pts = Float64Array.from([0, 0, 0, 10, 0, 0]);
    const gt = { R: I, t: [0, 0, 500] };
    expect(addsErrorMm({ R: I, t: [0, 3, 500] }, gt, pts)).toBeCloseTo(3, 12);
    expect(addsErrorMm({ R: I, t: [0, 3, 500] }, gt, pts, new KdTree3(pts))).toBeCloseTo(3, 12);
    // A half turn about y through x = 5 swaps the two points: ADD 10, ADD-S 0.
    const Ry = so3Exp(new Float64Array(9), [0, Math.PI, 0]);
    const swap = { R: Ry, t: [10, 0, 500] };
    expect(addErrorMm(swap, gt, pts)).toBeCloseTo(10, 9);
    expect(addsErrorMm(swap, gt, pts, new KdTree3(pts))).toBeCloseTo(0, 9);
  });

  it('searches the whole model: on a 30k-point model it equals brute force, where a 2,000-point search is 0.4+ mm too high', () => {
    const model = spherePoints(30_000, 60, 1);
    const tree = new KdTree3(model);
    const averaged = model.slice(0, 3 * 2000); // the points whose distances are averaged
    const gt = { R: so3Exp(new Float64Array(9), [0.3, -0.2, 0.5]), t: [10, -20, 700] };
    const est = { R: so3Exp(new Float64Array(9), [0.31, -0.18, 0.52]), t: [11, -19, 702] };
    // The toolkit's adi: for each GT-posed point, the nearest estimate-posed point of the whole model.
    const estPosed = new Float64Array(model.length);
    for (let i = 0; i < model.length; i += 3) {
      for (let r = 0; r < 3; r++) estPosed[i + r] = est.R[3 * r] * model[i] + est.R[3 * r + 1] * model[i + 1] + est.R[3 * r + 2] * model[i + 2] + est.t[r];
    }
    let sum = 0;
    for (let i = 0; i < averaged.length; i += 3) {
      const g = [0, 1, 2].map((r) => gt.R[3 * r] * averaged[i] + gt.R[3 * r + 1] * averaged[i + 1] + gt.R[3 * r + 2] * averaged[i + 2] + gt.t[r]);
      sum += Math.sqrt(bruteNearestSq(estPosed, g[0], g[1], g[2]));
    }
    const toolkit = sum / 2000;
    expect(addsErrorMm(est, gt, averaged, tree)).toBeCloseTo(toolkit, 9);
    expect(addsErrorMm(est, gt, averaged) - toolkit).toBeGreaterThan(0.4);
  });
});

/** A BOP dataset named `name` with no train split, T-LESS-like model folders and optional targets. */
function testOnlyBop(name: string, opts: { targets?: unknown; evalMesh?: boolean; symmetricIds?: number[]; noInfo?: boolean } = {}): Files {
  const files: Files = new Map();
  for (const [p, b] of bopFixture(`${name}/`)) {
    if (p.startsWith(`${name}/test/`)) continue;
    files.set(p.replace(`${name}/train/`, `${name}/test/`), b);
  }
  if (opts.evalMesh) {
    files.set(`${name}/models_eval/obj_000001.ply`, writePly(boxMesh(50, 50, 50)));
    files.set(`${name}/models_eval/obj_000002.ply`, files.get(`${name}/models/obj_000002.ply`)!);
    files.set(`${name}/models_eval/models_info.json`, enc(JSON.stringify({ 1: { diameter: Math.hypot(50, 50, 50) }, 2: { diameter: 140 } })));
  }
  if (opts.symmetricIds) {
    const info = JSON.parse(new TextDecoder().decode(files.get(`${name}/models/models_info.json`)!)) as Record<string, Record<string, unknown>>;
    for (const [id, v] of Object.entries(info)) {
      delete v.symmetries_discrete;
      if (opts.symmetricIds.includes(Number(id))) v.symmetries_continuous = [{ axis: [0, 0, 1], offset: [0, 0, 0] }];
    }
    files.set(`${name}/models/models_info.json`, enc(JSON.stringify(info)));
  }
  if (opts.noInfo) files.delete(`${name}/models/models_info.json`);
  if (opts.targets !== undefined) files.set(`${name}/test_targets_bop19.json`, enc(JSON.stringify(opts.targets)));
  return files;
}

const config = makeConfig('tiny');

/** More images in the scene (copies of image 0 as im_id 3..n-1), so that a 15% split takes some. */
function moreImages(files: Files, name: string, n: number): Files {
  const scene = `${name}/test/000000`;
  for (const f of ['scene_gt.json', 'scene_camera.json', 'scene_gt_info.json']) {
    const j = JSON.parse(new TextDecoder().decode(files.get(`${scene}/${f}`)!)) as Record<string, unknown>;
    for (let i = 3; i < n; i++) j[i] = j[0];
    files.set(`${scene}/${f}`, enc(JSON.stringify(j)));
  }
  const pad = (i: number) => String(i).padStart(6, '0');
  for (let i = 3; i < n; i++) {
    files.set(`${scene}/rgb/${pad(i)}.png`, files.get(`${scene}/rgb/000000.png`)!);
    for (const sub of ['mask', 'mask_visib']) for (const g of [0, 1]) files.set(`${scene}/${sub}/${pad(i)}_${pad(g)}.png`, files.get(`${scene}/${sub}/000000_${pad(g)}.png`)!);
  }
  return files;
}

describe('a test-only BOP dataset', () => {
  it('the automatic split says so; evaluation keeps off the training images, during training and of the bundle', async () => {
    const ds = await loadDataset(new MemorySource('m', moreImages(testOnlyBop('mine'), 'mine', 20)));
    const split = splitDataset(ds, { mode: 'auto' });
    expect(split.automatic).toBe(true);
    expect(split.how).toMatch(/^automatic split: the dataset has no train\* split \(splits: test\), so a seeded split: 15% train per scene, seed 0; evaluation, during training and of the bundle, covers the other 85%$/);
    const training = datasetTrainingData(ds, config, { decode: decodePure, objId: 1 });
    const bundleEval = datasetTrainingData(ds, config, { decode: decodePure, objId: 1, evalSplit: 'test' });
    expect(training.trainCount).toBe(3);
    expect(training.testCount).toBe(17);
    expect(bundleEval.testCount).toBe(17);
    expect(bundleEval.evalSet).toMatch(/every instance of object 1 in the 17 evaluation images .*; the 3 images the run trained on \(its automatic split\) left out$/);
    // The very images: every one the run did not train on, none it did.
    const keys = await Promise.all(Array.from({ length: bundleEval.testCount }, async (_, i) => (await bundleEval.test(i)).imageKey));
    const evaluated = keys.map((k) => ds.images.findIndex((im) => im.key === k));
    expect(evaluated.sort((a, b) => a - b)).toEqual(split.test);
    // A bundle whose run is known to have trained on another dataset's own split: the whole test split, nothing said.
    const other = datasetTrainingData(ds, config, { decode: decodePure, objId: 1, evalSplit: 'test', runSplitAutomatic: false });
    expect(other.testCount).toBe(20);
    expect(other.evalSet).not.toMatch(/left out/);
    const own = splitDataset(await loadDataset(new MemorySource('m', bopFixture('mine/'))), { mode: 'auto' });
    expect(own.automatic).toBe(false);
  });
});

describe('models_eval', () => {
  it('the metrics use the evaluation model and its diameter; training keeps the training mesh', async () => {
    const ds = await loadDataset(new MemorySource('m', testOnlyBop('mine', { evalMesh: true })));
    const data = datasetTrainingData(ds, config, { decode: decodePure, objId: 1, evalSplit: 'test' });
    expect(data.object.diameterMm).toBeCloseTo(Math.hypot(100, 100, 100), 9);
    expect(data.object.metricDiameterMm).toBeCloseTo(Math.hypot(50, 50, 50), 9);
    expect(Array.from(data.object.metricPointsMm!).map(Math.abs)).toEqual(new Array(24).fill(25));
    expect(Array.from(data.object.pointsMm).map(Math.abs)).toEqual(new Array(24).fill(50));
    // 2D projection of a 1 mm shift along x at 500 mm with fx 150: 0.3 px for every vertex, whichever model.
    const K = [150, 0, 80, 0, 150, 60, 0, 0, 1];
    expect(projection2dErrorPx({ R: I, t: [1, 0, 500] }, { R: I, t: [0, 0, 500] }, Float64Array.of(0, 0, 0), K)).toBeCloseTo(0.3, 12);
  });
});

describe('test_targets_bop19.json', () => {
  it('evaluation covers exactly its targets (inst_count each), and says which set it used', async () => {
    const targets = [
      { scene_id: 0, im_id: 0, obj_id: 1, inst_count: 1 },
      { scene_id: 0, im_id: 2, obj_id: 1, inst_count: 1 },
      { scene_id: 0, im_id: 2, obj_id: 2, inst_count: 1 },
      { scene_id: 0, im_id: 9, obj_id: 1, inst_count: 1 },
    ];
    const ds = await loadDataset(new MemorySource('m', testOnlyBop('mine', { targets })));
    expect(ds.testTargets?.targets).toHaveLength(4);
    const all = ds.images.map((_, i) => i);
    const e = evaluationInstances(ds, all, 1);
    expect(e.refs.map((r) => ds.images[r.image].imId)).toEqual([0, 2]);
    expect(e.how).toBe('the BOP test targets of mine/test_targets_bop19.json: 2 instances of object 1 in 2 images (1 target images not among the evaluation images, 0 target instances without ground truth)');
    const data = datasetTrainingData(ds, config, { decode: decodePure, objId: 1, evalSplit: 'test' });
    expect(data.testCount).toBe(2);
    expect(data.evalSet).toMatch(/^the BOP test targets of mine\/test_targets_bop19\.json/);
  });

  it('a malformed targets file or entry is a problem line naming the field', async () => {
    const ds = await loadDataset(new MemorySource('m', testOnlyBop('mine', { targets: [{ scene_id: 0, im_id: -1, obj_id: 1, inst_count: 1 }, 7, { scene_id: 0, im_id: 1, obj_id: 1, inst_count: 0 }] })));
    expect(ds.problems.map(problemLine)).toEqual([
      'mine/test_targets_bop19.json: [0].im_id: -1 is not a non-negative integer; target skipped',
      'mine/test_targets_bop19.json: [1]: not an object; skipped',
      'mine/test_targets_bop19.json: [2].inst_count: 0 is not a positive integer; target skipped',
    ]);
  });
});

describe('symmetry', () => {
  it('comes from models_info; warns where a known dataset\'s official list disagrees (LM: bowl, cup, eggbox, glue)', async () => {
    const ds = await loadDataset(new MemorySource('m', testOnlyBop('lm', { symmetricIds: [1] })));
    expect(ds.objects.map((o) => [o.id, o.symmetric])).toEqual([[1, true], [2, false]]);
    expect(ds.problems.map(problemLine)).toEqual([
      "lm/models/models_info.json: \"1\".symmetries: obj_id 1 has symmetries here but is not on LM's official list of symmetric objects (bop_toolkit dataset_params); ADD-S is used as models_info says",
    ]);
  });

  it('LM-O glue without symmetries is warned about; an unknown dataset is not checked; without models_info the official list is used', async () => {
    const files = testOnlyBop('lmo', { symmetricIds: [] });
    for (const p of [...files.keys()]) if (p.includes('obj_000002')) files.set(p.replace('obj_000002', 'obj_000011'), files.get(p)!);
    const info = JSON.parse(new TextDecoder().decode(files.get('lmo/models/models_info.json')!)) as Record<string, unknown>;
    info['11'] = info['2'];
    files.set('lmo/models/models_info.json', enc(JSON.stringify(info)));
    const lmo = await loadDataset(new MemorySource('m', files));
    expect(lmo.problems.map(problemLine)).toContain(
      "lmo/models/models_info.json: \"11\".symmetries: obj_id 11 has no symmetries here but is on LM-O's official list of symmetric objects (bop_toolkit dataset_params); ADD is used as models_info says, which scores it stricter than BOP does",
    );
    const mine = await loadDataset(new MemorySource('m', testOnlyBop('mine', { symmetricIds: [1] })));
    expect(mine.problems).toEqual([]);
    const tless = await loadDataset(new MemorySource('m', testOnlyBop('tless', { noInfo: true })));
    expect(tless.objects.map((o) => o.symmetric)).toEqual([true, true]);
  });
});

describe('results file name', () => {
  it('follows <method>_<dataset>-<split>.csv as the toolkit parses it', () => {
    expect(bopResultsName('poselab', 'lm', 'test')).toBe('poselab_lm-test.csv');
    expect(bopResultsName('my_method v2', '/data/bop/tless/', 'test_primesense')).toBe('my-method-v2_tless-test-primesense.csv');
    expect(bopResultsName('poselab', 'lmo_test_all.zip', 'test')).toBe('poselab_lmo-test.csv');
  });
});
