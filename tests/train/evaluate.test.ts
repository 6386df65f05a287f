/**
 * Evaluation end to end, from a BOP folder's files to the metrics and the BOP CSV, held against the
 * ground truth the fixture was made from (tests/data/fixtures.ts bopPoses), not against evaluate's own
 * numbers: a symmetric object (models_info.json's flag) is scored by ADD-S, exactly as a brute-force
 * nearest-neighbour search over its model gives, and an asymmetric one by ADD; the CSV's rows are the
 * evaluated poses (R row-major, t in mm: their errors to the ground truth are the instances' errors) with
 * one time per image. An untrained network: its poses are wrong, which is what makes ADD and ADD-S differ.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { decodePure } from '../../src/data/decode/pure';
import { loadDataset } from '../../src/data/load';
import { MemorySource } from '../../src/data/source/source';
import { useCpuBackend } from '../../src/kernels/setup';
import { bopCsv, parseBopCsv } from '../../src/train/bopCsv';
import { makeConfig } from '../../src/train/config';
import { datasetTrainingData } from '../../src/train/datasetTrainingData';
import { evaluate, type EvalResult } from '../../src/train/evaluate';
import { buildModel } from '../../src/train/model';
import { solvePnpBatch } from '../../src/solver/pnp';
import { bopFixture, bopPoses, kFixtureK } from '../data/fixtures';

beforeAll(async () => {
  await useCpuBackend('cpu');
});

const config = makeConfig('tiny');

/** The fixture with object 1 (the 100 mm cube) declared symmetric or not in models_info.json. */
async function evaluated(symmetric: boolean): Promise<{ r: EvalResult; modelMm: Float64Array; metricMm: Float64Array; diameterMm: number }> {
  const files = bopFixture();
  const infoPath = 'lmfix/models/models_info.json';
  const info = JSON.parse(new TextDecoder().decode(files.get(infoPath)!)) as Record<string, Record<string, unknown>>;
  if (symmetric) info['1'].symmetries_continuous = [{ axis: [0, 0, 1], offset: [0, 0, 0] }];
  files.set(infoPath, new TextEncoder().encode(JSON.stringify(info)));
  const ds = await loadDataset(new MemorySource('fixture', files));
  const data = datasetTrainingData(ds, config, { decode: decodePure, objId: 1 });
  const model = buildModel(config.model, data.object.keypointsMm.length / 3, 7);
  const r = await evaluate(model, data, { norm: config.data, batchSize: 2, crops: { from: 'oracle' } });
  model.dispose();
  const metricMm = data.object.metricPointsMm ?? data.object.pointsMm;
  return { r, modelMm: data.object.metricModelMm ?? metricMm, metricMm, diameterMm: data.object.metricDiameterMm ?? data.object.diameterMm };
}

/** The fixture's ground truth of object 1 in test image (scene 1, im): R row-major, t mm. */
function truth(imId: number): { R: number[]; t: number[] } {
  const p = bopPoses().get('test/000001')!.get(imId)!.find((g) => g.objId === 1)!;
  return { R: p.r, t: p.tMm };
}

function posed(R: ArrayLike<number>, t: ArrayLike<number>, pts: Float64Array): Float64Array {
  const out = new Float64Array(pts.length);
  for (let i = 0; i < pts.length; i += 3) {
    for (let a = 0; a < 3; a++) out[i + a] = R[3 * a] * pts[i] + R[3 * a + 1] * pts[i + 1] + R[3 * a + 2] * pts[i + 2] + t[a];
  }
  return out;
}

/** bop_toolkit's add and adi, by brute force: mean distance of corresponding points, or to the nearest. */
function addBrute(est: { R: ArrayLike<number>; t: ArrayLike<number> }, gt: { R: number[]; t: number[] }, pts: Float64Array, model: Float64Array, symmetric: boolean): number {
  const g = posed(gt.R, gt.t, pts);
  const e = posed(est.R, est.t, symmetric ? model : pts);
  let sum = 0;
  for (let i = 0; i < g.length; i += 3) {
    if (!symmetric) { sum += Math.hypot(e[i] - g[i], e[i + 1] - g[i + 1], e[i + 2] - g[i + 2]); continue; }
    let best = Infinity;
    for (let j = 0; j < e.length; j += 3) best = Math.min(best, (e[j] - g[i]) ** 2 + (e[j + 1] - g[i + 1]) ** 2 + (e[j + 2] - g[i + 2]) ** 2);
    sum += Math.sqrt(best);
  }
  return sum / (g.length / 3);
}

const angleDeg = (A: ArrayLike<number>, B: ArrayLike<number>) => {
  let tr = 0;
  for (let k = 0; k < 9; k++) tr += A[k] * B[k];
  return (Math.acos(Math.min(1, Math.max(-1, (tr - 1) / 2))) * 180) / Math.PI;
};

describe('evaluation end to end', () => {
  it('batching changes nothing: batches of 1 and of 2 give every instance the same pose, errors and sample', async () => {
    const ds = await loadDataset(new MemorySource('fixture', bopFixture()));
    const data = datasetTrainingData(ds, config, { decode: decodePure, objId: 1 });
    const model = buildModel(config.model, data.object.keypointsMm.length / 3, 7);
    const run = (batchSize: number) => evaluate(model, data, { norm: config.data, batchSize, crops: { from: 'oracle' }, samples: 2 });
    const [one, two] = [await run(1), await run(2)];
    model.dispose();
    expect(one.instances.length).toBe(data.testCount);
    expect(data.testCount).toBe(2); // the fixture's test images: the second instance of a batch is the one at stake
    expect(two.instances.map((i) => [i.imageKey, i.addMm, i.rotDeg, i.transMm, Array.from(i.tMm)]))
      .toEqual(one.instances.map((i) => [i.imageKey, expect.closeTo(i.addMm, 3), expect.closeTo(i.rotDeg, 3), expect.closeTo(i.transMm, 3), Array.from(i.tMm, (x) => expect.closeTo(x, 2))]));
    // The samples: spread over the instances, with the heatmaps, keypoints and confidences of their own image.
    expect(two.samples.map((x) => x.imageKey)).toEqual(one.samples.map((x) => x.imageKey));
    expect(new Set(one.samples.map((x) => x.imageKey)).size).toBe(2);
    one.samples.forEach((a, j) => {
      const b = two.samples[j];
      expect(b.heatmapSide).toBe(config.model.inputPx / config.model.heatmapStride);
      expect(b.heatmaps.length).toBe(b.heatmapSide ** 2 * data.object.keypointsMm.length / 3);
      Array.from(b.heatmaps).forEach((v, q) => expect(v).toBeCloseTo(a.heatmaps[q], 5));
      Array.from(b.keypointsPx).forEach((v, q) => expect(v).toBeCloseTo(a.keypointsPx[q], 3));
      Array.from(b.confidence!).forEach((v, q) => expect(v).toBeCloseTo(a.confidence![q], 5));
      // The pose is the float64 solver's on these keypoints with the confidences as weights (the cpu
      // backend's bpnp), and the keypoint error the mean distance to the projected ground truth.
      const k = b.keypointsPx.length / 2;
      const ref = solvePnpBatch({ pts2d: Float64Array.from(b.keypointsPx), pts3d: data.object.keypointsMm, K: Float64Array.from(Float32Array.from(b.kCrop)),
        weights: Float64Array.from(b.confidence!), B: 1, n: k, sharedPts3d: true, sharedK: true });
      Array.from(b.est.tMm).forEach((v, q) => expect(v, `t[${q}] of ${b.imageKey}`).toBeCloseTo(ref.pose[3 + q], 1));
      let dist = 0;
      for (let q = 0; q < k; q++) dist += Math.hypot(b.keypointsPx[2 * q] - b.keypointsGtPx[2 * q], b.keypointsPx[2 * q + 1] - b.keypointsGtPx[2 * q + 1]);
      expect(b.errors.keypointPx).toBeCloseTo(dist / k, 4);
    });
    // With oracle crops an instance's BOP score is the mean keypoint confidence.
    two.instances.forEach((inst) => {
      const smp = two.samples.find((x) => x.imageKey === inst.imageKey)!;
      expect(inst.score).toBeCloseTo(smp.confidence!.reduce((x, y) => x + y, 0) / smp.confidence!.length, 6);
    });
  });

  it('a symmetric object is scored by ADD-S, an asymmetric one by ADD, as brute force over the model gives', async () => {
    for (const symmetric of [true, false]) {
      const { r, modelMm, metricMm, diameterMm } = await evaluated(symmetric);
      expect(r.metrics.symmetric, 'the metrics say which').toBe(symmetric);
      expect(r.instances.map((i) => [i.sceneId, i.imId])).toEqual([[1, 0], [1, 1]]);
      for (const inst of r.instances) {
        const est = { R: inst.R, t: inst.tMm };
        const gt = truth(inst.imId);
        const adds = addBrute(est, gt, metricMm, modelMm, true), add = addBrute(est, gt, metricMm, modelMm, false);
        expect(inst.addMm, `${symmetric ? 'ADD-S' : 'ADD'} of image ${inst.imId}`).toBeCloseTo(symmetric ? adds : add, 9);
        expect(add - adds, 'ADD and ADD-S differ on these poses, so the test can tell which was used (mm)').toBeGreaterThan(1);
      }
      const correct = r.instances.filter((i) => i.status === 0 && addBrute({ R: i.R, t: i.tMm }, truth(i.imId), metricMm, modelMm, symmetric) < 0.1 * diameterMm).length;
      expect(r.metrics.add01d).toBe(correct / r.instances.length);
    }
  });

  it('the BOP CSV holds the evaluated poses: R row-major and t in mm against the ground truth give each instance\'s errors; one time per image', async () => {
    const { r, metricMm, modelMm } = await evaluated(false);
    const rows = parseBopCsv(bopCsv(r.instances));
    /** Mean distance of the model points projected with the two poses, px (the 2D projection metric). */
    const proj2d = (R: ArrayLike<number>, t: ArrayLike<number>, gt: { R: number[]; t: number[] }) => {
      const a = posed(R, t, metricMm), b = posed(gt.R, gt.t, metricMm);
      const K = kFixtureK;
      let sum = 0;
      for (let i = 0; i < a.length; i += 3) {
        sum += Math.hypot((K[0] * a[i] + K[2] * a[i + 2]) / a[i + 2] - (K[0] * b[i] + K[2] * b[i + 2]) / b[i + 2],
          (K[4] * a[i + 1] + K[5] * a[i + 2]) / a[i + 2] - (K[4] * b[i + 1] + K[5] * b[i + 2]) / b[i + 2]);
      }
      return sum / (a.length / 3);
    };
    expect(rows).toHaveLength(r.instances.length);
    let transposedOff = 0;
    rows.forEach((row, i) => {
      const inst = r.instances[i];
      expect([row.sceneId, row.imId, row.objId]).toEqual([inst.sceneId, inst.imId, 1]);
      const gt = truth(row.imId);
      // Read as the BOP toolkit reads them: R row-major, t mm.
      expect(angleDeg(row.R, gt.R), `rotation error of the row of image ${row.imId}, degrees`).toBeCloseTo(inst.rotDeg, 6);
      expect(Math.hypot(row.tMm[0] - gt.t[0], row.tMm[1] - gt.t[1], row.tMm[2] - gt.t[2]), `translation error of the row of image ${row.imId}, mm`).toBeCloseTo(inst.transMm, 6);
      expect(proj2d(row.R, row.tMm, gt), `2D projection error of the row of image ${row.imId}, px`).toBeCloseTo(inst.proj2dPx, 6);
      expect(addBrute({ R: row.R, t: row.tMm }, gt, metricMm, modelMm, false), `ADD of the row of image ${row.imId}, mm`).toBeCloseTo(inst.addMm, 6);
      // A transposed R is a rotation too, and t in metres a translation: either gives other errors.
      const Rt = [0, 3, 6, 1, 4, 7, 2, 5, 8].map((k) => row.R[k]);
      transposedOff = Math.max(transposedOff, Math.abs(angleDeg(Rt, gt.R) - inst.rotDeg), Math.abs(addBrute({ R: Rt, t: row.tMm }, gt, metricMm, modelMm, false) - inst.addMm));
      expect(row.timeS * 1000, 'time: the image\'s share of its batch').toBeCloseTo(r.instances.filter((x) => x.imId === row.imId).reduce((s, x) => s + x.timeMs, 0), 6);
    });
    expect(transposedOff, 'what a transposed R would change (degrees or mm): the check above can tell').toBeGreaterThan(1);
  });
});
