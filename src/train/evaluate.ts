/**
 * Prediction and evaluation: whole image -> localiser box -> crop -> heatmaps -> soft-argmax keypoints
 * -> bpnp (its own EPnP initialiser) -> a first pose, whose projected outline cuts a second crop for the
 * same networks (refine.ts) -> poses, with no ground truth anywhere before the errors; then
 * the metrics of metrics.ts over a test split. 'oracle' crops (around the ground truth's box) are a
 * reference an unlabelled image cannot have (cut once, not refined), labelled so in the metrics.
 */
import * as tf from '@tensorflow/tfjs';
import { so3Exp } from '../solver/so3';
import { bpnp } from '../ops/bpnp';
import { projectKeypoints, stackImages, stackK } from './batch';
import type { EvalSample, PoseObject, TrainingData, TrainingSample } from './trainingData';
import { softArgmax, spatialLogSoftmax } from './heatmaps';
import { KdTree3 } from './kdtree';
import { boxIou, detectObjects, type Detection } from './localiser';
import { instanceErrors, summarise, type InstanceErrors, type PoseMetrics } from './metrics';
import { normalise, runModel } from './model';
import { refinedBoxPx } from './refine';

export interface Normalisation {
  mean: readonly number[];
  std: readonly number[];
}

export interface Prediction {
  /** [6] axis-angle + t mm, model to camera */
  pose: Float64Array;
  /** [9] row-major */
  R: Float64Array;
  /** [3] mm */
  tMm: Float64Array;
  /** bpnp status, 0 = converged */
  status: number;
  /** [k, 2] crop px */
  keypointsPx: Float32Array;
  /** [k] in [0, 1] when the model has a confidence head */
  confidence?: Float32Array;
  /** [H, W, k] spatial-softmax probabilities, when asked for */
  heatmaps?: Float32Array;
  /** Side of those heatmaps, cells (the input over the model's heatmap stride). */
  heatmapSide: number;
  /** Mean confidence (1 without a confidence head): the BOP score. */
  score: number;
}

/** Stacks samples into a [B, S, S, 3] normalised batch and [B, 3, 3] crop intrinsics. */
export function batchTensors(samples: readonly Pick<TrainingSample, 'image' | 'kCrop'>[], inputPx: number, norm: Normalisation): { x: tf.Tensor4D; kCrop: tf.Tensor3D } {
  const B = samples.length;
  const img = stackImages(samples.map((s) => s.image), inputPx, 'sample');
  const k = stackK(samples);
  return tf.tidy(() => ({
    x: normalise(tf.tensor4d(img, [B, inputPx, inputPx, 3]), norm.mean, norm.std),
    kCrop: tf.tensor3d(k, [B, 3, 3]),
  }));
}

/**
 * Poses for a batch of crops. Everything on the current backend; one readback at the end.
 */
export async function predictBatch(model: tf.LayersModel, samples: readonly Pick<TrainingSample, 'image' | 'kCrop'>[], keypointsMm: Float64Array,
  norm: Normalisation, opts: { heatmaps?: boolean } = {}): Promise<Prediction[]> {
  const inputPx = model.inputs[0].shape[1]!;
  const B = samples.length;
  const kpCount = keypointsMm.length / 3;
  const { x, kCrop } = batchTensors(samples, inputPx, norm);
  const out = tf.tidy(() => {
    const o = runModel(model, x);
    const kp = softArgmax(o.logits, o.stride);
    const { pose, status } = bpnp(kp, tf.tensor2d(Float32Array.from(keypointsMm), [kpCount, 3]), kCrop, { weights: o.confidence });
    const heat = opts.heatmaps ? tf.exp(spatialLogSoftmax(o.logits)).transpose([0, 2, 1]) : undefined; // [B, HW, k]
    return { kp, pose, status, conf: o.confidence, heat, side: o.logits.shape[1] };
  });
  const [kpA, poseA, statusA, confA, heatA] = await Promise.all([
    out.kp.data(), out.pose.data(), out.status.data(), out.conf?.data(), out.heat?.data(),
  ]);
  tf.dispose([x, kCrop, out.kp, out.pose, out.status, out.conf, out.heat].filter((t): t is tf.Tensor => !!t));
  const side = out.side;
  const res: Prediction[] = [];
  for (let b = 0; b < B; b++) {
    const pose = Float64Array.from(poseA.subarray(6 * b, 6 * b + 6));
    const confidence = confA ? Float32Array.from(confA.subarray(kpCount * b, kpCount * (b + 1))) : undefined;
    res.push({
      pose,
      R: so3Exp(new Float64Array(9), pose),
      tMm: pose.slice(3, 6),
      status: statusA[b],
      keypointsPx: Float32Array.from(kpA.subarray(2 * kpCount * b, 2 * kpCount * (b + 1))),
      confidence,
      heatmaps: heatA ? Float32Array.from(heatA.subarray(side * side * kpCount * b, side * side * kpCount * (b + 1))) : undefined,
      heatmapSide: side,
      score: confidence ? confidence.reduce((a, c) => a + c, 0) / kpCount : 1,
    });
  }
  return res;
}

/**
 * A prediction to show: the crop, its keypoints and heatmaps, both poses and its errors (the page's
 * prediction grid receives it as it is).
 */
export interface SamplePrediction {
  imageKey: string;
  objId: number;
  /** Crop side, px */
  inputPx: number;
  /** [S, S, 3] RGB in [0, 1] */
  image: Float32Array;
  /** [9] row-major crop intrinsics */
  kCrop: Float64Array;
  /** [k, 2] crop px */
  keypointsPx: Float32Array;
  /** [k, 2] crop px: the GT pose's projection of the keypoints */
  keypointsGtPx: Float32Array;
  /** [H, W, k] spatial-softmax probabilities */
  heatmaps: Float32Array;
  heatmapSide: number;
  confidence?: Float32Array;
  /** R [9] row-major, model to camera; tMm [3] */
  est: { R: Float64Array; tMm: Float64Array };
  gt: { R: Float64Array; tMm: Float64Array };
  /** bpnp status, 0 = converged */
  status: number;
  /** The instance's metric errors (metrics.ts) and the mean keypoint distance, crop px. */
  errors: { rotDeg: number; transMm: number; addMm: number; keypointPx: number };
}

export interface InstanceResult extends InstanceErrors {
  imageKey: string;
  sceneId: number;
  imId: number;
  objId: number;
  score: number;
  R: Float64Array;
  tMm: Float64Array;
  /** [x, y, w, h] image px: the localiser's box (detected crops only) */
  boxPx?: Float64Array;
  /** [x, y, w, h] image px: the box of the first pose's projected outline, which cut the crop of the pose
   * (refine.ts; detected crops whose first pose could place one) */
  refinedBoxPx?: Float64Array;
  /** Wall time of the batch this instance was in, divided by the batch size, ms */
  timeMs: number;
}

export interface EvalResult {
  metrics: PoseMetrics;
  instances: InstanceResult[];
  samples: SamplePrediction[];
  /** Test instances whose image could not be read: left out of the metrics, each with the reason (naming the file). */
  unreadable: { item: number; reason: string }[];
}

export interface EvalOptions {
  norm: Normalisation;
  batchSize: number;
  /**
   * 'detected': crops from this localiser network's boxes (detections scoring below minScore are
   * misses); 'oracle': crops around the ground truth's box.
   */
  crops: { from: 'detected'; localiser: tf.LayersModel; minScore: number } | { from: 'oracle' };
  /** Evaluate the first this many test instances (0 or undefined = all). */
  maxInstances?: number;
  /** Sample predictions to return (spread over the instances evaluated). */
  samples?: number;
  /** Called after each batch with (done, total). */
  onProgress?: (done: number, total: number) => void;
  /** Stops early (between batches) when it returns true. */
  shouldStop?: () => boolean;
}

export async function evaluate(model: tf.LayersModel, data: Pick<TrainingData, 'object' | 'testCount' | 'test' | 'testView'>,
  opts: EvalOptions): Promise<EvalResult> {
  const obj: PoseObject = data.object;
  const total = opts.maxInstances ? Math.min(opts.maxInstances, data.testCount) : data.testCount;
  const nSamples = Math.min(opts.samples ?? 0, total);
  const sampleAt = new Set(Array.from({ length: nSamples }, (_, i) => Math.floor((i * total) / nSamples)));
  const instances: InstanceResult[] = [];
  const unreadable: EvalResult['unreadable'] = [];
  const errs: InstanceErrors[] = [];
  const samples: SamplePrediction[] = [];
  const inputPx = model.inputs[0].shape[1]!;
  // The evaluation model (models_eval) and, for ADD-S, an exact nearest-neighbour search over all of it.
  const metricPts = obj.metricPointsMm ?? obj.pointsMm;
  const modelTree = obj.symmetric ? new KdTree3(obj.metricModelMm ?? metricPts) : undefined;
  let netMsTotal = 0;
  for (let start = 0; start < total; start += opts.batchSize) {
    if (opts.shouldStop?.()) break;
    let idx = Array.from({ length: Math.min(opts.batchSize, total - start) }, (_, i) => start + i);
    let ms = 0;
    let dets: Detection[] | undefined;
    const crops = opts.crops;
    if (crops.from === 'detected') {
      // The crop comes from the image alone: the localiser sees the view, and its box cuts the crop.
      const views = readable(await Promise.allSettled(idx.map((i) => data.testView(i))), idx, unreadable);
      idx = views.items;
      const t0 = performance.now();
      dets = await detectObjects(crops.localiser, views.values, opts.norm);
      ms += performance.now() - t0;
    }
    const tests = readable(await Promise.allSettled(idx.map((i, j) => data.test(i, dets?.[j].boxPx))), idx, unreadable);
    if (dets) dets = dets.filter((_, j) => tests.kept[j]);
    idx = tests.items;
    const batch: EvalSample[] = tests.values;
    if (batch.length === 0) continue;
    const wantHeat = idx.some((i) => sampleAt.has(i));
    const t0 = performance.now();
    const preds = await predictBatch(model, batch, obj.keypointsMm, opts.norm, { heatmaps: wantHeat });
    ms += performance.now() - t0;
    const refinedBoxes: (Float64Array | undefined)[] = [];
    const outline = obj.outlineMm;
    if (dets && outline) {
      // Refinement (refine.ts): the first pose's projected outline cuts a second crop; an instance whose
      // first pose cannot place one keeps its first pose.
      const boxes = preds.map((p, j) => refinedBoxPx(outline, p, batch[j].kPx));
      const js = boxes.flatMap((box, j) => (box ? [j] : []));
      if (js.length > 0) {
        const second = await Promise.all(js.map((j) => data.test(idx[j], boxes[j])));
        const t1 = performance.now();
        const again = await predictBatch(model, second, obj.keypointsMm, opts.norm, { heatmaps: wantHeat });
        ms += performance.now() - t1;
        js.forEach((j, q) => { batch[j] = second[q]; preds[j] = again[q]; refinedBoxes[j] = boxes[j]; });
      }
    }
    netMsTotal += ms;
    preds.forEach((p, j) => {
      const s = batch[j];
      const d = dets?.[j];
      const detection = d && crops.from === 'detected'
        ? { iou: boxIou(d.boxPx, s.gtBoxPx), detected: d.score >= crops.minScore }
        : { iou: NaN, detected: true };
      const e = instanceErrors({ R: p.R, t: p.tMm }, { R: s.rM2c, t: s.tM2cMm }, metricPts, s.kPx, obj.symmetric, p.status, modelTree, detection);
      errs.push(e);
      // The BOP score is the detection's where there is one.
      instances.push({ ...e, imageKey: s.imageKey, sceneId: s.sceneId, imId: s.imId, objId: obj.id, score: d?.score ?? p.score,
        R: p.R, tMm: p.tMm, boxPx: d?.boxPx, refinedBoxPx: refinedBoxes[j], timeMs: ms / batch.length });
      if (sampleAt.has(idx[j])) {
        const keypointsGtPx = projectKeypoints(obj.keypointsMm, s.rM2c, s.tM2cMm, s.kCrop);
        samples.push({
          imageKey: s.imageKey, objId: obj.id, inputPx, image: s.image, kCrop: s.kCrop,
          keypointsPx: p.keypointsPx, keypointsGtPx,
          heatmaps: p.heatmaps!, heatmapSide: p.heatmapSide, confidence: p.confidence,
          est: { R: p.R, tMm: p.tMm }, gt: { R: Float64Array.from(s.rM2c), tMm: Float64Array.from(s.tM2cMm) }, status: p.status,
          errors: { rotDeg: e.rotDeg, transMm: e.transMm, addMm: e.addMm, keypointPx: meanDistancePx(p.keypointsPx, keypointsGtPx) },
        });
      }
    });
    opts.onProgress?.(instances.length, total);
  }
  const metrics = summarise(errs, obj.metricDiameterMm ?? obj.diameterMm, obj.symmetric, instances.length ? netMsTotal / instances.length : 0, opts.crops.from);
  return { metrics, instances, samples, unreadable };
}

/** Mean distance between two [k, 2] point lists, px (0 for none). */
function meanDistancePx(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const k = b.length / 2;
  let sum = 0;
  for (let i = 0; i < k; i++) sum += Math.hypot(a[2 * i] - b[2 * i], a[2 * i + 1] - b[2 * i + 1]);
  return k ? sum / k : 0;
}

/** The fulfilled results of a batch's reads, their items, and which were kept; failures go to `unreadable`. */
function readable<T>(results: PromiseSettledResult<T>[], items: number[], unreadable: EvalResult['unreadable']): { values: T[]; items: number[]; kept: boolean[] } {
  const values: T[] = [];
  const kept: boolean[] = [];
  const keptItems: number[] = [];
  results.forEach((r, j) => {
    kept.push(r.status === 'fulfilled');
    if (r.status === 'fulfilled') { values.push(r.value); keptItems.push(items[j]); }
    else unreadable.push({ item: items[j], reason: r.reason instanceof Error ? r.reason.message : String(r.reason) });
  });
  return { values, items: keptItems, kept };
}
