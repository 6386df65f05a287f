/**
 * The training batches cut on a thread of their own (`npm run train` on the CPU backends) are the batches
 * the first thread cuts, bit for bit (crops, crop K, poses, keypoints, heatmap targets, the localiser's
 * views), across epochs; an engine reading them trains exactly as one cutting its own; a training image the
 * thread cannot read is told once, by file, and the batch still equals the first thread's; a thread that
 * cannot open its dataset, or was stopped, says so instead of leaving a step waiting.
 */
import { build } from 'esbuild';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodePure } from '../../src/data/decode/pure';
import { loadDataset } from '../../src/data/load';
import { openNodePath } from '../../src/data/source/node';
import { useCpuBackend } from '../../src/kernels/setup';
import { placeBatches, startBatchThread, type BatchThread } from '../../src/node/batchThread';
import { ownBuffers, type BatchThreadArgs } from '../../src/node/batchThread.worker';
import { makeConfig, type TrainConfig } from '../../src/train/config';
import { datasetTrainingData, type DatasetTrainingData } from '../../src/train/datasetTrainingData';
import { TrainingEngine, type EngineOptions } from '../../src/train/engine';
import { trainableVariables } from '../../src/train/model';
import { TrainBatches, type TrainBatch } from '../../src/train/trainBatches';
import { bopFixture, writeTree } from '../data/fixtures';

const dir = mkdtempSync(join(tmpdir(), 'poselab-batch-thread-'));
const dataset = writeTree(bopFixture(), join(dir, 'fixture'));
const cfg: TrainConfig = makeConfig('tiny', { optim: { steps: 4 }, loss: { warmupSteps: 2, betaRampSteps: 2 } });

async function firstThreadData(path: string): Promise<DatasetTrainingData> {
  return datasetTrainingData(await loadDataset(await openNodePath(path)), cfg, { decode: decodePure, objId: 1 });
}

function threadOn(path: string, data: DatasetTrainingData, onUnreadable?: (reason: string) => void): Promise<BatchThread> {
  return startBatchThread(argsFor(path, data), onUnreadable);
}

function argsFor(path: string, data: DatasetTrainingData): BatchThreadArgs {
  return { datasetPath: path, config: cfg, objId: 1, keypointsMm: data.object.keypointsMm, cacheBytes: 2 ** 28, trainKeys: data.trainKeys };
}

function expectSameBatch(a: TrainBatch, b: TrainBatch): void {
  for (const f of ['image', 'kCrop', 'poseGt', 'kpGtPx', 'targets'] as const) expect(a[f], f).toEqual(b[f]);
  expect(a.views.length).toBe(b.views.length);
  a.views.forEach((v, i) => {
    expect(v.image, `view ${i}`).toEqual(b.views[i].image);
    expect(v.window).toEqual(b.views[i].window);
    expect(v.boxViewPx).toEqual(b.views[i].boxViewPx);
  });
}

describe('the training batches on a thread of their own', () => {
  const threads: BatchThread[] = [];
  beforeAll(async () => {
    await useCpuBackend('wasm');
  });
  afterAll(() => threads.forEach((t) => t.dispose()));

  it('are the first thread\'s batches, bit for bit, across epochs', async () => {
    const data = await firstThreadData(dataset);
    const thread = await threadOn(dataset, data);
    threads.push(thread);
    const here = new TrainBatches(data, cfg);
    // The fixture's object has 3 training instances: steps 0 to 5 of batch 4 cover 8 epochs' orders.
    expect(data.trainCount * 2).toBeLessThan(6 * cfg.optim.batchSize);
    for (let step = 0; step < 6; step++) expectSameBatch(await thread.load(step), await here.load(step));
    // Different steps are different batches (equality of two copies of one batch would pass the above).
    expect((await thread.load(0)).image).not.toEqual((await thread.load(1)).image);
  }, 60_000);

  it('an engine reading them trains exactly as one cutting its own', async () => {
    const data = await firstThreadData(dataset);
    const train = async (opts: EngineOptions) => {
      const e = new TrainingEngine(data, cfg, { finalEval: false, ...opts });
      await e.start();
      const w = await Promise.all(trainableVariables(e.model).map(async (v) => Array.from(await v.data())));
      e.dispose();
      return w;
    };
    const fresh = new TrainingEngine(data, cfg, { finalEval: false });
    const start = await Promise.all(trainableVariables(fresh.model).map(async (v) => Array.from(await v.data())));
    fresh.dispose();
    const own = await train({});
    const thread = await threadOn(dataset, data);
    let loads = 0;
    const threaded = await train({ batches: { load: (step) => { loads++; return thread.load(step); }, dispose: () => thread.dispose() } });
    expect(loads).toBe(cfg.optim.steps); // every batch came from the thread
    expect(threaded).toEqual(own);
    expect(own).not.toEqual(start);
  }, 60_000);

  it('tell each unreadable training image once, by file, and still cut the first thread\'s batches', async () => {
    const broken = writeTree(bopFixture(), join(dir, 'broken'));
    writeFileSync(join(broken, 'lmfix', 'train', '000000', 'rgb', '000001.png'), 'not a png');
    const data = await firstThreadData(broken);
    const told: string[] = [];
    const thread = await threadOn(broken, data, (r) => told.push(r));
    threads.push(thread);
    const here = new TrainBatches(data, cfg);
    for (let step = 0; step < 4; step++) expectSameBatch(await thread.load(step), await here.load(step));
    expect(told).toHaveLength(1);
    expect(told[0]).toMatch(/train\/000000\/rgb\/000001\.png: cannot be decoded/);
    expect(thread.unreadable().map((u) => u.file)).toEqual(data.unreadable().map((u) => u.file));
    expect(thread.unreadable()[0].file).toMatch(/000001\.png$/);
  }, 60_000);

  it('say why when the dataset cannot be opened there, or the thread was stopped', async () => {
    await expect(startBatchThread({ datasetPath: join(dir, 'missing'), config: cfg, objId: 1, keypointsMm: new Float64Array(3), cacheBytes: 2 ** 20, trainKeys: [] }))
      .rejects.toThrow(/missing/);
    const data = await firstThreadData(dataset);
    const thread = await threadOn(dataset, data);
    thread.dispose();
    await expect(thread.load(0)).rejects.toThrow(/the batches' thread was stopped/);
  }, 60_000);

  it('refuse to start on a dataset whose training instances changed since the first thread read it', async () => {
    const changing = writeTree(bopFixture(), join(dir, 'changing'));
    const data = await firstThreadData(changing);
    rmSync(join(changing, 'lmfix', 'train', '000000', 'rgb', '000001.png'));
    rmSync(join(changing, 'lmfix', 'train', '000000', 'mask_visib'), { recursive: true });
    rmSync(join(changing, 'lmfix', 'train', '000000', 'mask'), { recursive: true });
    await expect(threadOn(changing, data)).rejects.toThrow(/changing changed since it was opened: 3 training instances then, \d+ now \(the first to differ: .*#0 then/);
  }, 60_000);

  it('once the thread has failed, the run\'s batches come from the first thread, the same bytes, and it is said', async () => {
    const data = await firstThreadData(dataset);
    const said: string[] = [];
    const here = new TrainBatches(data, cfg);
    const placed = await placeBatches('wasm', argsFor(dataset, data), () => {}, () => new TrainBatches(data, cfg), (m) => said.push(m));
    expect(placed.where).toBe('batches cut on a thread of their own');
    const batches = placed.batches!;
    expectSameBatch(await batches.load(0), await here.load(0));
    // A stopped thread stands for one that crashed: its calls reject with its failure.
    batches.dispose();
    expectSameBatch(await batches.load(1), await here.load(1));
    expectSameBatch(await batches.load(2), await here.load(2));
    expect(said).toEqual(['the batches\' thread was stopped: batches cut on the first thread from step 1']);
  }, 60_000);

  it('start without TensorFlow.js: nothing the thread imports is a @tensorflow package', async () => {
    const r = await build({ entryPoints: ['src/node/batchThread.worker.ts'], bundle: true, platform: 'node', format: 'esm', write: false, metafile: true, logLevel: 'silent' });
    const inputs = Object.keys(r.metafile.inputs);
    expect(inputs.some((p) => p.includes('src/train/trainBatches.ts')), 'the graph was read').toBe(true);
    expect(inputs.filter((p) => p.includes('@tensorflow'))).toEqual([]);
  });

  it('move every array of a batch without a copy (each owns its whole buffer)', async () => {
    const data = await firstThreadData(dataset);
    const b = await new TrainBatches(data, cfg).load(0);
    const arrays = [b.image, b.kCrop, b.poseGt, b.kpGtPx, b.targets, ...b.views.flatMap((v) => [v.image, v.boxViewPx])];
    expect(new Set(ownBuffers(b))).toEqual(new Set(arrays.map((a) => a.buffer)));
  });
});
