/**
 * The worker's bundle import (src/worker/bundleHost.ts): what the page says of an imported bundle, a checkpoint
 * that cannot be read included (evaluation uses the weights alone; continuing refuses it).
 */
import { describe, expect, it } from 'vitest';
import { useCpuBackend } from '../../src/kernels/setup';
import { exportEngine, importBundle } from '../../src/train/bundle';
import { TrainingEngine } from '../../src/train/engine';
import { importSummary } from '../../src/worker/bundleHost';
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
