/**
 * The training bundle as a zip, on the worker side:
 *   model.json + weights.bin   a TensorFlow.js Layers model (tf.loadLayersModel reads it as is)
 *   poselab.json               what the model is for: config, object, keypoints (mm, centre last), step
 *   checkpoint.json/.bin       train/checkpoint.ts's files, to continue training exactly
 * An adapter over train/ (model save, checkpoint files) and fflate; nothing here knows the page.
 */
import * as tf from '@tensorflow/tfjs';
import { unzipSync, zipSync } from 'fflate';
import { checkpointFromFiles, checkpointToFiles, kCheckpointBin, kCheckpointJson, type Checkpoint } from '../train/checkpoint';
import type { TrainConfig } from '../train/config';
import type { PoseObject } from '../train/data';

export const kBundleModel = 'model.json';
export const kBundleWeights = 'weights.bin';
export const kBundleMeta = 'poselab.json';

export interface BundleMeta {
  format: 'poselab-bundle';
  version: 1;
  step: number;
  config: TrainConfig;
  object: { id: number; name: string; diameterMm: number; symmetric: boolean };
  /** [k, 3] mm, centre last */
  keypointsMm: number[];
  dataset: string;
  createdAt: string;
}

export interface ParsedBundle {
  meta: BundleMeta;
  checkpoint?: Checkpoint;
  /** Model artifacts, when the bundle has model.json and weights.bin. */
  artifacts?: tf.io.ModelArtifacts;
}

const enc = (s: string) => new TextEncoder().encode(s);

/** The model's Layers format files: model.json (one weights file) and weights.bin. */
export async function layersModelFiles(model: tf.LayersModel): Promise<Map<string, Uint8Array>> {
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(tf.io.withSaveHandler(async (a) => {
    saved = a;
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  if (!saved?.weightData || !saved.weightSpecs) throw new Error('bundle: the model saved no weights');
  const weights = Array.isArray(saved.weightData) ? tf.io.concatenateArrayBuffers(saved.weightData) : saved.weightData;
  const modelJson = {
    format: 'layers-model',
    generatedBy: `TensorFlow.js tfjs-layers v${tf.version.tfjs}`,
    convertedBy: null,
    modelTopology: saved.modelTopology,
    weightsManifest: [{ paths: [kBundleWeights], weights: saved.weightSpecs }],
  };
  return new Map([
    [kBundleModel, enc(JSON.stringify(modelJson))],
    [kBundleWeights, new Uint8Array(weights)],
  ]);
}

export async function writeBundle(model: tf.LayersModel, checkpoint: Checkpoint, object: PoseObject, dataset: string): Promise<Uint8Array> {
  const meta: BundleMeta = {
    format: 'poselab-bundle',
    version: 1,
    step: checkpoint.step,
    config: checkpoint.config,
    object: { id: object.id, name: object.name, diameterMm: object.diameterMm, symmetric: object.symmetric },
    keypointsMm: Array.from(object.keypointsMm),
    dataset,
    createdAt: new Date().toISOString(),
  };
  const files: Record<string, Uint8Array> = { [kBundleMeta]: enc(JSON.stringify(meta, null, 1)) };
  for (const [name, bytes] of await layersModelFiles(model)) files[name] = bytes;
  for (const [name, bytes] of checkpointToFiles(checkpoint)) files[name] = bytes;
  return zipSync(files, { level: 6 });
}

/** Throws, naming the file, when the zip is not a PoseLab bundle. */
export function readBundle(zip: Uint8Array): ParsedBundle {
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(zip);
  } catch (e) {
    throw new Error(`bundle: not a readable zip (${e instanceof Error ? e.message : String(e)})`);
  }
  // A bundle zipped by hand may sit in one folder: strip a common prefix.
  const names = Object.keys(files).filter((n) => !n.endsWith('/'));
  const metaName = names.find((n) => n === kBundleMeta || n.endsWith(`/${kBundleMeta}`));
  if (!metaName) throw new Error(`bundle: ${kBundleMeta} missing (files: ${names.slice(0, 6).join(', ') || 'none'})`);
  const prefix = metaName.slice(0, metaName.length - kBundleMeta.length);
  const get = (n: string) => files[prefix + n];
  const meta = JSON.parse(new TextDecoder().decode(get(kBundleMeta))) as BundleMeta;
  if (meta.format !== 'poselab-bundle') throw new Error(`bundle: ${kBundleMeta} has format ${String(meta.format)}, 'poselab-bundle' expected`);
  if (!Array.isArray(meta.keypointsMm) || meta.keypointsMm.length % 3 !== 0) throw new Error(`bundle: ${kBundleMeta} keypointsMm is not a [k, 3] list`);
  const out: ParsedBundle = { meta };
  if (get(kCheckpointJson) && get(kCheckpointBin)) {
    out.checkpoint = checkpointFromFiles(new Map([[kCheckpointJson, get(kCheckpointJson)], [kCheckpointBin, get(kCheckpointBin)]]));
  }
  const mj = get(kBundleModel);
  const wb = get(kBundleWeights);
  if (mj && wb) {
    const j = JSON.parse(new TextDecoder().decode(mj)) as { modelTopology: object; weightsManifest: { weights: tf.io.WeightsManifestEntry[] }[] };
    out.artifacts = {
      modelTopology: j.modelTopology,
      weightSpecs: j.weightsManifest.flatMap((g) => g.weights),
      weightData: wb.buffer.slice(wb.byteOffset, wb.byteOffset + wb.byteLength) as ArrayBuffer,
    };
  }
  if (!out.checkpoint && !out.artifacts) throw new Error(`bundle: neither ${kCheckpointJson}/${kCheckpointBin} nor ${kBundleModel}/${kBundleWeights} found`);
  return out;
}
