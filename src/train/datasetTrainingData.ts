/**
 * The dataset model of src/data seen as TrainingData (trainingData.ts): one object, its train and test
 * instances (splitDataset), crops made by makeSample with the config's crop policy, and the object's
 * keypoints and metric points. Works wherever src/data works (page, worker, Node): the image decoder
 * is passed in.
 */
import type { Dataset, DatasetObject } from '../data/dataset';
import { kDefaultAugment } from '../data/augment';
import { ImageFileError, type DecodeImage } from '../data/image';
import { ImageStore } from '../data/imageStore';
import { extremePoints, keypointsOf, type ObjectKeypoints } from '../data/keypoints';
import { boxCorners } from '../data/mesh';
import { hashSeed } from '../data/rng';
import { listInstances, makeSample, makeView, modelBox, type InstanceRef, type SampleOptions } from '../data/samples';
import { datasetTestImages, splitDataset, type Split } from '../data/split';
import { evaluationInstances, sceneIdOf } from '../data/targets';
import { pickRows } from './batch';
import type { TrainConfig } from './config';
import type { EvalSample, PoseObject, TrainingData, TrainingSample } from './trainingData';
import { boxImageToView } from '../data/crop';

/**
 * ADD-S is O(m^2) in the metric points: LINEMOD meshes have 5k-20k vertices, so a seeded pick of this
 * many vertices stands for the mesh (the mean over a uniform pick estimates the mean over all).
 */
export const kMaxMetricPoints = 2000;

export interface DatasetDataOptions {
  decode: DecodeImage;
  /** The object to train for; by default the one with the most training instances (and a mesh). */
  objId?: number;
  /** Image cache budget, bytes. */
  cacheBytes?: number;
  /** [k, 3] mm: keypoints to use instead of choosing them (an imported model's, in its heatmap order). */
  keypointsMm?: Float64Array;
  /** [e, 3] mm: the outline to refine crops with instead of the mesh's (an imported model's, so that its
   * evaluation refines as its predictions do); null: none, crops are not refined (an older bundle's). */
  outlineMm?: Float64Array | null;
  /** Told once per training image (or its mask) that cannot be read, with the reason naming the file. */
  onUnreadable?: (reason: string) => void;
  /** The split test() serves, unaugmented: 'test' (default), or 'train' to evaluate on training images. */
  evalSplit?: 'test' | 'train';
  /**
   * For a bundle's evaluation (evalSplit 'test'): whether its run's split was automatic (poselab.json's
   * split.automatic; undefined for a bundle without the field). Where this dataset's split is automatic too, the
   * images it trains on are left out unless the run's split is known not to have been (then the run trained on
   * another dataset's own split, and this one's seeded pick says nothing of it).
   */
  runSplitAutomatic?: boolean;
}

export interface DatasetTrainingData extends TrainingData {
  /**
   * Training images (or masks) that could not be read, each with the reason naming the file: the
   * samples that needed them were drawn from the next readable instance instead.
   */
  unreadable(): { file: string; reason: string }[];
  /** The dataset read (data/dataset.ts Dataset.name, .format): what a bundle records it was trained on. */
  dataset: { name: string; format: string };
  split: Split;
  /** Which instances test() serves and why: the BOP test targets when the dataset has them, else the split's. */
  evalSet: string;
  /** The object's keypoints as chosen (fps on the mesh, else the bounding box's corners). */
  keypoints: ObjectKeypoints;
  /** The training instances in item order, each as `<rgb path>#<instance index>`: what two reads of a dataset compare. */
  trainKeys: string[];
}

/**
 * Throws, saying why, when the dataset cannot be trained on: no object with instances in both splits.
 * The keypoints are opts.keypointsMm (a model's own) or chosen for the config; the dataset is not
 * written to.
 */
export function datasetTrainingData(ds: Dataset, config: TrainConfig, opts: DatasetDataOptions): DatasetTrainingData {
  const split = splitDataset(ds, { mode: 'auto', seed: config.seed });
  const obj = pickObject(ds, split, opts.objId);
  // The keypoints are train/'s: a model's own (a bundle, a checkpoint) or chosen here; the dataset
  // model is only read.
  const keypoints: ObjectKeypoints = opts.keypointsMm
    ? { objId: obj.id, kind: 'fps', pointsMm: opts.keypointsMm }
    : obj.mesh
      ? keypointsOf(obj, { kind: 'fps', count: config.data.keypoints, surfaceSamples: 10_000, seed: 0 })
      : keypointsOf(obj, { kind: 'bbox' });
  const train = listInstances(ds, { images: split.train, objIds: [obj.id] });
  // Evaluation stays off the training images: during training, and for a bundle ('test') too where its run
  // took them from the test split (an automatic split, seeded by the config's seed, so it is the run's own);
  // otherwise a bundle's evaluation covers the dataset's test split.
  const leavesOutRun = opts.evalSplit === 'test' && split.automatic && (opts.runSplitAutomatic ?? true);
  const evalImages = opts.evalSplit === 'test' && !leavesOutRun ? datasetTestImages(ds) ?? split.test : split.test;
  const evaluated = evaluationInstances(ds, evalImages, obj.id);
  const test = opts.evalSplit === 'train' ? train : evaluated.refs;
  // Evaluating a finished model ('test') needs no training instance: a small test-only dataset may have none after its split.
  if (train.length === 0 && opts.evalSplit !== 'test') throw new Error(`object ${obj.id} (${obj.name}) has no instance in the training split (${split.how})`);
  const store = new ImageStore(ds.source, opts.decode, opts.cacheBytes);
  const base: SampleOptions = { outPx: config.model.inputPx, padding: config.data.padding, cropFrom: config.data.cropFrom, augment: false };
  const augment = config.data.augment ? { ...kDefaultAugment, scaleJitter: config.data.scaleJitter, shiftJitter: config.data.shiftJitter,
    fineShare: config.data.fineShare, fineScaleJitter: config.data.fineScaleJitter, fineShiftJitter: config.data.fineShiftJitter, rotationDeg: config.data.rotationDeg,
    occlusionProb: config.data.occlusionProb, backgroundProb: config.data.backgroundProb } : false;
  const trainOpts: SampleOptions = { ...base, augment };
  // data.backgroundProb is the keypoint network's: the localiser's whole-image views keep the default's.
  const viewAugment = augment && { ...augment, backgroundProb: kDefaultAugment.backgroundProb };
  const viewPx = config.localiser.model.inputPx;
  // The projected model's box per instance, once: every view of it in every epoch needs it.
  const boxes = new WeakMap<InstanceRef, Float64Array>();
  const gtBox = (ref: InstanceRef): Float64Array => {
    let box = boxes.get(ref);
    if (!box) {
      const im = ds.images[ref.image];
      const ins = im.instances[ref.instance];
      box = Float64Array.from(modelBox(obj, ins.rM2c, ins.tM2cMm, im.kPx));
      boxes.set(ref, box);
    }
    return box;
  };
  const object = poseObject(obj, keypoints, opts.outlineMm);
  // A corrupt image stops nothing: its samples come from the next readable training instance, and the
  // file is listed (unreadable()) for the host to show.
  const unreadable = new Map<string, string>();
  const readableTrain = async <T>(item: number, make: (ref: InstanceRef) => Promise<T>): Promise<T> => {
    checkItem(train, item, 'train');
    for (let k = 0; k < train.length; k++) {
      const ref = train[(item + k) % train.length];
      try {
        return await make(ref);
      } catch (e) {
        const reason = e instanceof Error ? e.message : String(e);
        // The file that failed: the instance's mask, say, rather than its rgb image.
        const file = e instanceof ImageFileError ? e.path : ds.images[ref.image].rgbPath;
        if (!unreadable.has(file)) opts.onUnreadable?.(reason);
        unreadable.set(file, reason);
      }
    }
    throw new Error(`none of the ${train.length} training instances of object ${obj.id} could be read (${unreadable.size} files unreadable; ` +
      `the first ${Math.min(3, unreadable.size)}: ${[...unreadable.values()].slice(0, 3).join('; ')})`);
  };
  const toSample = (s: { rgb: Float32Array; kCrop: Float64Array; rM2c: Float64Array; tM2cMm: Float64Array }): TrainingSample =>
    ({ image: s.rgb, kCrop: s.kCrop, rM2c: s.rM2c, tM2cMm: s.tM2cMm });
  return {
    object,
    dataset: { name: ds.name, format: ds.format },
    split,
    evalSet: opts.evalSplit === 'train' ? `the ${train.length} training instances`
      : `${evaluated.how}${leavesOutRun ? `; the ${split.train.length} images the run trained on (its automatic split) left out` : ''}`,
    keypoints,
    trainKeys: train.map((ref) => `${ds.images[ref.image].rgbPath}#${ref.instance}`),
    trainCount: train.length,
    testCount: test.length,
    unreadable: () => [...unreadable].map(([file, reason]) => ({ file, reason })),
    train: (item, sampleIndex, seed) => readableTrain(item, async (ref) => toSample(await makeSample(ds, store, ref, trainOpts, seed, sampleIndex))),
    trainView: (item, sampleIndex, seed) => readableTrain(item, async (ref) => {
      const { rgb, window } = await makeView(ds, store, ref, viewPx, viewAugment, seed, sampleIndex);
      return { image: rgb, window, boxViewPx: boxImageToView(gtBox(ref), window) };
    }),
    testView: async (item) => {
      const { rgb, window } = await makeView(ds, store, checkItem(test, item, 'test'), viewPx, false);
      return { image: rgb, window };
    },
    test: async (item, boxPx): Promise<EvalSample> => {
      const ref = checkItem(test, item, 'test');
      const s = await makeSample(ds, store, ref, boxPx ? { ...base, boxPx } : base);
      const im = ds.images[ref.image];
      return { ...toSample(s), kPx: im.kPx, gtBoxPx: gtBox(ref), imageKey: im.key, sceneId: sceneIdOf(im.scene), imId: im.imId };
    },
  };
}

function checkItem(refs: InstanceRef[], item: number, split: string): InstanceRef {
  const r = refs[item];
  if (!r) throw new Error(`${split} instance ${item} of ${refs.length} asked for`);
  return r;
}

function pickObject(ds: Dataset, split: Split, objId: number | undefined): DatasetObject {
  if (objId !== undefined) {
    const o = ds.objects.find((x) => x.id === objId);
    if (!o) throw new Error(`object ${objId} is not in the dataset (objects: ${ds.objects.map((x) => x.id).join(', ') || 'none'})`);
    return o;
  }
  const counts = new Map<number, number>();
  for (const i of split.train) for (const ins of ds.images[i].instances) counts.set(ins.objId, (counts.get(ins.objId) ?? 0) + 1);
  const ranked = ds.objects
    .filter((o) => (counts.get(o.id) ?? 0) > 0)
    .sort((a, b) => Number(!!b.mesh) - Number(!!a.mesh) || (counts.get(b.id) ?? 0) - (counts.get(a.id) ?? 0) || a.id - b.id);
  if (ranked.length === 0) throw new Error(`no object has an instance in the training split (${split.how}; ${ds.images.length} images)`);
  return ranked[0];
}

function poseObject(obj: DatasetObject, kp: ObjectKeypoints, outlineMm: Float64Array | null | undefined): PoseObject {
  const pts = pickRows(obj.mesh ? Float64Array.from(obj.mesh.positions) : boxCorners(obj.boundsMm), kMaxMetricPoints, hashSeed(obj.id, 0xadd));
  // Metrics: the evaluation model (models_eval) when there is one, all its vertices searched for ADD-S
  // neighbours; averaged over all of them up to kMaxMetricAveragePoints, a seeded pick beyond.
  const evalMesh = obj.evalMesh ?? obj.mesh;
  const metricModelMm = evalMesh ? Float64Array.from(evalMesh.positions) : undefined;
  const metricPointsMm = metricModelMm ? pickRows(metricModelMm, kMaxMetricAveragePoints, hashSeed(obj.id, 0xadd5)) : undefined;
  return {
    id: obj.id, name: obj.name, diameterMm: obj.diameterMm, symmetric: obj.symmetric, keypointsMm: kp.pointsMm, pointsMm: pts,
    outlineMm: outlineMm === null ? undefined : outlineMm ?? (obj.mesh ? extremePoints(obj.mesh.positions) : boxCorners(obj.boundsMm)),
    metricPointsMm, metricModelMm, metricDiameterMm: obj.evalMesh ? obj.evalDiameterMm : undefined,
  };
}

/** Points the metrics average over at most: the mean over a uniform pick estimates the mean over all. */
export const kMaxMetricAveragePoints = 20_000;
