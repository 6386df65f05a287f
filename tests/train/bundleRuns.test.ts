/**
 * A bundle put to work on a dataset as the worker and the command line both do it
 * (src/train/bundleRuns.ts): evaluated with its own keypoints and crops, its sample predictions
 * carrying the metrics' own errors, and continued from its checkpoint to a new total.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { decodePure } from '../../src/data/decode/pure';
import { extremePoints } from '../../src/data/keypoints';
import { loadDataset } from '../../src/data/load';
import { MemorySource } from '../../src/data/source/source';
import { useCpuBackend } from '../../src/kernels/setup';
import { exportEngine, importBundle, type LoadedBundle } from '../../src/train/bundle';
import { bundleData, bundleObject, bundleResume, evaluateBundle } from '../../src/train/bundleRuns';
import { datasetTrainingData } from '../../src/train/datasetTrainingData';
import { TrainingEngine } from '../../src/train/engine';
import { rotationErrorDeg, translationErrorMm } from '../../src/train/metrics';
import { bopFixture } from '../data/fixtures';
import { fixtureData, tinyConfig } from './fixtureData';

beforeAll(async () => {
  await useCpuBackend();
});

describe('bundle runs', () => {
  it('evaluates a bundle on a dataset and continues it', async () => {
    const cfg = tinyConfig({ optim: { steps: 3 } });
    const engine = new TrainingEngine(await fixtureData(cfg), cfg, { finalEval: false });
    await engine.start();
    const b: LoadedBundle = await importBundle(await exportEngine(engine, { withCheckpoint: true }));
    engine.dispose();
    const ds = await loadDataset(new MemorySource('fixture', bopFixture()));

    expect(bundleObject(ds, b).id).toBe(1);
    const data = bundleData(ds, b, { decode: decodePure, evalSplit: 'test' });
    expect(Array.from(data.object.keypointsMm)).toEqual(Array.from(b.keypointsMm));
    // The refined crops use the bundle's outline, as predict does; an older bundle has none, and neither
    // refines (while training data, with no bundle, takes the mesh's).
    const outline = Float64Array.of(-1, -2, -3, 4, 5, 6, 7, -8, 9);
    expect(Array.from(bundleData(ds, { ...b, outlineMm: outline }, { decode: decodePure }).object.outlineMm!)).toEqual(Array.from(outline));
    expect(bundleData(ds, { ...b, outlineMm: undefined }, { decode: decodePure }).object.outlineMm).toBeUndefined();
    const mesh = ds.objects.find((o) => o.id === 1)!.mesh!;
    expect(Array.from(datasetTrainingData(ds, b.meta.config, { decode: decodePure, objId: 1 }).object.outlineMm!)).toEqual(Array.from(extremePoints(mesh.positions)));
    const oracle = await evaluateBundle(b, data, { crops: 'oracle', samples: 2 });
    expect(oracle.metrics.crops).toBe('oracle');
    expect(oracle.metrics.instances).toBe(data.testCount);
    expect(oracle.samples).toHaveLength(2);
    for (const s of oracle.samples) {
      const i = oracle.instances.find((x) => x.imageKey === s.imageKey)!;
      expect(s.objId).toBe(1);
      // The tile's errors are the instance's, as the metrics counted them.
      expect(s.errors.addMm).toBe(i.addMm);
      expect(s.errors.rotDeg).toBe(rotationErrorDeg(s.est.R, s.gt.R));
      expect(s.errors.transMm).toBe(translationErrorMm(s.est.tMm, s.gt.tMm));
      expect(s.errors.keypointPx).toBeGreaterThanOrEqual(0);
    }
    const detected = await evaluateBundle(b, data, { crops: 'detected' });
    expect(detected.metrics.crops).toBe('detected');
    // Without an outline nothing is refined: each pose is the first crop's.
    const older = { ...b, outlineMm: undefined };
    const unrefined = await evaluateBundle(older, bundleData(ds, older, { decode: decodePure, evalSplit: 'test' }), { crops: 'detected' });
    expect(unrefined.instances.every((x) => x.refinedBoxPx === undefined)).toBe(true);
    expect(detected.instances.some((x) => x.refinedBoxPx !== undefined)).toBe(true);

    const r = await bundleResume(b, 5);
    expect(r.objId).toBe(1);
    expect(r.checkpoint.step).toBe(3);
    expect(r.checkpoint.config.optim.steps).toBe(5);
    const more = new TrainingEngine(await fixtureData(r.checkpoint.config), r.checkpoint.config, { resume: r.checkpoint, finalEval: false });
    expect((await more.start()).step).toBe(5);
    more.dispose();
    expect(b.checkpoint!.config.optim.steps).toBe(3);

    const other = { ...b, meta: { ...b.meta, class: { ...b.meta.class, id: 9 } } };
    expect(() => bundleObject(ds, other)).toThrow(/object 9 .* which the dataset does not have \(objects: 1, 2\)/);
    b.model.dispose();
    b.localiser?.dispose();
  });
});
