/**
 * A bundle put to work on a dataset, as every host does it (the page's worker and the command line):
 * evaluated on a split with the bundle's own keypoints, normalisation and crop policy, or continued
 * as a training run from its checkpoint (or, without one, from its weights).
 */
import type { Dataset, DatasetObject } from '../data/dataset';
import type { DecodeImage } from '../data/image';
import { bundleCrops, resumeCheckpoint, type LoadedBundle } from './bundle';
import type { Checkpoint } from './checkpoint';
import { validateConfig } from './config';
import { datasetTrainingData, type DatasetTrainingData } from './datasetTrainingData';
import { evaluate, type EvalOptions, type EvalResult } from './evaluate';

export interface BundleDataOptions {
  decode: DecodeImage;
  /** The split evaluated (datasetTrainingData.ts DatasetDataOptions.evalSplit). */
  evalSplit?: 'test' | 'train';
}

/** The dataset's object the bundle's model is for; throws, naming it, when the dataset does not have it. */
export function bundleObject(ds: Dataset, b: LoadedBundle): DatasetObject {
  const { id, name } = b.meta.class;
  const obj = ds.objects.find((o) => o.id === id);
  if (!obj) throw new Error(`the bundle's model is for object ${id} (${name}), which the dataset does not have (objects: ${ds.objects.map((o) => o.id).join(', ') || 'none'})`);
  return obj;
}

/**
 * The dataset seen by the bundle's model: its object, with the bundle's keypoints (they stand for its
 * heatmaps) and outline (so evaluation refines crops as `predict` does; a bundle written before
 * refinement has none, and neither refines its crops). Throws, saying why, when the dataset lacks the object or has no instance of it to evaluate.
 */
export function bundleData(ds: Dataset, b: LoadedBundle, opts: BundleDataOptions): DatasetTrainingData {
  const { id, name } = bundleObject(ds, b);
  const data = datasetTrainingData(ds, b.meta.config, { decode: opts.decode, objId: id, keypointsMm: b.keypointsMm, outlineMm: b.outlineMm ?? null, evalSplit: opts.evalSplit,
    runSplitAutomatic: b.meta.split?.automatic });
  if (data.testCount === 0) throw new Error(`no instance of object ${id} (${name}) in the ${opts.evalSplit ?? 'test'} split to evaluate on (${data.split.how})`);
  return data;
}

export interface BundleEvalOptions extends Pick<EvalOptions, 'samples' | 'onProgress'> {
  /** 'detected': the bundle's localiser cuts the crops (bundleCrops throws without one); 'oracle': the ground truth's box. */
  crops: 'detected' | 'oracle';
}

/** The bundle's model evaluated on data from bundleData, batched as it was trained. */
export function evaluateBundle(b: LoadedBundle, data: DatasetTrainingData, opts: BundleEvalOptions): Promise<EvalResult> {
  return evaluate(b.model, data, {
    norm: b.meta.input, batchSize: b.meta.config.optim.batchSize, crops: bundleCrops(b, opts.crops), samples: opts.samples, onProgress: opts.onProgress,
  });
}

export interface BundleResume {
  /** The checkpoint to start the engine from; its config is the run's. */
  checkpoint: Checkpoint;
  /** The object the bundle was trained for. */
  objId: number;
  /** [k, 3] mm, the bundle's keypoints: the data must use exactly these. */
  keypointsMm: Float64Array;
  /** Whether the run continues exactly (the bundle's checkpoint), else from its weights with fresh Adam moments. */
  exact: boolean;
  /**
   * A line for the person, when the bundle's networks are of another save than poselab.json's (LoadedBundle.filesProblem):
   * the run continues exactly from the checkpoint, which holds poselab.json's weights. Each host adds what that means
   * for what it writes next (the command line's saves, the page's exported bundle).
   */
  notice?: string;
}

/**
 * What continuing the bundle's run needs. steps, when given, is the run's new total; everything else
 * stays as trained (the schedules follow the new total). The bundle's networks are not disposed. Throws
 * as resumeCheckpoint does (a checkpoint that cannot be read; networks of another save without a whole one).
 */
export async function bundleResume(b: LoadedBundle, steps?: number): Promise<BundleResume> {
  const c = await resumeCheckpoint(b);
  // A copy of the config: the bundle's own checkpoint keeps its total.
  const checkpoint: Checkpoint = { ...c, config: structuredClone(c.config) };
  if (steps !== undefined) checkpoint.config.optim.steps = steps;
  validateConfig(checkpoint.config);
  // resumeCheckpoint refused networks of another save without a whole checkpoint: here the checkpoint is used.
  const notice = b.filesProblem && `${b.filesProblem}; the run continues exactly from the checkpoint, which holds the weights of step ${c.step}`;
  return { checkpoint, objId: b.meta.class.id, keypointsMm: b.keypointsMm, exact: b.checkpoint !== undefined, notice };
}
