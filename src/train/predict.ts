/**
 * Poses for images nobody labelled, with an exported bundle or a training engine's current networks
 * (both as a Predictor): the whole image letterboxed into the
 * localiser's view -> its box -> the crop around that box (the bundle's padding) -> keypoint heatmaps
 * -> soft-argmax -> bpnp with the crop's K -> a second crop around that first pose's projected outline,
 * and the same networks once more (refine.ts). The same windows, resampling and networks as evaluation with
 * detected crops (evaluate.ts through datasetTrainingData.ts), so a folder of a dataset's test images gives the
 * poses its evaluation reports. Reads no ground truth; needs the camera's K for each image.
 */
import type * as tf from '@tensorflow/tfjs';
import { cropAffine, cropAroundBox, cropK, resampleRgb, resampleView, viewWindow, type CropWindow } from '../data/crop';
import type { RgbaImage } from '../data/image';
import type { LoadedBundle } from './bundle';
import type { TrainingEngine } from './engine';
import { predictBatch, type Normalisation, type Prediction } from './evaluate';
import { detectObjects, type Detection } from './localiser';
import { refinedBoxPx } from './refine';

/**
 * What prediction needs of a model, whoever holds it: an imported bundle (bundlePredictor) or the
 * engine being trained (enginePredictor, its weights as they are now).
 */
export interface Predictor {
  /** The keypoint network: [B, S, S, 3] crop -> heatmaps (and confidences). */
  model: tf.LayersModel;
  /** The localiser (absent in bundles of runs that trained none). */
  localiser?: tf.LayersModel;
  /** [k, 3] mm, heatmap order */
  keypointsMm: Float64Array;
  norm: Normalisation;
  /** Crop side = longest box side x (1 + padding). */
  padding: number;
  /** [e, 3] mm: the outline whose projection with a first pose places the refined crop (refine.ts); absent
   * in bundles written before refinement, whose poses come from the localiser's crop alone. */
  outlineMm?: Float64Array;
  /** The network's square crop side, px. */
  inputPx: number;
  /** The localiser's square view side, px. */
  localiserPx: number;
  /** Detections scoring below it are misses. */
  minScore: number;
  /** The object the networks find. */
  object: { id: number; name: string };
  /** Training steps behind these weights. */
  step: number;
}

export function bundlePredictor(b: LoadedBundle): Predictor {
  return {
    model: b.model, localiser: b.localiser, keypointsMm: b.keypointsMm, norm: b.meta.input, padding: b.meta.crop.padding,
    outlineMm: b.outlineMm,
    inputPx: b.meta.input.sizePx, localiserPx: b.meta.localiser?.sizePx ?? 0, minScore: b.meta.localiser?.minScore ?? 0,
    object: { id: b.meta.class.id, name: b.meta.class.name }, step: b.meta.step,
  };
}

/** The engine's networks as they are at this step (between two updates, or either side of one mid-step). */
export function enginePredictor(e: TrainingEngine): Predictor {
  const c = e.config;
  return {
    model: e.inferenceModel, localiser: e.localiser.model, keypointsMm: e.object.keypointsMm, norm: c.data, padding: c.data.padding,
    outlineMm: e.object.outlineMm,
    inputPx: c.model.inputPx, localiserPx: c.localiser.model.inputPx, minScore: c.localiser.minScore,
    object: { id: e.object.id, name: e.object.name }, step: e.step,
  };
}

export interface ImageInput {
  image: RgbaImage;
  /** [9] row-major intrinsics of this image, px */
  kPx: ArrayLike<number>;
}

export interface ImagePose {
  detection: Detection;
  /** Whether the detection scored at least the threshold; below it, pose fields describe a miss. */
  detected: boolean;
  /** The crop the pose comes from: around the first pose's projected outline when refined, else around the detection. */
  crop: CropWindow;
  /** Whether the pose is the refined one (refine.ts): false when the first pose could not place a crop or the predictor has no outline. */
  refined: boolean;
  prediction: Prediction;
  /** [k, 2] keypoints in image px */
  keypointsImagePx: Float64Array;
}

/**
 * One pose per image (one object per model, one instance per image). minScore: detections below it
 * are misses (default: the predictor's own threshold). Throws when the predictor has no localiser.
 */
export async function predictImages(p: Predictor, inputs: readonly ImageInput[], minScore?: number): Promise<ImagePose[]> {
  if (inputs.length === 0) return [];
  const localiser = p.localiser;
  if (!localiser) {
    throw new Error('this bundle has no localiser (its run trained none): it cannot find the object in an image by itself');
  }
  const views = inputs.map(({ image }) => {
    const window = viewWindow(image.widthPx, image.heightPx, p.localiserPx);
    return { image: resampleView(image, window), window };
  });
  const dets = await detectObjects(localiser, views, p.norm);
  const crops = dets.map((d) => cropAroundBox(d.boxPx, p.padding, p.inputPx));
  const cut = (i: number) => ({ image: resampleRgb(inputs[i].image, crops[i]), kCrop: cropK(inputs[i].kPx, crops[i]) });
  const preds = await predictBatch(p.model, inputs.map((_, i) => cut(i)), p.keypointsMm, p.norm);
  // Refinement, as evaluation does it (evaluate.ts): a second crop around the first pose's outline.
  const outline = p.outlineMm;
  const boxes = outline ? preds.map((pr, i) => refinedBoxPx(outline, pr, inputs[i].kPx)) : [];
  const refined = inputs.map((_, i) => boxes[i] !== undefined);
  const js = refined.flatMap((r, i) => (r ? [i] : []));
  if (js.length > 0) {
    for (const i of js) crops[i] = cropAroundBox(boxes[i]!, p.padding, p.inputPx);
    const again = await predictBatch(p.model, js.map(cut), p.keypointsMm, p.norm);
    js.forEach((i, q) => { preds[i] = again[q]; });
  }
  const threshold = minScore ?? p.minScore;
  return preds.map((prediction, i) => {
    const { s, tx, ty } = cropAffine(crops[i]);
    const kp = prediction.keypointsPx;
    const keypointsImagePx = Float64Array.from(kp, (v, j) => (j % 2 === 0 ? (v - tx) / s : (v - ty) / s));
    return { detection: dets[i], detected: dets[i].score >= threshold, crop: crops[i], refined: refined[i], prediction, keypointsImagePx };
  });
}
