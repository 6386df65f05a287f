/**
 * The localiser: its box arithmetic against hand-made cases; a short training on the bundled renders
 * finds the object in them (IoU >= 0.5 against the ground truth's box; how well it does on images it
 * never saw is a benchmark, in the README); and an
 * evaluation with detected crops reads no ground truth before the errors (corrupting the test split's
 * GT poses leaves every prediction unchanged).
 */
import * as tf from '@tensorflow/tfjs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodePure } from '../../src/data/decode/pure';
import { loadDataset } from '../../src/data/load';
import { openNodePath } from '../../src/data/source/node';
import { useCpuBackend } from '../../src/kernels/setup';
import { makeConfig } from '../../src/train/config';
import { datasetTrainingData } from '../../src/train/datasetTrainingData';
import { evaluate, predictBatch } from '../../src/train/evaluate';
import { boxImageToView, boxViewToImage } from '../../src/data/crop';
import { boxIou, decodeView, detectObjects, Localiser, viewWindow } from '../../src/train/localiser';
import { buildModel } from '../../src/train/model';

const kBundled = join(__dirname, '..', '..', 'public', 'datasets', 'poselab-toy');

beforeAll(async () => {
  await useCpuBackend('wasm');
});

describe('localiser arithmetic', () => {
  it('view <-> image boxes invert each other; the window letterboxes the long side', () => {
    const w = viewWindow(640, 480, 64);
    expect(w).toEqual({ cxPx: 319.5, cyPx: 239.5, sidePx: 640, outPx: 64 });
    const box = [100, 50, 80, 120];
    const v = boxImageToView(box, w);
    // 10x smaller about the pixel-centre grid: u' = (u - 319.5) / 10 + 31.5; the 480-px side sits in
    // the middle of the 640-px square
    expect(Array.from(v).map((x) => +x.toFixed(9))).toEqual([9.55, 12.55, 8, 12]);
    expect(Array.from(boxViewToImage(v, w)).map((x) => +x.toFixed(9))).toEqual(box);
  });

  it('IoU of boxes', () => {
    expect(boxIou([0, 0, 10, 10], [0, 0, 10, 10])).toBe(1);
    expect(boxIou([0, 0, 10, 10], [5, 0, 10, 10])).toBeCloseTo(50 / 150, 12);
    expect(boxIou([0, 0, 10, 10], [20, 20, 5, 5])).toBe(0);
  });

  it('decodes a single peak: centre at the cell, size from the log maps, score near 1', () => {
    const side = 8;
    const out = new Float32Array(side * side * 3).fill(0);
    for (let i = 0; i < side * side; i++) {
      out[3 * i] = -50;
      out[3 * i + 1] = Math.log(0.25);
      out[3 * i + 2] = Math.log(0.5);
    }
    out[3 * (3 * side + 5)] = 50; // row 3, column 5
    const d = decodeView(out, side, 32);
    // cell 5's centre is at 4 * 5 + 1.5 = 21.5 px; sizes 0.25 and 0.5 of 32 px (logs stored as float32)
    expect(d.boxViewPx[0] + d.boxViewPx[2] / 2).toBeCloseTo(21.5, 9);
    expect(d.boxViewPx[1] + d.boxViewPx[3] / 2).toBeCloseTo(13.5, 9);
    expect(d.boxViewPx[2]).toBeCloseTo(8, 6);
    expect(d.boxViewPx[3]).toBeCloseTo(16, 6);
    expect(d.score).toBeCloseTo(1, 9);
    // a flat map: the peak is the first cell, a corner, and the mass within 2 cells of it 9 of 64
    for (let i = 0; i < side * side; i++) out[3 * i] = 0;
    expect(decodeView(out, side, 32).score).toBeCloseTo(9 / 64, 9);
  });
});

describe('localiser on the bundled renders', () => {
  it('after a short training it finds the object in the whole images (IoU >= 0.5 on most), and no tensor is left', async () => {
    const ds = await loadDataset(await openNodePath(kBundled));
    const cfg = makeConfig('tiny', {
      localiser: { model: { inputPx: 64, width: 8, depth: 1, blocks: 1, confidence: false, maxChannels: 32, heatmapStride: 4 }, batchSize: 8 },
      optim: { lr: 3e-3, lrWarmupSteps: 10 },
      // Unaugmented: a short run fits the images it trains on (augmentation needs far longer runs).
      data: { augment: false },
    });
    // evalSplit 'train': testView / test serve the training images, unaugmented.
    const data = datasetTrainingData(ds, cfg, { decode: decodePure, objId: 1, evalSplit: 'train' });
    const before = tf.memory().numTensors;
    const loc = new Localiser(cfg.localiser, cfg.optim, 1);
    // The first 200 training images, 24 times each, whatever the bundle's size; the 24 checked are among them.
    const kImages = Math.min(200, data.trainCount);
    let first = NaN;
    let last = NaN;
    for (let step = 0; step < 600; step++) {
      const views = await Promise.all(Array.from({ length: 8 }, (_, j) => data.trainView((step * 8 + j) % kImages, step * 8 + j, 1)));
      const l = await loc.trainStep(views, cfg.optim.lr, cfg.data);
      if (step === 0) first = l.centre + l.size;
      last = l.centre + l.size;
    }
    expect(last).toBeLessThan(first / 2);
    const n = 24;
    const ious: number[] = [];
    for (let i = 0; i < n; i++) {
      const [d] = await detectObjects(loc.model, [await data.testView(i)], cfg.data);
      ious.push(boxIou(d.boxPx, (await data.test(i)).gtBoxPx));
    }
    const found = ious.filter((x) => x >= 0.5).length;
    console.log(`[localiser] IoU >= 0.5 on ${found}/${n}; median IoU ${[...ious].sort((a, b) => a - b)[n >> 1].toFixed(2)}`);
    // 600 steps found 19, 16 and 22 of the 24 with seeds 1, 2 and 3 on the first bundle (300 steps: about 11, a
    // coin toss); 19 with seed 1 on the first 200 of the 500-image bundle.
    expect(found).toBeGreaterThanOrEqual(0.5 * n);
    loc.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('evaluation with detected crops', () => {
  it('reads no ground truth before the errors: corrupted test GT poses leave every prediction and crop unchanged', async () => {
    const cfg = makeConfig('tiny', { evalCrops: 'detected' });
    const run = async (corrupt: boolean) => {
      const ds = await loadDataset(await openNodePath(kBundled));
      const data = datasetTrainingData(ds, cfg, { decode: decodePure, objId: 1 });
      if (corrupt) {
        // Every test image's GT: another rotation and a translation 300 mm away.
        for (const im of ds.images) {
          if (!im.split.startsWith('test')) continue;
          for (const ins of im.instances) {
            ins.rM2c = Float64Array.from([0, 1, 0, -1, 0, 0, 0, 0, 1]);
            ins.tM2cMm = Float64Array.from([ins.tM2cMm[0] + 300, ins.tM2cMm[1] - 200, ins.tM2cMm[2] + 300]);
          }
        }
      }
      // Seeded initial weights: the same networks for both runs.
      const model = buildModel(cfg.model, data.object.keypointsMm.length / 3, 7);
      const localiser = buildModel({ ...cfg.localiser.model, confidence: false }, 3, 8);
      const r = await evaluate(model, data, { norm: cfg.data, batchSize: 4, maxInstances: 8, crops: { from: 'detected', localiser, minScore: 0 } });
      // A refined instance's pose is the network's on the crop around its first pose's outline (refine.ts):
      // that crop, cut and predicted alone, gives the same pose.
      const i = r.instances.findIndex((x) => x.refinedBoxPx !== undefined);
      expect(i).toBeGreaterThanOrEqual(0);
      const [alone] = await predictBatch(model, [await data.test(i, r.instances[i].refinedBoxPx)], data.object.keypointsMm, cfg.data);
      expect(Array.from(alone.R)).toEqual(Array.from(r.instances[i].R));
      expect(Array.from(alone.tMm)).toEqual(Array.from(r.instances[i].tMm));
      model.dispose();
      localiser.dispose();
      return r;
    };
    const clean = await run(false);
    const corrupted = await run(true);
    expect(corrupted.instances).toHaveLength(8);
    corrupted.instances.forEach((c, i) => {
      const o = clean.instances[i];
      expect(Array.from(c.R)).toEqual(Array.from(o.R));
      expect(Array.from(c.tMm)).toEqual(Array.from(o.tMm));
      expect(Array.from(c.boxPx!)).toEqual(Array.from(o.boxPx!));
      expect(c.refinedBoxPx && Array.from(c.refinedBoxPx)).toEqual(o.refinedBoxPx && Array.from(o.refinedBoxPx));
      // ... while the errors, computed after, do see the changed ground truth
      expect(c.transMm).not.toBe(o.transMm);
    });
    expect(clean.metrics.crops).toBe('detected');
  });
});
