/**
 * The worker's bundle import (src/worker/bundleHost.ts, tryIt.ts): what the page says of an imported bundle, a
 * checkpoint that cannot be read included (evaluation uses the weights alone; continuing refuses it), and a bundle
 * whose networks are of another save than its poselab.json's (evaluating and Try-it refuse it; continuing says so).
 */
import { describe, expect, it } from 'vitest';
import { useCpuBackend } from '../../src/kernels/setup';
import { exportEngine, importBundle, kWeightsBin, zipBundle } from '../../src/train/bundle';
import { bundleResume } from '../../src/train/bundleRuns';
import { TrainingEngine } from '../../src/train/engine';
import { importSummary, refuseNetworksOfAnotherSave } from '../../src/worker/bundleHost';
import { TryIt } from '../../src/worker/tryIt';
import { fixtureData, tinyConfig } from '../train/fixtureData';

describe('an imported bundle whose checkpoint cannot be read', () => {
  it('is said so on the page, beside what the bundle holds', async () => {
    await useCpuBackend('cpu');
    const cfg = tinyConfig({ optim: { steps: 1 } });
    const engine = new TrainingEngine(await fixtureData(cfg), cfg, { finalEval: false });
    await engine.start();
    const files = await exportEngine(engine, { withCheckpoint: true });
    engine.dispose();
    const whole = await importBundle(files);
    expect(importSummary(whole, { id: 1, name: 'obj_000001' })).toBe('model for object 1 (obj_000001) at step 1');
    const half = new Map(files);
    half.delete('checkpoint.bin');
    const b = await importBundle(half);
    expect(importSummary(b, { id: 1, name: 'obj_000001' })).toBe(
      'model for object 1 (obj_000001) at step 1; its checkpoint cannot be read (checkpoint: checkpoint.bin missing beside checkpoint.json), so only its weights are used');
    for (const x of [whole, b]) { x.model.dispose(); x.localiser?.dispose(); }
  });
});

describe('an imported bundle whose networks are of another save than its poselab.json', () => {
  it('is refused for evaluation and Try-it with the problem and the page\'s remedy; continuing it says so', async () => {
    await useCpuBackend('cpu');
    // Two saves of one run: its start (step 0) and step 1; the second's poselab.json and checkpoint beside the first's weights.bin.
    const cfg = tinyConfig({ optim: { steps: 1 } });
    const engine = new TrainingEngine(await fixtureData(cfg), cfg, { finalEval: false });
    const first = await exportEngine(engine, { withCheckpoint: true });
    await engine.start();
    const files = await exportEngine(engine, { withCheckpoint: true });
    engine.dispose();
    const torn = new Map(files).set(kWeightsBin, first.get(kWeightsBin)!);
    const whole = await importBundle(files);
    expect(() => refuseNetworksOfAnotherSave(whole)).not.toThrow();
    const b = await importBundle(torn);
    expect(() => refuseNetworksOfAnotherSave(b)).toThrow(`${b.filesProblem!}; import it to continue training instead (its checkpoint carries the weights of step 1, ` +
      'and the bundle the run then exports holds every file of one save), or import the run\'s final bundle');
    expect(b.filesProblem).toMatch(/^bundle: weights\.bin is not the file poselab\.json records/);
    const r = await bundleResume(b);
    expect(importSummary(b, { id: 1, name: 'obj_000001' }, r.notice)).toBe(`model for object 1 (obj_000001) at step 1; ${r.notice!}`);
    expect(r.notice).toMatch(/^bundle: weights\.bin is not .*; the run continues exactly from the checkpoint, which holds the weights of step 1/);
    const bare = new Map(torn);
    bare.delete('checkpoint.json');
    bare.delete('checkpoint.bin');
    const noCheckpoint = await importBundle(bare);
    expect(() => refuseNetworksOfAnotherSave(noCheckpoint)).toThrow(/; it holds no whole checkpoint of step 1 to rebuild them from: import another bundle of the run \(its final one\)$/);

    // Try it: refused, the message as the page shows it, and the bundle imported before stays.
    const tryIt = new TryIt(() => undefined, () => undefined);
    expect((await tryIt.importBundle(zipBundle(files))).bundle?.step).toBe(1);
    await expect(tryIt.importBundle(zipBundle(torn))).rejects.toThrow(/^bundle: weights\.bin is not the file .*; import it to continue training instead/);
    expect(tryIt.status('bundle').bundle?.step).toBe(1);
    for (const x of [whole, b, noCheckpoint]) { x.model.dispose(); x.localiser?.dispose(); }
  });
});
