/**
 * The exported model: one bundle of files, as a folder (command line) or a zip (page and command line).
 *
 *   model.json      TensorFlow.js Layers model (topology + weightsManifest -> weights.bin); served
 *   weights.bin     beside each other over http, tf.loadLayersModel('.../model.json') reads them as is
 *   poselab.json    what a predictor needs beyond the network: the object (class), its 3D keypoints in
 *                   mm in heatmap order, the input size and normalisation, the heatmap stride, the crop
 *                   policy, the training config and step, and the final metrics
 *   localiser.json, localiser.weights.bin   the localiser (localiser.ts), a Layers model like the first:
 *                   whole image letterboxed to its input -> centre heatmap and log box size maps
 *   checkpoint.json, checkpoint.bin   optional: weights and Adam state to continue training exactly
 *
 * poselab.json records the SHA-256 of the networks' files (BundleMeta.files), so that networks of another
 * save than poselab.json's (a save cut among its renames) are told, not used as if they were its own.
 *
 * Pure in-memory (Map of path -> bytes, fflate for the zip): no Node imports, so the page's worker
 * exports and imports bundles with the same code as the command line.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import * as tf from '@tensorflow/tfjs';
import { unzipSync, zipSync } from 'fflate';
import { fileKind } from '../data/source/fileKind';
import { checkpointFromFiles, checkpointToFiles, kCheckpointBin, kCheckpointJson, type Checkpoint, type NamedArray } from './checkpoint';
import { upgradeConfig, validateConfig, type TrainConfig } from './config';
import type { PoseObject, TrainingSample } from './trainingData';
import { predictBatch, type EvalOptions, type Prediction } from './evaluate';
import type { TrainingEngine } from './engine';
import type { PoseMetrics } from './metrics';
import { kConfidenceOutput, kHeatmapOutput, kInputName } from './model';

export type BundleFiles = Map<string, Uint8Array>;

export const kModelJson = 'model.json';
export const kWeightsBin = 'weights.bin';
export const kPoselabJson = 'poselab.json';
export const kLocaliserJson = 'localiser.json';
export const kLocaliserBin = 'localiser.weights.bin';

/** poselab.json */
export interface BundleMeta {
  format: 'poselab-bundle';
  version: 1;
  /** The object the network finds (BOP obj_id, name, diameter, symmetry for ADD-S). */
  class: { id: number; name: string; diameterMm: number; symmetric: boolean };
  /** [k][3] mm, model frame, in heatmap channel order (centre last). */
  keypointsMm: number[][];
  input: {
    name: string;
    /** Square side, px. */
    sizePx: number;
    /** NHWC float32 RGB, rows top to bottom; x = (rgb / 255 - mean) / std per channel. */
    layout: 'NHWC-RGB';
    mean: number[];
    std: number[];
  };
  outputs: {
    /** [B, S/stride, S/stride, k] logits; keypoint = soft-argmax (spatial softmax, expected cell centre). */
    heatmaps: string;
    /** [B, k] in [0, 1], the bpnp weights, when present. */
    confidence?: string;
    /** Crop px per heatmap cell; cell i's centre is at stride i + (stride - 1) / 2 px. */
    stride: number;
  };
  /**
   * How a crop is cut from an image: side = longest box side x (1 + padding), centred on the box.
   * outlineMm [e][3] mm, model frame: the points whose projection with a first pose places the refined
   * crop (refine.ts); bundles written before refinement have none and predict from the first crop.
   */
  crop: { padding: number; from: 'mask' | 'model'; outlineMm?: number[][] };
  /**
   * The localiser (absent in bundles of runs that trained none: those can only be evaluated with
   * oracle crops): its model file, its square input (the whole image letterboxed, same normalisation),
   * and the score below which a detection is a miss.
   */
  localiser?: { model: string; sizePx: number; minScore: number };
  config: TrainConfig;
  /** Training steps done. */
  step: number;
  /**
   * The train/test split the run used (data/split.ts Split.how and .automatic), so an automatic split of a
   * test-only dataset travels with the model. Optional: bundles written before it have none.
   */
  split?: { how: string; automatic: boolean };
  /**
   * The dataset the run trained on, as loaded (data/dataset.ts Dataset.name, its folder's or zip's name, and
   * .format), so that an evaluation can say whether it is that one. Optional: bundles written before it have none.
   */
  dataset?: { name: string; format: string };
  metrics?: PoseMetrics;
  /** Whether checkpoint.json / checkpoint.bin are in the bundle. */
  hasCheckpoint: boolean;
  /**
   * file name -> SHA-256 of its bytes, 64 lowercase hex digits, for each network file written before
   * poselab.json: model.json, weights.bin, and localiser.json, localiser.weights.bin when there is a localiser.
   * A save replaces those files before poselab.json (bundleWriteOrder), so a process killed
   * among the renames can leave a later save's networks beside this poselab.json, its step and its metrics:
   * importBundle compares the digests and says so (LoadedBundle.filesProblem). It lists exactly those files
   * (checkMeta refuses any other set). Optional: bundles written before it have none and are read unchecked.
   */
  files?: Record<string, string>;
}

export interface ExportInput {
  model: tf.LayersModel;
  localiser?: tf.LayersModel;
  object: PoseObject;
  config: TrainConfig;
  step: number;
  metrics?: PoseMetrics;
  /** Include to let an import continue training exactly. */
  checkpoint?: Checkpoint;
  /** The run's train/test split (data/split.ts), recorded so that an automatic split travels with the model. */
  split?: { how: string; automatic: boolean };
  /** The dataset the run trained on (BundleMeta.dataset). */
  dataset?: { name: string; format: string };
}

/**
 * The dataset as poselab.json records it: a folder's name may hold anything, and the field is printed, so its
 * control characters become '?' (importBundle refuses them).
 */
export function recordedDataset(d: { name: string; format: string }): { name: string; format: string } {
  return { name: d.name.replace(kControlChars, '?'), format: d.format };
}

/** C0 controls and DEL: what poselab.json's printed text fields must not hold (search and replace only: it is global). */
const kControlChars = /[\u0000-\u001f\u007f]/g;

/** The bundle's files. */
export async function exportBundle(e: ExportInput): Promise<BundleFiles> {
  const k = e.object.keypointsMm.length / 3;
  const out = e.model.outputs.map((o) => o.name.split('/')[0]);
  const files: BundleFiles = new Map();
  await saveModel(e.model, kModelJson, kWeightsBin, files);
  if (e.localiser) await saveModel(e.localiser, kLocaliserJson, kLocaliserBin, files);
  const meta: BundleMeta = {
    format: 'poselab-bundle',
    version: 1,
    class: { id: e.object.id, name: e.object.name, diameterMm: e.object.diameterMm, symmetric: e.object.symmetric },
    keypointsMm: rows3(e.object.keypointsMm),
    input: { name: kInputName, sizePx: e.config.model.inputPx, layout: 'NHWC-RGB', mean: [...e.config.data.mean], std: [...e.config.data.std] },
    outputs: {
      heatmaps: kHeatmapOutput,
      confidence: out.some((n) => n.startsWith(kConfidenceOutput)) ? kConfidenceOutput : undefined,
      stride: e.config.model.heatmapStride,
    },
    crop: { padding: e.config.data.padding, from: e.config.data.cropFrom, outlineMm: e.object.outlineMm && rows3(e.object.outlineMm) },
    localiser: e.localiser ? { model: kLocaliserJson, sizePx: e.config.localiser.model.inputPx, minScore: e.config.localiser.minScore } : undefined,
    config: e.config,
    step: e.step,
    metrics: e.metrics,
    split: e.split && { how: e.split.how, automatic: e.split.automatic },
    dataset: e.dataset && recordedDataset(e.dataset),
    hasCheckpoint: !!e.checkpoint,
    // Every file so far is a network's: the ones a save writes before poselab.json.
    files: Object.fromEntries([...files].map(([name, bytes]) => [name, fileDigest(bytes)])),
  };
  files.set(kPoselabJson, utf8(JSON.stringify(meta, null, 1)));
  if (e.checkpoint) for (const [name, bytes] of checkpointToFiles(e.checkpoint)) files.set(name, bytes);
  return files;
}

/**
 * An engine's current state as a bundle; withCheckpoint adds what continuing exactly needs: true takes it
 * now, a Checkpoint (the engine's checkpoint event at its current step) is used as it is. Call it while
 * the engine is paused or done: mid-step, the weights and Adam's moments may be read on either side of an
 * update.
 */
export async function exportEngine(engine: TrainingEngine,
  opts: { withCheckpoint?: boolean | Checkpoint; metrics?: PoseMetrics } & Pick<ExportInput, 'split' | 'dataset'> = {}): Promise<BundleFiles> {
  const c = opts.withCheckpoint;
  if (typeof c === 'object' && c.step !== engine.step) throw new Error(`exportEngine: the checkpoint is of step ${c.step}, the engine at step ${engine.step}`);
  return exportBundle({
    model: engine.inferenceModel,
    localiser: engine.localiser.model,
    object: engine.object,
    config: engine.config,
    step: engine.step,
    metrics: opts.metrics ?? engine.lastMetrics,
    split: opts.split,
    dataset: opts.dataset,
    checkpoint: typeof c === 'object' ? c : c ? await engine.checkpoint() : undefined,
  });
}

/** The bundle as one zip (stored, not deflated: float weights barely compress). */
export function zipBundle(files: BundleFiles): Uint8Array {
  return zipSync(Object.fromEntries([...files].map(([n, b]) => [n, [b, { level: 0 }]])));
}

/** The files of a zipped bundle; a bundle zipped inside one folder is found there too. */
export function unzipBundle(zip: Uint8Array): BundleFiles {
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(zip);
  } catch (e) {
    // A zip whose reading failed keeps the reader's reason; any other file is named as what it is.
    const kind = fileKind(zip);
    throw new Error(`bundle: not a readable zip (${kind && kind !== 'a zip archive' ? `it is ${kind}` : e instanceof Error ? e.message : String(e)})`);
  }
  return rootedBundle(new Map(Object.entries(entries).filter(([n]) => !n.endsWith('/'))));
}

/** Re-roots files at the folder that holds poselab.json (one level of wrapping folder is common). */
export function rootedBundle(files: BundleFiles): BundleFiles {
  const prefix = bundleRoot(files);
  if (prefix === '') return files;
  return new Map([...files].filter(([p]) => p.startsWith(prefix)).map(([p, b]) => [p.slice(prefix.length), b]));
}

/** The folder within files that holds poselab.json, as a path prefix ('' at the top, or 'name/'; '' when there is none). */
export function bundleRoot(files: BundleFiles): string {
  if (files.has(kPoselabJson)) return '';
  const metaPath = [...files.keys()].filter((p) => p.endsWith(`/${kPoselabJson}`)).sort((a, b) => a.length - b.length)[0];
  return metaPath ? metaPath.slice(0, -kPoselabJson.length) : '';
}

/**
 * The temporary name's suffix of each file a save writes (the command line's writeBundlePath). One name for every
 * save: a save cut short while it writes leaves its files to the next one, which writes over them; one cut among its
 * renames leaves the rest of it under this name (laterSave).
 */
export const kPartial = '.partial';

/**
 * The order a bundle's files replace their old copies: the networks' files, then poselab.json, then
 * checkpoint.bin, and checkpoint.json last. Cut anywhere, the folder holds either the old checkpoint beside
 * the old poselab.json (it continues exactly from the old save: the checkpoint carries its own weights; the
 * networks' files may be the new save's already, or some of them, which poselab.json's digests reveal, so that
 * eval and predict refuse them: LoadedBundle.filesProblem; the rest of the new save is then under its temporary
 * names, whole, and its renames can be finished: laterSave) or a checkpoint.json whose step is not poselab.json's,
 * which importBundle refuses, and whose remedy (remove the checkpoint, continue from the weights) then finds the
 * networks' files of poselab.json's own save.
 */
export function bundleWriteOrder(names: string[]): string[] {
  const rank = (n: string) => [kPoselabJson, kCheckpointBin, kCheckpointJson].indexOf(n) + 1;
  return [...names].sort((a, b) => rank(a) - rank(b));
}

function sameBytes(a: Uint8Array | undefined, b: Uint8Array): boolean {
  return a !== undefined && a.length === b.length && a.every((v, i) => v === b[i]);
}

/** A later save found whole under the temporary names of a save cut among its renames (laterSave). */
export interface LaterSave {
  /** Its step (its poselab.json's). */
  step: number;
  /** Its run's total steps (its config's optim.steps): a save at it continues only with a larger total. */
  steps: number;
  /** Its files still under their temporary names (`name` + kPartial), in bundleWriteOrder: the renames left to do. */
  left: string[];
}

/**
 * The later save of a bundle cut among its renames, when the files hold all of it: a save writes every file as
 * name.partial before the first rename, so one cut among them is whole, part under its temporary names and part
 * renamed, and is the run's newest state. The later save is the files with each name.partial taken for name; whole
 * means: its poselab.json (still temporary, or renamed already) reads, every network file it lists has the SHA-256
 * it records (filesNotAsRecorded), and its checkpoint, when it has one, reads and is of its step. That covers both
 * kinds of cut: before poselab.json's rename (networks of another save, LoadedBundle.filesProblem) and after it (a
 * checkpoint of another step, checkpointProblem), whose remedy would otherwise drop Adam's moments or go back a
 * save. The files are a folder's or a zip's (one made of such a folder). Undefined without .partial files, when
 * the later save is not whole, and when its .partial files hold nothing the renamed ones do not.
 */
export function laterSave(files: BundleFiles): LaterSave | undefined {
  const bundle = rootedBundle(files);
  const partial = [...bundle.keys()].filter((name) => name.endsWith(kPartial) && !name.includes('/')).map((name) => name.slice(0, -kPartial.length));
  if (partial.length === 0) return undefined;
  const later: BundleFiles = new Map([...bundle].filter(([name]) => !name.endsWith(kPartial)));
  for (const name of partial) later.set(name, bundle.get(name + kPartial)!);
  let meta: BundleMeta;
  try {
    meta = readBundleMeta(later.get(kPoselabJson) ?? new Uint8Array());
    // A checkpoint beside a save that has none would be of another one: not a whole save.
    if (meta.hasCheckpoint ? checkpointFromFiles(later).step !== meta.step : later.has(kCheckpointJson) || later.has(kCheckpointBin)) return undefined;
  } catch {
    // Not readable: cut while it was written, not among the renames.
    return undefined;
  }
  if (!meta.files || filesNotAsRecorded(meta.files, (name) => later.get(name)).length > 0) return undefined;
  // The save's own files in the order they are renamed (exportBundle's order, which poselab.json's files keeps,
  // then bundleWriteOrder's last three); another name.partial (a person's, say) is left where it is.
  const own = bundleWriteOrder([...Object.keys(meta.files), kPoselabJson, ...(meta.hasCheckpoint ? [kCheckpointBin, kCheckpointJson] : [])]);
  const left = own.filter((name) => partial.includes(name));
  // Nothing to finish: only others' .partial files, or the save's own whose bytes are already in place (a save cut
  // while it wrote its first files, model.json being the same in every save of a run).
  if (left.every((name) => sameBytes(bundle.get(name), later.get(name)!))) return undefined;
  return { step: meta.step, steps: meta.config.optim.steps, left };
}

export interface LoadedBundle {
  model: tf.LayersModel;
  /** Absent in bundles of runs that trained none. */
  localiser?: tf.LayersModel;
  meta: BundleMeta;
  /** [k, 3] mm, heatmap order: the 3D points bpnp pairs with the predicted keypoints. */
  keypointsMm: Float64Array;
  /** [e, 3] mm: meta.crop.outlineMm, when the bundle has it. */
  outlineMm?: Float64Array;
  checkpoint?: Checkpoint;
  /**
   * Why the checkpoint the bundle carries cannot be read (one of its two files missing, a field malformed):
   * prediction and evaluation need none and go on, saying so; continuing the run refuses (resumeCheckpoint).
   */
  checkpointProblem?: string;
  /**
   * Which network files differ from the SHA-256 poselab.json records for them (BundleMeta.files), with both
   * digests, and what that means: the bundle's files come from two saves (one cut among its renames) or were
   * changed since it was saved, so its networks are not those of poselab.json's step and metrics. importBundle
   * records it, it does not throw: prediction and evaluation refuse such a bundle (each host with its own remedy),
   * while continuing the run takes the weights of poselab.json's step from a whole checkpoint and refuses without
   * one (resumeCheckpoint). Absent when every digest matches or the bundle records none.
   */
  filesProblem?: string;
}

/**
 * The files found where a bundle was expected, in a line: the first few, how many more, and, for the files
 * of a dataset (a BOP scene_gt.json or models_info.json, a PVNet-LINEMOD pose folder), that it is one.
 */
function filesInWords(names: string[]): string {
  if (names.length === 0) return 'no files';
  const dataset = names.some((n) => /(^|\/)(scene_gt\.json|models_info\.json)$|(^|\/)pose\/pose\d+\.npy$/.test(n));
  const shown = names.slice(0, 8).join(', ') + (names.length > 8 ? `, ... and ${names.length - 8} more` : '');
  return `${names.length} file${names.length === 1 ? '' : 's'}: ${shown}${dataset ? '; these are a dataset\'s files, not a bundle\'s' : ''}`;
}

/**
 * poselab.json's bytes as BundleMeta, its config brought up to date; throws, naming the field and value, when it is
 * not a version 1 PoseLab bundle's or a field is malformed (checkMeta, validateConfig).
 */
export function readBundleMeta(bytes: Uint8Array): BundleMeta {
  const meta = parseJson<BundleMeta>(bytes, kPoselabJson);
  if (meta.format !== 'poselab-bundle' || meta.version !== 1) {
    throw new Error(`bundle: ${kPoselabJson} is not a version 1 PoseLab bundle (format ${String(meta.format)}, version ${String(meta.version)})`);
  }
  checkMeta(meta);
  meta.config = upgradeConfig(meta.config).config;
  try {
    validateConfig(meta.config);
  } catch (e) {
    throw new Error(`bundle: ${kPoselabJson}: ${e instanceof Error ? e.message : String(e)}`);
  }
  return meta;
}

/** Reads a bundle's files back into a model, its metadata and (when present) its checkpoint. */
export async function importBundle(input: BundleFiles): Promise<LoadedBundle> {
  const files = rootedBundle(input);
  const need = (name: string) => {
    const b = files.get(name);
    if (!b) throw new Error(`bundle: ${name} missing (${filesInWords([...files.keys()])})`);
    return b;
  };
  const meta = readBundleMeta(need(kPoselabJson));
  const differ = filesNotAsRecorded(meta.files ?? {}, (name) => files.get(name));
  // A file the digests name must be there (its absence says more than a digest that cannot be compared).
  const absent = differ.find((d) => d.found === undefined);
  if (absent) throw new Error(`bundle: ${absent.name} missing (${kPoselabJson} files lists it; ${filesInWords([...files.keys()])})`);
  const filesProblem = differ.length > 0 ? filesOfTwoSaves(differ, meta.step) : undefined;
  const model = await loadModel(kModelJson, need);
  const localiser = meta.localiser ? await loadModel(meta.localiser.model, need) : undefined;
  const k = meta.keypointsMm.length;
  const heat = model.outputs[0].shape;
  if (heat[3] !== k) throw new Error(`bundle: the model has ${String(heat[3])} heatmaps, ${kPoselabJson} ${k} keypoints`);
  if (heat[1]! * meta.outputs.stride !== meta.input.sizePx) {
    throw new Error(`bundle: ${kPoselabJson} outputs.stride = ${String(meta.outputs.stride)}, but the model's ${String(heat[1])}-cell heatmaps of a ${meta.input.sizePx} px input are at stride ${meta.input.sizePx / heat[1]!}`);
  }
  const outline = meta.crop.outlineMm;
  let checkpoint: Checkpoint | undefined;
  let checkpointProblem: string | undefined;
  const [hasJson, hasBin] = [files.has(kCheckpointJson), files.has(kCheckpointBin)];
  try {
    if (hasJson !== hasBin) throw new Error(`checkpoint: ${hasJson ? kCheckpointBin : kCheckpointJson} missing beside ${hasJson ? kCheckpointJson : kCheckpointBin}`);
    const c = hasJson ? checkpointFromFiles(files) : undefined;
    if (c && c.step !== meta.step) throw new Error(`checkpoint: ${kCheckpointJson} is at step ${c.step}, ${kPoselabJson} at step ${meta.step}: they are not of one export`);
    checkpoint = c;
  } catch (e) {
    checkpointProblem = e instanceof Error ? e.message : String(e);
  }
  return {
    model, localiser, meta, keypointsMm: Float64Array.from(meta.keypointsMm.flat()), outlineMm: outline && Float64Array.from(outline.flat()),
    checkpoint, checkpointProblem, filesProblem,
  };
}

/** A file whose bytes are not those poselab.json records for it (BundleMeta.files), with both SHA-256 digests. */
export interface FileMismatch {
  name: string;
  recorded: string;
  /** The file's digest; undefined when there is no such file. */
  found?: string;
}

/**
 * The files `recorded` (BundleMeta.files) lists whose bytes, as bytesOf gives them, have another SHA-256 than it
 * records, in its order: a bundle's own files, or (src/cli/common.ts) a later save whose renames were cut.
 */
export function filesNotAsRecorded(recorded: Record<string, string>, bytesOf: (name: string) => Uint8Array | undefined): FileMismatch[] {
  return Object.entries(recorded).flatMap(([name, digest]) => {
    const bytes = bytesOf(name);
    const found = bytes && fileDigest(bytes);
    return found === digest ? [] : [{ name, recorded: digest, found }];
  });
}

/**
 * LoadedBundle.filesProblem for the network files that are not as poselab.json (of `step`) records, each with the
 * first 12 hex digits of both digests. Two causes fit, and nothing in the files tells them apart: a save cut among
 * its renames (bundleWriteOrder) or a file changed by hand or copied in from elsewhere.
 */
function filesOfTwoSaves(differ: FileMismatch[], step: number): string {
  const one = differ.length === 1;
  const names = differ.map((d) => d.name);
  const list = one ? names[0] : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
  const short = (digest: string | undefined) => (digest === undefined ? 'no file' : `${digest.slice(0, 12)}...`);
  const digests = differ.map((d) => `${one ? '' : `of ${d.name} `}recorded ${short(d.recorded)}, found ${short(d.found)}`).join('; ');
  return `bundle: ${list} ${one ? 'is not the file' : 'are not the files'} ${kPoselabJson} records (SHA-256 ${digests}): the bundle's files come ` +
    `from two saves (one cut among its renames) or were changed since it was saved, so its networks are not those of ${kPoselabJson}'s ` +
    `step ${step} and its metrics`;
}

/** SHA-256 of a file's bytes, 64 lowercase hex digits (BundleMeta.files); synchronous, so the same on pages without WebCrypto. */
function fileDigest(bytes: Uint8Array): string {
  return bytesToHex(sha256(bytes));
}

/** What BundleMeta.files holds for each file. */
const kSha256Hex = /^[0-9a-f]{64}$/;

/**
 * Throws, listing every problem by its field's path and value, when poselab.json's fields that prediction
 * reads are missing or out of range (a model cannot be used on a photo with a string for a keypoint or a
 * zero std, and must not fail later with a NaN pose).
 */
function checkMeta(meta: BundleMeta): void {
  const problems: string[] = [];
  const m = meta as unknown as Record<string, unknown>;
  const at = (path: string): unknown => path.split('.').reduce<unknown>((o, k) => (o !== null && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), m);
  const say = (path: string, want: string) => problems.push(`${path} = ${JSON.stringify(at(path)) ?? 'missing'}: expected ${want}`);
  const num = (path: string, ok: (v: number) => boolean, want: string) => {
    const v = at(path);
    if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) say(path, want);
  };
  const pointRows = (path: string, min: number): number[][] | undefined => {
    const v = at(path);
    if (!Array.isArray(v) || v.length < min || !v.every((r) => Array.isArray(r) && r.length === 3 && r.every((x) => typeof x === 'number' && Number.isFinite(x)))) {
      say(path, `a list of at least ${min} [x, y, z] finite numbers (mm)`);
      return undefined;
    }
    return v as number[][];
  };
  num('class.id', (v) => Number.isInteger(v) && v >= 0, 'an integer obj_id >= 0');
  num('step', (v) => Number.isInteger(v) && v >= 0, 'the training steps done, an integer >= 0');
  num('class.diameterMm', (v) => v > 0, 'a diameter > 0 mm');
  pointRows('keypointsMm', 4);
  num('input.sizePx', (v) => Number.isInteger(v) && v > 0, 'a positive integer');
  for (const key of ['mean', 'std'] as const) {
    const v = at(`input.${key}`);
    if (!Array.isArray(v) || v.length !== 3 || !v.every((x) => typeof x === 'number' && Number.isFinite(x) && (key === 'mean' || x > 0))) {
      say(`input.${key}`, key === 'mean' ? '3 finite numbers' : '3 numbers > 0');
    }
  }
  num('outputs.stride', (v) => v === 2 || v === 4, '2 or 4');
  const crop = at('crop');
  if (crop === null || typeof crop !== 'object' || Array.isArray(crop)) say('crop', 'an object with padding (and outlineMm)');
  else num('crop.padding', (v) => v >= 0, 'a number >= 0');
  if (at('crop.outlineMm') !== undefined) {
    const outline = pointRows('crop.outlineMm', 4);
    const d = at('class.diameterMm');
    if (outline && typeof d === 'number' && d > 0) {
      // The outline's box diagonal is between the object's diameter and sqrt(3) times it; far outside, it
      // is another object's or in other units (and would place every refined crop wrongly).
      const lo = [0, 1, 2].map((k) => Math.min(...outline.map((r) => r[k])));
      const hi = [0, 1, 2].map((k) => Math.max(...outline.map((r) => r[k])));
      const diag = Math.hypot(hi[0] - lo[0], hi[1] - lo[1], hi[2] - lo[2]);
      if (!(diag >= 0.5 * d && diag <= 2 * d)) problems.push(`crop.outlineMm spans ${diag.toPrecision(4)} mm (its box's diagonal), not within 0.5 to 2 times class.diameterMm = ${d} mm`);
    }
  }
  if (at('localiser') !== undefined) {
    num('localiser.sizePx', (v) => Number.isInteger(v) && v > 0, 'a positive integer');
    num('localiser.minScore', (v) => v >= 0 && v <= 1, 'a score in [0, 1]');
  }
  const dataset = at('dataset');
  if (dataset !== undefined) {
    if (dataset === null || typeof dataset !== 'object' || Array.isArray(dataset)) say('dataset', 'an object with name and format');
    // Printed by eval: no control characters (a forged line, a terminal escape).
    else for (const key of ['name', 'format']) {
      const v = at(`dataset.${key}`);
      if (typeof v !== 'string' || v.search(kControlChars) >= 0) say(`dataset.${key}`, 'a string without control characters');
    }
  }
  const files = at('files');
  if (files !== undefined) {
    const want = 'an object of file name -> SHA-256 digest (64 lowercase hex digits)';
    if (files === null || typeof files !== 'object' || Array.isArray(files)) say('files', want);
    else {
      // A file's name holds dots: its path is written with brackets.
      for (const [name, digest] of Object.entries(files)) {
        if (typeof digest !== 'string' || !kSha256Hex.test(digest)) problems.push(`files[${JSON.stringify(name)}] = ${JSON.stringify(digest)}: expected a SHA-256 digest, 64 lowercase hex digits`);
      }
      // Exactly the files a save writes before poselab.json: a network file left out would go unchecked (used as
      // poselab.json's own when it is another save's), and poselab.json or the checkpoint, written after it, can
      // never match, so a mismatch there would be blamed on the networks.
      const networks = [kModelJson, kWeightsBin, ...(at('localiser') !== undefined ? [kLocaliserJson, kLocaliserBin] : [])];
      const listed = Object.keys(files);
      const missing = networks.filter((n) => !listed.includes(n));
      const extra = listed.filter((n) => !networks.includes(n)).map((n) => JSON.stringify(n));
      if (missing.length > 0 || extra.length > 0) {
        const wrong = [...(missing.length > 0 ? [`${missing.join(', ')} missing`] : []), ...(extra.length > 0 ? [`${extra.join(', ')} extra`] : [])];
        problems.push(`files: ${wrong.join('; ')}: expected the SHA-256 of exactly the networks' files, ${networks.join(', ')}` +
          `${at('localiser') === undefined ? ` (${kPoselabJson} has no localiser)` : ''}`);
      }
    }
  }
  if (problems.length > 0) throw new Error(problems.map((p) => `bundle: ${kPoselabJson} ${p}`).join('\n'));
}

/** Writes a Layers model as `jsonName` + `binName` into files (tf.loadLayersModel reads the pair as served). */
async function saveModel(model: tf.LayersModel, jsonName: string, binName: string, files: BundleFiles): Promise<void> {
  await model.save(tf.io.withSaveHandler(async (a) => {
    const modelJson: tf.io.ModelJSON = {
      modelTopology: a.modelTopology as tf.io.ModelJSON['modelTopology'],
      format: 'layers-model',
      generatedBy: a.generatedBy,
      convertedBy: null,
      weightsManifest: [{ paths: [binName], weights: a.weightSpecs ?? [] }],
    };
    files.set(jsonName, utf8(JSON.stringify(modelJson)));
    files.set(binName, new Uint8Array(a.weightData ? tf.io.CompositeArrayBuffer.join(a.weightData) : new ArrayBuffer(0)));
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
}

async function loadModel(jsonName: string, need: (name: string) => Uint8Array): Promise<tf.LayersModel> {
  const modelJson = parseJson<tf.io.ModelJSON>(need(jsonName), jsonName);
  const artifacts = await tf.io.getModelArtifactsForJSON(modelJson, async (manifest) => {
    const specs = manifest.flatMap((g) => g.weights);
    const paths = manifest.flatMap((g) => g.paths);
    const bufs = paths.map((p) => {
      const b = need(p);
      return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
    });
    // tfjs would say "the tensor should have 288 values but has 138", naming neither file nor model.
    const expected = weightBytes(specs);
    const found = bufs.reduce((a, b) => a + b.byteLength, 0);
    if (expected !== undefined && found !== expected) {
      throw new Error(`bundle: ${paths.join(' + ')} ${paths.length === 1 ? 'has' : 'have'} ${found} bytes, ${found < expected ? 'shorter' : 'longer'} than the ` +
        `${expected} bytes ${jsonName}'s weightsManifest needs (${found < expected ? 'truncated' : 'another model\'s weights'}?)`);
    }
    return [specs, tf.io.concatenateArrayBuffers(bufs)];
  });
  return tf.loadLayersModel(tf.io.fromMemory(artifacts));
}

/** The bytes a weights manifest's tensors take, or undefined when one has no fixed size (strings). */
function weightBytes(specs: readonly tf.io.WeightsManifestEntry[]): number | undefined {
  const perValue: Record<string, number> = { float32: 4, int32: 4, bool: 1, complex64: 8, uint8: 1, uint16: 2, float16: 2 };
  let total = 0;
  for (const s of specs) {
    const bytes = perValue[s.quantization?.dtype ?? s.dtype];
    if (bytes === undefined) return undefined;
    total += bytes * s.shape.reduce((a, b) => a * b, 1);
  }
  return total;
}

/**
 * Where an evaluation of this bundle takes its crops: the bundle's localiser ('detected'), or the
 * ground truth's box ('oracle'). Throws, saying why, when 'detected' is asked of a bundle without one.
 */
export function bundleCrops(b: LoadedBundle, from: 'detected' | 'oracle'): EvalOptions['crops'] {
  if (from === 'oracle') return { from: 'oracle' };
  if (!b.localiser || !b.meta.localiser) {
    throw new Error('this bundle has no localiser (its run trained none), so its crops can only come from the ground truth: evaluate with oracle crops, labelled so');
  }
  return { from: 'detected', localiser: b.localiser, minScore: b.meta.localiser.minScore };
}

/** Poses for crops made with the bundle's crop policy (image [S, S, 3] RGB in [0, 1], kCrop). */
export function predictWithBundle(b: LoadedBundle, samples: readonly TrainingSample[], opts: { heatmaps?: boolean } = {}): Promise<Prediction[]> {
  return predictBatch(b.model, samples, b.keypointsMm, b.meta.input, opts);
}

/**
 * A checkpoint to continue from: the bundle's own when it has one (exact continuation, even beside networks
 * of another save: LoadedBundle.filesProblem), else its weights with fresh Adam moments at its step (the
 * learning-rate and beta schedules still pick up where they were). Throws when the checkpoint cannot be read,
 * and when the networks are of another save and no whole checkpoint holds poselab.json's weights.
 */
export async function resumeCheckpoint(b: LoadedBundle): Promise<Checkpoint> {
  // Networks of another save: only a whole checkpoint of poselab.json's step holds its weights (removing a
  // checkpoint that cannot be read would leave those networks to continue from).
  if (b.filesProblem && !b.checkpoint) {
    throw new Error(`${b.filesProblem}; ${b.checkpointProblem ? `its checkpoint cannot be read (${b.checkpointProblem})` : 'it has no checkpoint'}, ` +
      `so nothing in it holds the weights of step ${b.meta.step}: continue from another bundle of the run`);
  }
  if (b.checkpointProblem) throw new Error(`${b.checkpointProblem} (remove checkpoint.json and checkpoint.bin to continue from the weights alone, with fresh Adam moments)`);
  if (b.checkpoint) return b.checkpoint;
  const weightsOf = (m: tf.LayersModel) => Promise.all(m.trainableWeights.map(async (w) => ({
    name: w.originalName, shape: w.shape as number[], values: Float32Array.from(await w.read().data()),
  })));
  const fresh = (ws: NamedArray[]) => ({ t: 0, m: ws.map((w) => new Float32Array(w.values.length)), v: ws.map((w) => new Float32Array(w.values.length)) });
  const weights = await weightsOf(b.model);
  const loc = b.localiser ? await weightsOf(b.localiser) : undefined;
  return {
    format: 'poselab-checkpoint',
    version: 1,
    config: structuredClone(b.meta.config),
    step: b.meta.step,
    rng: { seed: b.meta.config.seed, samplesSeen: b.meta.step * b.meta.config.optim.batchSize },
    keypointsMm: b.meta.keypointsMm.flat(),
    weights,
    optimizer: fresh(weights),
    localiser: loc && { weights: loc, optimizer: fresh(loc) },
  };
}

function utf8(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

function parseJson<T>(b: Uint8Array, name: string): T {
  try {
    return JSON.parse(new TextDecoder().decode(b)) as T;
  } catch (e) {
    throw new Error(`bundle: ${name} is not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
}

/** [n, 3] flat -> n rows of 3 (JSON). */
function rows3(a: Float64Array): number[][] {
  return Array.from({ length: a.length / 3 }, (_, i) => Array.from(a.subarray(3 * i, 3 * i + 3)));
}
