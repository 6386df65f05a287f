/**
 * The worker's bundle import (src/worker/bundleHost.ts, tryIt.ts): what the page says of an imported bundle, a
 * checkpoint that cannot be read included (evaluation uses the weights alone; continuing refuses it), and a bundle
 * whose networks are of another save than its poselab.json's (evaluating and Try-it refuse it; continuing says so).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadDataset } from '../../src/data/load';
import { MemorySource } from '../../src/data/source/source';
import { useCpuBackend } from '../../src/kernels/setup';
import { bundleWriteOrder, exportEngine, importBundle, kPartial, kWeightsBin, zipBundle } from '../../src/train/bundle';
import { bundleResume } from '../../src/train/bundleRuns';
import { TrainingEngine } from '../../src/train/engine';
import type { Checkpoint } from '../../src/train/checkpoint';
import { importRunBundle, importSummary, refuseNetworksOfAnotherSave, type ImportTarget } from '../../src/worker/bundleHost';
import type { EngineUiEvent } from '../../src/worker/protocol';
import { TryIt } from '../../src/worker/tryIt';
import { bopFixture } from '../data/fixtures';
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
    expect(b.filesProblem).toMatch(/^bundle: weights\.bin is not the file poselab\.json records/);
    const refusal = `${b.filesProblem!}; continue its run instead: import it with "import to continue training" in the Export and import panel (its ` +
      'checkpoint carries the weights of step 1, and the bundle the run then exports holds every file of one save)';
    expect(() => refuseNetworksOfAnotherSave(b)).toThrow(refusal);
    // The import it names is the Export and import panel's, as the page labels it.
    const panel = readFileSync(join(__dirname, '..', '..', 'src', 'ui', 'panels', 'ExportPanel.tsx'), 'utf8');
    expect([panel.includes('<h2>Export and import</h2>'), panel.includes('>import to continue training</option>')]).toEqual([true, true]);
    const bare = new Map(torn);
    bare.delete('checkpoint.json');
    bare.delete('checkpoint.bin');
    const noCheckpoint = await importBundle(bare);
    expect(() => refuseNetworksOfAnotherSave(noCheckpoint)).toThrow(`${b.filesProblem!}; it holds no whole checkpoint of step 1 to rebuild them from: ` +
      'import another copy of this bundle, or another bundle of the run');

    // Through the worker's import (importRunBundle), the run a stand-in that records what it is asked to do.
    const ds = await loadDataset(new MemorySource('fixture', bopFixture()));
    const begun: (Checkpoint | undefined)[] = [];
    const events: EngineUiEvent[] = [];
    let stops = 0;
    const target: ImportTarget = {
      ds,
      run: {
        stop: () => { stops++; return Promise.resolve(); },
        setHistory: () => undefined,
        begin: async (_ds, _s, opts) => {
          begun.push(opts?.resume);
          return fixtureData(cfg);
        },
      },
      emit: (e) => events.push(e),
      useKeypoints: () => undefined,
    };
    // To evaluate: refused with the page's remedy, before anything is evaluated or started.
    await expect(importRunBundle(zipBundle(torn), 'evaluate', target)).rejects.toThrow(refusal);
    // The live run is stopped only for a bundle that is used: a refused one, or one that is not a bundle, leaves it going.
    await expect(importRunBundle(new TextEncoder().encode('not a zip'), 'evaluate', target)).rejects.toThrow();
    // To continue, networks of another save and no checkpoint to rebuild them from: refused as well.
    await expect(importRunBundle(zipBundle(bare), 'continue', target)).rejects.toThrow(/^bundle: weights\.bin is not the file poselab\.json records/);
    expect([events, begun, stops]).toEqual([[], [], 0]);
    // To continue: the run starts from the checkpoint (poselab.json's step), and the page says what it took and what it exports next.
    const continued = await importRunBundle(zipBundle(torn), 'continue', target);
    const r = await bundleResume(b);
    expect(r.notice).toBe(`${b.filesProblem!}; the run continues exactly from the checkpoint, which holds the weights of step 1`);
    expect(continued).toEqual({
      summary: `model for object 1 (${ds.objects[0].name}) at step 1; ${r.notice!}, and the bundle it exports next holds every file of one save`, step: 1, hasCheckpoint: true,
    });
    expect(begun.map((c) => c?.step)).toEqual([1]);
    expect(stops).toBe(1);
    b.checkpoint!.weights.forEach((w, i) => expect(Array.from(begun[0]!.weights[i].values), w.name).toEqual(Array.from(w.values)));

    // A zip made of a folder whose later save was cut before any rename: the older save whole, the later one whole under
    // its temporary names. Evaluating, continuing and trying it would go back a save: refused, saying what to do.
    const cut = new Map(first);
    for (const [n, bytes] of files) cut.set(n + kPartial, bytes);
    const renames = bundleWriteOrder([...files.keys()]).map((n) => `${n}.partial to ${n}`).join(', then ');
    const cutRefusal = 'bundle: the zip was made of a folder whose save was cut among its renames: its later save, of step 1, is whole in its .partial entries ' +
      `and is the run's newest state; unzip it, rename ${renames}, and import the folder zipped again`;
    expect(renames).toMatch(/^model\.json\.partial to model\.json, .*, then poselab\.json\.partial to poselab\.json, then checkpoint\.bin\.partial to checkpoint\.bin, then checkpoint\.json\.partial to checkpoint\.json$/);
    for (const mode of ['evaluate', 'continue'] as const) await expect(importRunBundle(zipBundle(cut), mode, target)).rejects.toThrow(cutRefusal);
    expect([events.length, begun.length, stops]).toEqual([0, 1, 1]);

    // Try it: refused, the message as the page shows it, and the bundle imported before stays.
    const tryIt = new TryIt(() => undefined, () => undefined);
    expect((await tryIt.importBundle(zipBundle(files))).bundle?.step).toBe(1);
    await expect(tryIt.importBundle(zipBundle(torn))).rejects.toThrow(refusal);
    await expect(tryIt.importBundle(zipBundle(cut))).rejects.toThrow(cutRefusal);
    // A person's notes.txt.partial in a whole bundle's zip is no cut save: imported.
    const notes = new Map(files).set('notes.txt.partial', new TextEncoder().encode('mine'));
    expect((await tryIt.importBundle(zipBundle(notes))).bundle?.step).toBe(1);
    expect(tryIt.status('bundle').bundle?.step).toBe(1);
    for (const x of [whole, b, noCheckpoint]) { x.model.dispose(); x.localiser?.dispose(); }
  });
});
