/**
 * Poses for images nobody labelled, with an exported bundle: the whole image letterboxed into the
 * localiser's view -> its box -> the crop around that box (the bundle's padding) -> keypoint heatmaps
 * -> soft-argmax -> bpnp with the crop's K. The same windows, resampling and networks as evaluation with
 * detected crops (evaluate.ts through datasetData.ts), so a folder of a dataset's test images gives the
 * poses its evaluation reports. Reads no ground truth; needs the camera's K for each image.
 */
import { cropAffine, cropAroundBox, cropK, resampleRgb, resampleView, viewWindow, type CropWindow } from '../data/crop';
import type { RgbaImage } from '../data/image';
import type { LoadedBundle } from './bundle';
import { predictBatch, type Prediction } from './evaluate';
import { detectObjects, type Detection } from './localiser';

export interface ImageInput {
  image: RgbaImage;
  /** [9] row-major intrinsics of this image, px */
  kPx: ArrayLike<number>;
}

export interface ImagePose {
  detection: Detection;
  /** Whether the detection scored at least the threshold; below it, pose fields describe a miss. */
  detected: boolean;
  crop: CropWindow;
  prediction: Prediction;
  /** [k, 2] keypoints in image px */
  keypointsImagePx: Float64Array;
}

/**
 * One pose per image (one object per bundle, one instance per image). minScore: detections below it
 * are misses (default: the bundle's own threshold). Throws when the bundle has no localiser.
 */
export async function predictImages(b: LoadedBundle, inputs: readonly ImageInput[], minScore?: number): Promise<ImagePose[]> {
  if (!b.localiser || !b.meta.localiser) {
    throw new Error('this bundle has no localiser (its run trained none): it cannot find the object in an image by itself');
  }
  const viewPx = b.meta.localiser.sizePx;
  const views = inputs.map(({ image }) => {
    const window = viewWindow(image.widthPx, image.heightPx, viewPx);
    return { image: resampleView(image, window), window };
  });
  const dets = await detectObjects(b.localiser, views, b.meta.input);
  const crops = dets.map((d) => cropAroundBox(d.boxPx, b.meta.crop.padding, b.meta.input.sizePx));
  const samples = inputs.map(({ image, kPx }, i) => ({ image: resampleRgb(image, crops[i]), kCrop: cropK(kPx, crops[i]) }));
  const preds = await predictBatch(b.model, samples, b.keypointsMm, b.meta.input);
  const threshold = minScore ?? b.meta.localiser.minScore;
  return preds.map((prediction, i) => {
    const { s, tx, ty } = cropAffine(crops[i]);
    const kp = prediction.keypointsPx;
    const keypointsImagePx = Float64Array.from(kp, (v, j) => (j % 2 === 0 ? (v - tx) / s : (v - ty) / s));
    return { detection: dets[i], detected: dets[i].score >= threshold, crop: crops[i], prediction, keypointsImagePx };
  });
}
