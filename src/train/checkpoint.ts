/**
 * Checkpoints: everything a stopped run needs to continue exactly where it was. Weights and Adam's
 * moments in the model's trainable-weight order, the step, the config, and the data-order state. The
 * data order and every augmentation are pure functions of (seed, sample index) (engine.ts, and
 * src/data/samples.ts makeSample), so the RNG state is the seed and the number of samples drawn.
 *
 * Files: checkpoint.json (everything but the numbers) and checkpoint.bin (float32 little-endian:
 * weights, then m, then v, each in weight order), so a bundle can carry it beside the model.
 */
import type { TrainConfig } from './config';
import type { AdamState } from './optimizer';

export interface NamedArray {
  name: string;
  shape: number[];
  values: Float32Array;
}

export interface RngState {
  seed: number;
  /** Training samples drawn so far (step x batch size). */
  samplesSeen: number;
}

export interface Checkpoint {
  format: 'poselab-checkpoint';
  version: 1;
  config: TrainConfig;
  /** Steps completed. */
  step: number;
  rng: RngState;
  /** [k, 3] mm: the keypoints the heatmaps stand for. */
  keypointsMm: number[];
  weights: NamedArray[];
  optimizer: AdamState;
}

interface CheckpointJson extends Omit<Checkpoint, 'weights' | 'optimizer'> {
  weights: { name: string; shape: number[] }[];
  optimizer: { t: number };
}

export const kCheckpointJson = 'checkpoint.json';
export const kCheckpointBin = 'checkpoint.bin';

export function checkpointToFiles(c: Checkpoint): Map<string, Uint8Array> {
  const meta: CheckpointJson = {
    ...c,
    weights: c.weights.map((w) => ({ name: w.name, shape: w.shape })),
    optimizer: { t: c.optimizer.t },
  };
  const arrays = [...c.weights.map((w) => w.values), ...c.optimizer.m, ...c.optimizer.v];
  const total = arrays.reduce((n, a) => n + a.length, 0);
  const bin = new Float32Array(total);
  let off = 0;
  for (const a of arrays) { bin.set(a, off); off += a.length; }
  return new Map([
    [kCheckpointJson, new TextEncoder().encode(JSON.stringify(meta, null, 1))],
    [kCheckpointBin, new Uint8Array(bin.buffer)],
  ]);
}

export function checkpointFromFiles(files: Map<string, Uint8Array>): Checkpoint {
  const j = files.get(kCheckpointJson);
  const b = files.get(kCheckpointBin);
  if (!j || !b) throw new Error(`checkpoint: ${!j ? kCheckpointJson : kCheckpointBin} missing`);
  const meta = JSON.parse(new TextDecoder().decode(j)) as CheckpointJson;
  if (meta.format !== 'poselab-checkpoint' || meta.version !== 1) {
    throw new Error(`checkpoint: ${kCheckpointJson} is not a version 1 PoseLab checkpoint (format ${String(meta.format)}, version ${String(meta.version)})`);
  }
  const sizes = meta.weights.map((w) => w.shape.reduce((a, x) => a * x, 1));
  const need = 3 * sizes.reduce((a, x) => a + x, 0);
  if (b.byteLength !== 4 * need) throw new Error(`checkpoint: ${kCheckpointBin} has ${b.byteLength} bytes, ${4 * need} expected`);
  const all = new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
  let off = 0;
  const take = (n: number) => { const a = all.slice(off, off + n); off += n; return a; };
  const weights = meta.weights.map((w, i) => ({ ...w, values: take(sizes[i]) }));
  const m = sizes.map(take);
  const v = sizes.map(take);
  return { ...meta, weights, optimizer: { t: meta.optimizer.t, m, v } };
}
