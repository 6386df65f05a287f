/**
 * The narrow view of the data the engine consumes: one object, samples as typed arrays. Anything can
 * implement it (src/train/datasetTrainingData.ts adapts src/data's dataset model; the tests draw synthetic
 * crops), so the engine is tested independently of the loaders.
 */
import type { ViewImage, ViewSample } from './localiser';

/** One cropped instance. */
export interface TrainingSample {
  /** [S, S, 3] RGB in [0, 1], rows top to bottom (S = the model's input side) */
  image: Float32Array;
  /** [9] row-major intrinsics of the crop, px */
  kCrop: Float64Array;
  /** [9] row-major rotation, model to camera */
  rM2c: Float64Array;
  /** [3] translation, model to camera, mm */
  tM2cMm: Float64Array;
}

/** A test instance: a sample and where it came from. */
export interface EvalSample extends TrainingSample {
  /** [9] row-major intrinsics of the full image, px (the 2D projection metric is in image pixels) */
  kPx: Float64Array;
  imageKey: string;
  /** [x, y, w, h] image px: the ground-truth pose's projected model box (detection recall only). */
  gtBoxPx: Float64Array;
  /** BOP scene_id and im_id (for the results CSV); 0 and the image index where the dataset has none. */
  sceneId: number;
  imId: number;
}

/** The object a model is trained for. */
export interface PoseObject {
  id: number;
  name: string;
  diameterMm: number;
  /** ADD-S instead of ADD in the metrics. */
  symmetric: boolean;
  /** [k, 3] mm, model frame: the points the network finds (centre last, as src/data/keypoints.ts) */
  keypointsMm: Float64Array;
  /** [m, 3] mm, model frame: points for ADD(-S), the 2D projection metric and the mesh pose loss */
  pointsMm: Float64Array;
  /**
   * [e, 3] mm, model frame: the mesh's extreme points (data/keypoints.ts extremePoints; the bounding
   * box's corners without a mesh), whose projection with a first pose places the refined crop (refine.ts).
   * Absent for a bundle written before refinement: its crops are not refined, in evaluation as in predict.
   */
  outlineMm?: Float64Array;
  /**
   * [m, 3] mm, model frame: the evaluation model's vertices (BOP models_eval when the dataset has it, else
   * the mesh), the points the metrics average over, as the BOP toolkit does; pointsMm when absent.
   */
  metricPointsMm?: Float64Array;
  /** [M, 3] mm: the whole evaluation model, searched for ADD-S nearest neighbours (metricPointsMm may be a subsample). */
  metricModelMm?: Float64Array;
  /** Diameter of the evaluation model (models_eval/models_info.json): the ADD(-S) threshold base; diameterMm when absent. */
  metricDiameterMm?: number;
}

export interface TrainingData {
  object: PoseObject;
  trainCount: number;
  testCount: number;
  /**
   * Training instance `item` (0 .. trainCount-1), augmented with the randomness of (seed, sampleIndex):
   * the same arguments give the same bytes, in any order.
   */
  train(item: number, sampleIndex: number, seed: number): Promise<TrainingSample>;
  /** The whole image of training instance `item`, for the localiser, augmented as train(). */
  trainView(item: number, sampleIndex: number, seed: number): Promise<ViewSample>;
  /** The whole image of test instance `item`, for the localiser: nothing of its ground truth. */
  testView(item: number): Promise<ViewImage>;
  /**
   * Test instance `item` (0 .. testCount-1), not augmented, cropped around boxPx ([x, y, w, h] image
   * px, a detection) or, without it, around the ground truth's box (the oracle crop).
   */
  test(item: number, boxPx?: ArrayLike<number>): Promise<EvalSample>;
}

export function keypointCount(o: PoseObject): number {
  return o.keypointsMm.length / 3;
}
