/**
 * Export -> zip -> unzip -> import: predictions equal those before export, tf.loadLayersModel reads
 * model.json + weights.bin over (mocked) http as is, the carried checkpoint continues the run, and the
 * networks' digests in poselab.json (node:crypto's SHA-256 the reference) tell networks of another save.
 */
import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import { zipSync } from 'fflate';
import { beforeAll, describe, expect, it } from 'vitest';
import { useCpuBackend } from '../../src/kernels/setup';
import {
  exportEngine, importBundle, kLocaliserBin, kLocaliserJson, kModelJson, kPoselabJson, kWeightsBin, predictWithBundle, resumeCheckpoint, unzipBundle, zipBundle,
  type BundleFiles, type BundleMeta,
} from '../../src/train/bundle';
import { TrainingEngine } from '../../src/train/engine';
import { bundleResume } from '../../src/train/bundleRuns';
import { predictBatch } from '../../src/train/evaluate';
import { detectObjects } from '../../src/train/localiser';
import { fixtureData, tinyConfig } from './fixtureData';
import { bundlePredictor } from '../../src/train/predict';

beforeAll(async () => {
  await useCpuBackend();
});

/** A tiny run of two steps on the fixture, exported with its checkpoint. */
async function twoStepBundle(over: Parameters<typeof tinyConfig>[0] = {}): Promise<BundleFiles> {
  const cfg = tinyConfig({ ...over, optim: { steps: 2 } });
  const engine = new TrainingEngine(await fixtureData(cfg), cfg, { finalEval: false });
  await engine.start();
  const files = await exportEngine(engine, { withCheckpoint: true });
  engine.dispose();
  return files;
}

/** The bundle's files with the JSON file `name` changed by `change`. */
function editedJson(files: BundleFiles, name: string, change: (j: any) => void): BundleFiles {
  const j = JSON.parse(new TextDecoder().decode(files.get(name)));
  change(j);
  return new Map(files).set(name, new TextEncoder().encode(JSON.stringify(j)));
}

/** node's own SHA-256 of a file, 64 lowercase hex digits: the reference for poselab.json's files. */
function nodeSha256Hex(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

describe('bundle', () => {
  it('export -> zip -> import predicts exactly what the model predicted before export; it continues training', async () => {
    const cfg = tinyConfig({ optim: { steps: 3 } });
    const data = await fixtureData(cfg);
    const engine = new TrainingEngine(data, cfg);
    const run = await engine.start();
    expect(run.eval?.metrics.instances).toBe(2);
    const samples = await Promise.all([0, 1].map((i) => data.test(i)));
    const before = await predictBatch(engine.model, samples, data.object.keypointsMm, cfg.data, { heatmaps: true });

    const zip = zipBundle(await exportEngine(engine, { withCheckpoint: true, split: data.split, dataset: data.dataset }));
    const files = unzipBundle(zip);
    expect([...files.keys()].sort()).toEqual(['checkpoint.bin', 'checkpoint.json', kLocaliserJson, kLocaliserBin, kModelJson, kPoselabJson, kWeightsBin].sort());
    const meta = JSON.parse(new TextDecoder().decode(files.get(kPoselabJson))) as BundleMeta;
    expect(meta).toMatchObject({
      format: 'poselab-bundle', class: { id: 1, symmetric: false }, step: 3, hasCheckpoint: true,
      input: { sizePx: 32, mean: cfg.data.mean, std: cfg.data.std }, outputs: { heatmaps: 'heatmaps', confidence: 'confidence', stride: 4 },
      crop: { padding: cfg.data.padding, from: cfg.data.cropFrom },
      localiser: { model: kLocaliserJson, sizePx: cfg.localiser.model.inputPx, minScore: cfg.localiser.minScore },
    });
    expect(meta.keypointsMm).toHaveLength(5);
    // The refined crop's outline travels with the model: the object's, row by row.
    expect(meta.crop.outlineMm!.flat()).toEqual(Array.from(data.object.outlineMm!));
    expect(meta.split).toEqual({ how: data.split.how, automatic: data.split.automatic });
    expect(meta.dataset, 'the dataset it was trained on').toEqual({ name: 'lmfix', format: 'bop' });
    expect(meta.metrics).toEqual(run.eval?.metrics);

    const b = await importBundle(files);
    expect(Array.from(b.outlineMm!)).toEqual(Array.from(data.object.outlineMm!));
    const after = await predictWithBundle(b, samples, { heatmaps: true });
    after.forEach((p, i) => {
      const q = before[i];
      expect(Array.from(p.pose)).toEqual(Array.from(q.pose));
      expect(Array.from(p.keypointsPx)).toEqual(Array.from(q.keypointsPx));
      expect(Array.from(p.confidence!)).toEqual(Array.from(q.confidence!));
      expect(Array.from(p.heatmaps!)).toEqual(Array.from(q.heatmaps!));
      expect(p.status).toBe(q.status);
    });
    // The localiser comes back too: the same boxes and scores on the same whole images.
    const views = await Promise.all([0, 1].map((i) => data.testView(i)));
    const detBefore = await detectObjects(engine.localiser.model, views, cfg.data);
    const detAfter = await detectObjects(b.localiser!, views, b.meta.input);
    detAfter.forEach((d, i) => {
      expect(Array.from(d.boxPx)).toEqual(Array.from(detBefore[i].boxPx));
      expect(d.score).toBe(detBefore[i].score);
    });

    // continue: the carried checkpoint is the engine's, and a resumed engine goes on from step 3
    const ck = await resumeCheckpoint(b);
    const own = await engine.checkpoint();
    expect(ck.step).toBe(3);
    expect(ck.optimizer.t).toBe(3);
    ck.weights.forEach((w, i) => expect(Array.from(w.values)).toEqual(Array.from(own.weights[i].values)));
    ck.localiser!.weights.forEach((w, i) => expect(Array.from(w.values)).toEqual(Array.from(own.localiser!.weights[i].values)));
    expect(ck.localiser!.optimizer.t).toBe(3);
    const more = new TrainingEngine(data, { ...cfg, optim: { ...cfg.optim, steps: 4 } }, { resume: { ...ck, config: { ...ck.config, optim: { ...ck.config.optim, steps: 4 } } }, finalEval: false });
    expect((await more.start()).step).toBe(4);
    more.dispose();

    // without a checkpoint: the weights, with fresh moments
    const bare = await importBundle(unzipBundle(zipBundle(await exportEngine(engine))));
    expect(bare.checkpoint).toBeUndefined();
    const fresh = await resumeCheckpoint(bare);
    expect(fresh.optimizer.t).toBe(0);
    fresh.weights.forEach((w, i) => expect(Array.from(w.values)).toEqual(Array.from(own.weights[i].values)));
    engine.dispose();
  });

  it('model.json + weights.bin load with tf.loadLayersModel over http as is; a zip wrapped in a folder imports', async () => {
    const cfg = tinyConfig();
    const engine = new TrainingEngine(await fixtureData(cfg), cfg);
    const files = await exportEngine(engine);
    const fetchFunc = async (url: string | URL | Request) => {
      const name = String(url).split('/').pop()!;
      const body = files.get(name);
      return new Response(body ? new Uint8Array(body) : null, { status: body ? 200 : 404 });
    };
    const loaded = await tf.loadLayersModel('http://poselab.test/run/model.json', { fetchFunc });
    const x = tf.randomUniform([1, 32, 32, 3], -1, 1, 'float32', 7);
    const [h0, c0] = engine.model.predict(x) as tf.Tensor[];
    const [h1, c1] = loaded.predict(x) as tf.Tensor[];
    expect(Array.from(h1.dataSync())).toEqual(Array.from(h0.dataSync()));
    expect(Array.from(c1.dataSync())).toEqual(Array.from(c0.dataSync()));

    const wrapped = zipSync(Object.fromEntries([...files].map(([n, b]) => [`my-run/${n}`, b])));
    expect((await importBundle(unzipBundle(wrapped))).meta.class.id).toBe(1);
    await expect(importBundle(new Map([[kPoselabJson, files.get(kPoselabJson)!]]))).rejects.toThrow(/model\.json missing/);
    // A dataset given as a bundle: its first files, how many more, and what it is; never every name.
    const dataset: BundleFiles = new Map(Array.from({ length: 300 }, (_, i) => [`lm/test/000001/rgb/${String(i).padStart(6, '0')}.png`, new Uint8Array(1)]));
    dataset.set('lm/test/000001/scene_gt.json', new Uint8Array(1));
    await expect(importBundle(dataset)).rejects.toThrow(/^bundle: poselab\.json missing \(301 files: lm\/test\/000001\/rgb\/000000\.png, .*, \.\.\. and 293 more; these are a dataset's files, not a bundle's\)$/);
    expect(() => unzipBundle(new Uint8Array([1, 2, 3]))).toThrow(/not a readable zip/);
    // A JSON file given as the bundle (its poselab.json, say) is named as what it is.
    expect(() => unzipBundle(files.get(kPoselabJson)!)).toThrow(/^bundle: not a readable zip \(it is text\)$/);
    engine.dispose();
  });

  it('a weights file shorter or longer than its manifest needs is named, with the bytes needed and found', async () => {
    const cfg = tinyConfig();
    const engine = new TrainingEngine(await fixtureData(cfg), cfg);
    const files = await exportEngine(engine);
    engine.dispose();
    const whole = files.get(kWeightsBin)!;
    const cut = new Map(files).set(kWeightsBin, whole.slice(0, 138));
    await expect(importBundle(cut)).rejects.toThrow(
      `bundle: weights.bin has 138 bytes, shorter than the ${whole.length} bytes model.json's weightsManifest needs (truncated?)`);
    const loc = files.get(kLocaliserBin)!;
    const cutLoc = new Map(files).set(kLocaliserBin, loc.slice(0, loc.length - 4));
    await expect(importBundle(cutLoc)).rejects.toThrow(
      `bundle: localiser.weights.bin has ${loc.length - 4} bytes, shorter than the ${loc.length} bytes localiser.json's weightsManifest needs`);
    const long = new Map(files).set(kWeightsBin, new Uint8Array(whole.length + 8));
    await expect(importBundle(long)).rejects.toThrow(`bundle: weights.bin has ${whole.length + 8} bytes, longer than the ${whole.length} bytes`);
  });

  it('poselab.json fields that prediction reads are checked by path and value (the outline by shape and scale); a bundle without an outline still loads, unrefined', async () => {
    const cfg = tinyConfig();
    const engine = new TrainingEngine(await fixtureData(cfg), cfg);
    const files = await exportEngine(engine);
    engine.dispose();
    const meta = JSON.parse(new TextDecoder().decode(files.get(kPoselabJson))) as BundleMeta;
    const withOutline = (o: unknown) => new Map(files).set(kPoselabJson, new TextEncoder().encode(JSON.stringify({ ...meta, crop: { ...meta.crop, outlineMm: o } })));
    for (const bad of [[], [[1, 2]], [[1, 2, null]], 'box', [[1, 2, 3], [4, 5, 'x']], [[1, 2, 3]]]) {
      await expect(importBundle(withOutline(bad)), JSON.stringify(bad)).rejects.toThrow(
        `bundle: poselab.json crop.outlineMm = ${JSON.stringify(bad)}: expected a list of at least 4 [x, y, z] finite numbers (mm)`);
    }
    // The right shape at the wrong scale (metres, or another object's) would misplace every refined crop.
    const own = meta.crop.outlineMm!;
    for (const scale of [1e-3, 1e6]) {
      await expect(importBundle(withOutline(own.map((r) => r.map((v) => v * scale)))), String(scale)).rejects.toThrow(
        /bundle: poselab\.json crop\.outlineMm spans [0-9.e+-]+ mm \(its box's diagonal\), not within 0\.5 to 2 times class\.diameterMm = [0-9.]+ mm/);
    }
    // Every field prediction reads is checked, all problems at once, each by its path and value.
    const edited = (f: (m: Record<string, any>) => void) => {
      const m = JSON.parse(JSON.stringify(meta)) as Record<string, any>;
      f(m);
      return new Map(files).set(kPoselabJson, new TextEncoder().encode(JSON.stringify(m)));
    };
    const several = importBundle(edited((m) => {
      m.keypointsMm[1][2] = 'x';
      delete m.crop.padding;
      m.localiser.minScore = 7;
      m.input.std = [0, 0, 0];
    }));
    await expect(several).rejects.toThrow([
      'bundle: poselab.json keypointsMm = ' + JSON.stringify(meta.keypointsMm.map((r, i) => (i === 1 ? [r[0], r[1], 'x'] : r))) + ': expected a list of at least 4 [x, y, z] finite numbers (mm)',
      'bundle: poselab.json input.std = [0,0,0]: expected 3 numbers > 0',
      'bundle: poselab.json crop.padding = missing: expected a number >= 0',
      'bundle: poselab.json localiser.minScore = 7: expected a score in [0, 1]',
    ].join('\n'));
    await expect(importBundle(edited((m) => { delete m.crop; }))).rejects.toThrow('bundle: poselab.json crop = missing: expected an object with padding (and outlineMm)');
    await expect(importBundle(edited((m) => { m.crop = 'x'; }))).rejects.toThrow('bundle: poselab.json crop = "x": expected an object with padding (and outlineMm)');
    await expect(importBundle(edited((m) => { m.dataset = { name: 3 }; }))).rejects.toThrow(
      'bundle: poselab.json dataset.name = 3: expected a string without control characters\nbundle: poselab.json dataset.format = missing: expected a string without control characters');
    await expect(importBundle(edited((m) => { m.dataset = null; }))).rejects.toThrow('bundle: poselab.json dataset = null: expected an object with name and format');
    await expect(importBundle(edited((m) => { m.dataset = { name: 'a\nevaluated on FAKE', format: 'bop' }; }))).rejects.toThrow(
      'bundle: poselab.json dataset.name = "a\\nevaluated on FAKE": expected a string without control characters');
    const old = await importBundle(withOutline(undefined));
    expect(old.outlineMm).toBeUndefined();
    expect(bundlePredictor(old).outlineMm).toBeUndefined();
  });

  it('a bundle written before loss.poseError existed imports with the reprojection loss it was trained with', async () => {
    const cfg = tinyConfig({ loss: { poseError: '3d' } });
    const engine = new TrainingEngine(await fixtureData(cfg), cfg);
    const files = await exportEngine(engine);
    engine.dispose();
    const meta = JSON.parse(new TextDecoder().decode(files.get(kPoselabJson))) as BundleMeta;
    expect(meta.config.loss.poseError).toBe('3d');
    delete (meta.config.loss as Partial<typeof meta.config.loss>).poseError;
    const old = await importBundle(new Map(files).set(kPoselabJson, new TextEncoder().encode(JSON.stringify(meta))));
    expect(old.meta.config.loss.poseError).toBe('reprojection');
    // A value that is neither is named, not read as either.
    (meta.config.loss as { poseError: string }).poseError = '3D';
    await expect(importBundle(new Map(files).set(kPoselabJson, new TextEncoder().encode(JSON.stringify(meta))))).rejects.toThrow(
      'config.loss.poseError = "3D": must be \'reprojection\' or \'3d\'');
  });

  it('poselab.json\'s step and config are checked, naming the file; a checkpoint of another step is not taken for the bundle\'s', async () => {
    const files = await twoStepBundle();
    const edit = (name: string, change: (j: any) => void) => editedJson(files, name, change);
    await expect(importBundle(edit(kPoselabJson, (j) => { j.step = -5; }))).rejects.toThrow('step = -5: expected the training steps done, an integer >= 0');
    await expect(importBundle(edit(kPoselabJson, (j) => { j.config.optim.lr = 0; }))).rejects.toThrow('bundle: poselab.json: config.optim.lr = 0: must be > 0');
    const other = await importBundle(edit('checkpoint.json', (j) => { j.step = 99; }));
    expect(other.checkpoint).toBeUndefined();
    expect(other.checkpointProblem).toBe('checkpoint: checkpoint.json is at step 99, poselab.json at step 2: they are not of one export');
    await expect(bundleResume(other)).rejects.toThrow(/^checkpoint: checkpoint\.json is at step 99, .*\(remove checkpoint\.json and checkpoint\.bin to continue from the weights alone/);
    for (const b of [other]) { b.model.dispose(); b.localiser?.dispose(); }
  });

  it('a bundle and checkpoint written before optim.emaDecay, data.fineShare and the occluder and background rates existed import as runs without a weight average, fine crops or occluders, and continue', async () => {
    const cfg = tinyConfig({ optim: { steps: 2 } });
    const files = await twoStepBundle({ data: { occlusionProb: 0.3, backgroundProb: 0.2 } });
    // And before data.fineShare existed: every crop jittered alike; before the rates were settings: no occluder, half the backgrounds replaced.
    const strip = (j: any) => {
      delete j.config.optim.emaDecay; delete j.config.data.fineShare; delete j.config.data.fineScaleJitter; delete j.config.data.fineShiftJitter;
      delete j.config.data.occlusionProb; delete j.config.data.backgroundProb;
    };
    const kept = await importBundle(files);
    expect([kept.meta.config.data.occlusionProb, kept.meta.config.data.backgroundProb, kept.checkpoint?.config.data.occlusionProb]).toEqual([0.3, 0.2, 0.3]);
    kept.model.dispose();
    kept.localiser?.dispose();
    const old = editedJson(editedJson(files, kPoselabJson, strip), 'checkpoint.json', strip);
    const b = await importBundle(old);
    expect([b.meta.config.optim.emaDecay, b.checkpoint?.config.optim.emaDecay, b.checkpoint?.average]).toEqual([0, 0, undefined]);
    for (const c of [b.meta.config, b.checkpoint!.config]) {
      expect([c.data.fineShare, c.data.fineScaleJitter, c.data.fineShiftJitter, c.data.occlusionProb, c.data.backgroundProb]).toEqual([0, 0, 0, 0, 0.5]);
    }
    const r = await bundleResume(b, 3);
    const more = new TrainingEngine(await fixtureData(cfg), r.checkpoint.config, { resume: r.checkpoint, finalEval: false });
    expect(more.inferenceModel).toBe(more.model);
    await more.start();
    expect(more.step).toBe(3);
    more.dispose();
    b.model.dispose();
    b.localiser?.dispose();
  });

  it('poselab.json records the networks\' SHA-256; networks of another export are named on import, not thrown; continuing takes a whole checkpoint only', async () => {
    const files = await twoStepBundle();
    const meta = JSON.parse(new TextDecoder().decode(files.get(kPoselabJson))) as BundleMeta;
    // The reference: node's own SHA-256 of each network file as exported.
    expect(meta.files).toEqual(Object.fromEntries([kModelJson, kWeightsBin, kLocaliserJson, kLocaliserBin].map((n) => [n, nodeSha256Hex(files.get(n)!)])));
    const whole = await importBundle(files);
    expect(whole.filesProblem).toBeUndefined();

    // One byte of weights.bin flipped: it still loads (the size is right), and the file is named.
    const flipped = new Uint8Array(files.get(kWeightsBin)!);
    flipped[flipped.length >> 1] ^= 0x40;
    const torn = await importBundle(new Map(files).set(kWeightsBin, flipped));
    // Both digests' first 12 hex digits: what poselab.json records, and node's own SHA-256 of the file found.
    const short = (name: string, bytes: Uint8Array) => `recorded ${meta.files![name].slice(0, 12)}..., found ${nodeSha256Hex(bytes).slice(0, 12)}...`;
    expect(torn.filesProblem).toBe(`bundle: weights.bin is not the file poselab.json records (SHA-256 ${short(kWeightsBin, flipped)}): the bundle's files come ` +
      'from two saves (one cut among its renames) or were changed since it was saved, so its networks are not those of poselab.json\'s step 2 and its metrics');
    // A localiser of another export of the same run (its untrained start), with the flipped weights: both named.
    const cfg = tinyConfig({ optim: { steps: 2 } });
    const start = new TrainingEngine(await fixtureData(cfg), cfg, { finalEval: false });
    const other = await exportEngine(start);
    start.dispose();
    expect(Buffer.compare(other.get(kLocaliserBin)!, files.get(kLocaliserBin)!), 'the two exports\' localisers differ').not.toBe(0);
    const mixed = await importBundle(new Map(files).set(kLocaliserBin, other.get(kLocaliserBin)!));
    expect(mixed.filesProblem).toMatch(/^bundle: localiser\.weights\.bin is not the file poselab\.json records /);
    const both = await importBundle(new Map(files).set(kLocaliserBin, other.get(kLocaliserBin)!).set(kWeightsBin, flipped));
    expect(both.filesProblem).toBe(`bundle: weights.bin and localiser.weights.bin are not the files poselab.json records (SHA-256 of weights.bin ${short(kWeightsBin, flipped)}; ` +
      `of localiser.weights.bin ${short(kLocaliserBin, other.get(kLocaliserBin)!)}): the bundle's files come from two saves (one cut among its renames) or were changed ` +
      'since it was saved, so its networks are not those of poselab.json\'s step 2 and its metrics');

    // Continuing: the checkpoint is whole and of poselab.json's step, so it is the bundle's own, said; without it, refused.
    const r = await bundleResume(torn);
    expect(r.exact).toBe(true);
    expect(r.checkpoint.step).toBe(2);
    whole.checkpoint!.weights.forEach((w, i) => expect(Array.from(r.checkpoint.weights[i].values)).toEqual(Array.from(w.values)));
    expect(r.notice).toBe(`${torn.filesProblem}; the run continues exactly from the checkpoint, which holds the weights of step 2`);
    expect((await bundleResume(whole)).notice).toBeUndefined();
    const noCheckpoint = new Map(new Map(files).set(kWeightsBin, flipped));
    noCheckpoint.delete('checkpoint.json');
    noCheckpoint.delete('checkpoint.bin');
    const bare = await importBundle(noCheckpoint);
    await expect(resumeCheckpoint(bare)).rejects.toThrow(`${torn.filesProblem}; it has no checkpoint, so nothing in it holds the weights of step 2: continue from another bundle of the run`);
    // Half a checkpoint: removing it (that problem's own remedy) would leave the wrong weights, so the networks are named first.
    const halfFiles = new Map(new Map(files).set(kWeightsBin, flipped));
    halfFiles.delete('checkpoint.bin');
    const half = await importBundle(halfFiles);
    await expect(resumeCheckpoint(half)).rejects.toThrow(/^bundle: weights\.bin is not the file .*; its checkpoint cannot be read \(checkpoint: checkpoint\.bin missing beside checkpoint\.json\), so nothing in it holds/);

    // A bundle written before the digests: no check, no word, even on a flipped byte.
    const before = await importBundle(editedJson(new Map(files).set(kWeightsBin, flipped), kPoselabJson, (j) => { delete j.files; }));
    expect([before.filesProblem, before.checkpointProblem]).toEqual([undefined, undefined]);
    for (const b of [whole, torn, mixed, both, bare, half, before]) { b.model.dispose(); b.localiser?.dispose(); }
  });

  it('a malformed files field in poselab.json is refused naming the field and value; a file it lists must be there', async () => {
    const files = await twoStepBundle();
    const withFiles = (f: unknown) => editedJson(files, kPoselabJson, (j) => { j.files = f; });
    const want = 'expected an object of file name -> SHA-256 digest (64 lowercase hex digits)';
    await expect(importBundle(withFiles('abc'))).rejects.toThrow(`bundle: poselab.json files = "abc": ${want}`);
    await expect(importBundle(withFiles(null))).rejects.toThrow(`bundle: poselab.json files = null: ${want}`);
    await expect(importBundle(withFiles([1]))).rejects.toThrow(`bundle: poselab.json files = [1]: ${want}`);
    const meta = JSON.parse(new TextDecoder().decode(files.get(kPoselabJson))) as BundleMeta;
    const digest = meta.files![kWeightsBin];
    for (const bad of [digest.slice(1), `${digest}0`, digest.toUpperCase(), 7]) {
      await expect(importBundle(withFiles({ ...meta.files, [kWeightsBin]: bad })), String(bad)).rejects.toThrow(
        `bundle: poselab.json files["weights.bin"] = ${JSON.stringify(bad)}: expected a SHA-256 digest, 64 lowercase hex digits`);
    }
    // A listed file that is absent: named as the files field's, before the localiser that would need it is read.
    const noLocBin = new Map(files);
    noLocBin.delete(kLocaliserBin);
    await expect(importBundle(noLocBin)).rejects.toThrow(/^bundle: localiser\.weights\.bin missing \(poselab\.json files lists it; 6 files: /);
  });

  it('poselab.json\'s files must list exactly the networks\' files: fewer would leave one unchecked, more would blame the networks', async () => {
    const files = await twoStepBundle();
    const meta = JSON.parse(new TextDecoder().decode(files.get(kPoselabJson))) as BundleMeta;
    const all = 'expected the SHA-256 of exactly the networks\' files, model.json, weights.bin, localiser.json, localiser.weights.bin';
    const refused = (f: Record<string, string>, wrong: string, localiser = true) => expect(importBundle(editedJson(files, kPoselabJson, (j) => {
      j.files = f;
      if (!localiser) delete j.localiser;
    }))).rejects.toThrow(`bundle: poselab.json files: ${wrong}: ${localiser ? all : 'expected the SHA-256 of exactly the networks\' files, model.json, weights.bin (poselab.json has no localiser)'}`);
    const { [kWeightsBin]: weights, ...withoutWeights } = meta.files!;
    // Empty, or without weights.bin: a flipped byte in weights.bin would go unseen.
    await refused({}, 'model.json, weights.bin, localiser.json, localiser.weights.bin missing');
    await refused(withoutWeights, 'weights.bin missing');
    const flipped = new Uint8Array(files.get(kWeightsBin)!);
    flipped[0] ^= 1;
    await expect(importBundle(editedJson(new Map(files).set(kWeightsBin, flipped), kPoselabJson, (j) => { j.files = withoutWeights; }))).rejects.toThrow('weights.bin missing');
    // poselab.json or the checkpoint listed: written after poselab.json, their digests cannot be its own.
    const poselab = nodeSha256Hex(files.get(kPoselabJson)!);
    await refused({ ...meta.files, [kPoselabJson]: poselab }, '"poselab.json" extra');
    await refused({ ...meta.files, 'checkpoint.bin': poselab, 'notes.txt': poselab }, '"checkpoint.bin", "notes.txt" extra');
    await refused({ ...withoutWeights, 'weights.bin ': weights }, 'weights.bin missing; "weights.bin " extra');
    // The localiser's files where poselab.json has none.
    await refused(meta.files!, '"localiser.json", "localiser.weights.bin" extra', false);
    // A bundle without a localiser: its two network files are all.
    const poseOnly = Object.fromEntries(Object.entries(meta.files!).filter(([n]) => n !== kLocaliserJson && n !== kLocaliserBin));
    const noLoc = editedJson(files, kPoselabJson, (j) => { delete j.localiser; j.files = poseOnly; });
    const b = await importBundle(noLoc);
    expect([b.filesProblem, b.localiser]).toEqual([undefined, undefined]);
    b.model.dispose();
  });
});
