/**
 * The training batches' thread in Node (started by batchThread.ts): the dataset opened again from its
 * path, TrainBatches on it with the first thread's config and keypoints, each batch handed over without
 * a copy (its arrays' buffers transferred), reached through comlink.
 */
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { parentPort } from 'node:worker_threads';
import { decodePure } from '../data/decode/pure';
import { loadDataset } from '../data/load';
import { openNodePath } from '../data/source/node';
import type { TrainConfig } from '../train/config';
import { datasetTrainingData } from '../train/datasetTrainingData';
import { TrainBatches, type TrainBatch } from '../train/trainBatches';

/** What the thread needs to cut the first thread's batches: the same dataset, object, keypoints and config. */
export interface BatchThreadArgs {
  /** The dataset's folder or zip, as the first thread opened it. */
  datasetPath: string;
  config: TrainConfig;
  objId: number;
  /** [k, 3] mm, the first thread's keypoints (so that both threads' targets are the same). */
  keypointsMm: Float64Array;
  /** The image cache's budget, bytes. */
  cacheBytes: number;
  /** The first thread's training instances (its data's trainKeys): the thread refuses to start on others. */
  trainKeys: string[];
}

/** A batch and the training images found unreadable while it was cut (each named once, by file). */
export interface BatchLoad {
  batch: TrainBatch;
  unreadable: { file: string; reason: string }[];
}

export class BatchThreadService {
  private batches: TrainBatches | null = null;
  private told = 0;
  private unreadable: () => { file: string; reason: string }[] = () => [];

  /** Opens the dataset; refuses, saying how, when its training instances are not the first thread's. */
  async start(a: BatchThreadArgs): Promise<void> {
    const ds = await loadDataset(await openNodePath(a.datasetPath));
    const data = datasetTrainingData(ds, a.config, { decode: decodePure, objId: a.objId, keypointsMm: a.keypointsMm, cacheBytes: a.cacheBytes });
    const i = firstDifference(a.trainKeys, data.trainKeys);
    if (i >= 0) {
      throw new Error(`${a.datasetPath} changed since it was opened: ${a.trainKeys.length} training instances then, ${data.trainKeys.length} now` +
        ` (the first to differ: ${a.trainKeys[i] ?? 'none'} then, ${data.trainKeys[i] ?? 'none'} now)`);
    }
    this.unreadable = () => data.unreadable();
    this.batches = new TrainBatches(data, a.config);
  }

  async load(step: number): Promise<BatchLoad> {
    if (!this.batches) throw new Error('BatchThreadService: start() was not called');
    const batch = await this.batches.load(step);
    const all = this.unreadable();
    const unreadable = all.slice(this.told);
    this.told = all.length;
    return Comlink.transfer({ batch, unreadable }, ownBuffers(batch));
  }
}

/** The first index where a and b differ (a length counts), or -1. */
function firstDifference(a: readonly string[], b: readonly string[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) if (a[i] !== b[i]) return i;
  return -1;
}

/** The buffers the batch's arrays own whole (a view into a larger buffer is copied instead of moved). */
export function ownBuffers(b: TrainBatch): ArrayBuffer[] {
  const arrays = [b.image, b.kCrop, b.poseGt, b.kpGtPx, b.targets, ...b.views.flatMap((v) => [v.image, v.boxViewPx])];
  const out = new Set<ArrayBuffer>();
  for (const a of arrays) if (a.byteOffset === 0 && a.byteLength === a.buffer.byteLength) out.add(a.buffer as ArrayBuffer);
  return [...out];
}

if (parentPort) Comlink.expose(new BatchThreadService(), nodeEndpoint(parentPort));
