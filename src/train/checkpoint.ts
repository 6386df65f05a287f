/**
 * Checkpoints: everything a stopped run needs to continue exactly where it was. Weights and Adam's
 * moments in the model's trainable-weight order, the step, the config, and the data-order state. The
 * data order and every augmentation are pure functions of (seed, sample index) (engine.ts, and
 * src/data/samples.ts makeSample), so the RNG state is the seed and the number of samples drawn.
 *
 * Files: checkpoint.json (everything but the numbers) and checkpoint.bin (float32 little-endian:
 * weights, then m, then v, each in weight order; then the same for the localiser, where there is one;
 * then the weights' moving average, where the run keeps one), so a bundle can carry it beside the model.
 */
import type * as tf from '@tensorflow/tfjs';
import { upgradeConfig, validateConfig, type TrainConfig } from './config';
import type { Localiser, LocaliserState, LocaliserSteps } from './localiser';
import { assignArray, type Adam, type AdamState } from '../ops/adam';
import type { WeightAverage } from './weightAverage';

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
  /** The localiser's weights and Adam state (absent in checkpoints of runs that trained none). */
  localiser?: LocaliserState;
  /** The keypoint network's weight average (weightAverage.ts), in weight order; present when optim.emaDecay > 0. */
  average?: Float32Array[];
}

interface ModelStateJson {
  weights: { name: string; shape: number[] }[];
  optimizer: { t: number };
}

interface CheckpointJson extends Omit<Checkpoint, 'weights' | 'optimizer' | 'localiser' | 'average'>, ModelStateJson {
  localiser?: ModelStateJson;
  /** Whether checkpoint.bin ends with the weight average (shaped as `weights`). */
  average?: boolean;
}

function stateJson(weights: NamedArray[], optimizer: AdamState): ModelStateJson {
  return { weights: weights.map((w) => ({ name: w.name, shape: w.shape })), optimizer: { t: optimizer.t } };
}

export const kCheckpointJson = 'checkpoint.json';
export const kCheckpointBin = 'checkpoint.bin';

export function checkpointToFiles(c: Checkpoint): Map<string, Uint8Array> {
  const { localiser, average, ...rest } = c;
  const meta: CheckpointJson = {
    ...rest,
    ...stateJson(c.weights, c.optimizer),
    ...(localiser ? { localiser: stateJson(localiser.weights, localiser.optimizer) } : {}),
    ...(average ? { average: true } : {}),
  };
  const arrays = [c.weights.map((w) => w.values), c.optimizer.m, c.optimizer.v,
    localiser?.weights.map((w) => w.values) ?? [], localiser?.optimizer.m ?? [], localiser?.optimizer.v ?? [], average ?? []].flat();
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
  let meta: CheckpointJson;
  try {
    meta = JSON.parse(new TextDecoder().decode(j)) as CheckpointJson;
  } catch (e) {
    throw new Error(`checkpoint: ${kCheckpointJson} is not JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  if (meta?.format !== 'poselab-checkpoint' || meta.version !== 1) {
    throw new Error(`checkpoint: ${kCheckpointJson} is not a version 1 PoseLab checkpoint (format ${String(meta?.format)}, version ${String(meta?.version)})`);
  }
  checkFields(meta);
  const sizesOf = (s: ModelStateJson) => s.weights.map((w) => w.shape.reduce((a, x) => a * x, 1));
  const total = (s: ModelStateJson) => sizesOf(s).reduce((a, x) => a + x, 0);
  const need = [meta, meta.localiser].reduce((n, s) => n + (s ? 3 * total(s) : 0), 0) + (meta.average === true ? total(meta) : 0);
  if (b.byteLength !== 4 * need) throw new Error(`checkpoint: ${kCheckpointBin} has ${b.byteLength} bytes, ${4 * need} expected`);
  const all = new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
  let off = 0;
  const take = (n: number) => { const a = all.slice(off, off + n); off += n; return a; };
  const read = (s: ModelStateJson): { weights: NamedArray[]; optimizer: AdamState } => {
    const sizes = sizesOf(s);
    const weights = s.weights.map((w, i) => ({ ...w, values: take(sizes[i]) }));
    return { weights, optimizer: { t: s.optimizer.t, m: sizes.map(take), v: sizes.map(take) } };
  };
  const { localiser, average, ...rest } = meta;
  const main = read(meta);
  const loc = localiser ? { localiser: read(localiser) } : {};
  const avg = average === true ? { average: sizesOf(meta).map(take) } : {};
  // Older checkpoints' configs lack fields added since; they get today's defaults (engine.ts refuses to
  // continue one without a localiser, saying so).
  const config = upgradeConfig(rest.config).config;
  try {
    validateConfig(config);
  } catch (e) {
    throw new Error(`checkpoint: ${kCheckpointJson}: ${e instanceof Error ? e.message : String(e)}`);
  }
  if ((config.optim.emaDecay > 0) !== (average === true)) {
    throw new Error(`checkpoint: ${kCheckpointJson}: config.optim.emaDecay = ${config.optim.emaDecay} but the weight average is ${average === true ? 'present' : 'absent'}`);
  }
  return { ...rest, config, ...main, ...loc, ...avg };
}

/** Throws naming the first field of checkpoint.json that is missing or of the wrong kind (a hand-edited or cut file). */
function checkFields(meta: unknown): void {
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  const isCount = (v: unknown) => Number.isInteger(v) && (v as number) >= 0;
  const stateOk = (st: unknown, at: string): string | undefined => {
    if (!isObject(st)) return at;
    const ws = st.weights;
    if (!Array.isArray(ws)) return `${at}.weights`;
    const i = ws.findIndex((w) => !isObject(w) || typeof w.name !== 'string' || !Array.isArray(w.shape) || !w.shape.every(isCount));
    if (i >= 0) return `${at}.weights[${i}]`;
    return isObject(st.optimizer) && isCount(st.optimizer.t) ? undefined : `${at}.optimizer.t`;
  };
  const m = isObject(meta) ? meta : {};
  const config = isObject(m.config) ? m.config : undefined;
  const checks: [string, boolean][] = [
    ['the whole file (a JSON object)', isObject(meta)],
    ['config', config !== undefined],
    ...(['model', 'optim', 'loss', 'data'] as const).map((k): [string, boolean] => [`config.${k}`, config === undefined || isObject(config[k])]),
    ['step', isCount(m.step)],
    ['rng', isObject(m.rng) && isCount(m.rng.seed) && isCount(m.rng.samplesSeen)],
    ['keypointsMm', Array.isArray(m.keypointsMm) && m.keypointsMm.every(Number.isFinite)],
    ['average (true or absent)', m.average === undefined || m.average === true],
  ];
  const bad = checks.find(([, ok]) => !ok)?.[0]
    ?? stateOk({ weights: m.weights, optimizer: m.optimizer }, '')?.replace(/^\./, '')
    ?? (m.localiser === undefined ? undefined : stateOk(m.localiser, 'localiser'));
  if (bad) throw new Error(`checkpoint: ${kCheckpointJson}: ${bad} is missing or malformed`);
}

/** What a checkpoint holds of a run: the keypoint network with its variables and Adam, and the localiser. */
export interface TrainedParts {
  model: tf.LayersModel;
  /** The model's trainable variables, in its trainable-weight order. */
  vars: tf.Variable[];
  adam: Adam;
  /** Where the localiser's state is read: the thread that trains it. */
  localiser: Pick<LocaliserSteps, 'getState'>;
  /** The weights' moving average, when the run keeps one (optim.emaDecay > 0). */
  average?: WeightAverage;
}

/** Everything needed to continue exactly from `step` (keypointsMm [k, 3]: the run's). */
export async function takeCheckpoint(p: TrainedParts, config: TrainConfig, step: number, keypointsMm: Float64Array): Promise<Checkpoint> {
  const weights: NamedArray[] = await Promise.all(p.model.trainableWeights.map(async (w, i) => ({
    name: w.originalName, shape: w.shape as number[], values: Float32Array.from(await p.vars[i].data()),
  })));
  return {
    format: 'poselab-checkpoint',
    version: 1,
    config: structuredClone(config),
    step,
    rng: { seed: config.seed, samplesSeen: step * config.optim.batchSize },
    keypointsMm: Array.from(keypointsMm),
    weights,
    optimizer: await p.adam.getState(),
    localiser: await p.localiser.getState(),
    average: await p.average?.getState(),
  };
}

/**
 * Writes c's weights and optimiser states into p; throws, saying why, when c belongs to another model,
 * other keypoints (keypointsMm [k, 3]: the data's) or a run without a localiser.
 */
export function restoreCheckpoint(p: TrainedParts & { localiser: Localiser }, c: Checkpoint, keypointsMm: Float64Array): void {
  if (c.weights.length !== p.vars.length) throw new Error(`checkpoint has ${c.weights.length} weights, the model ${p.vars.length}`);
  if (c.keypointsMm.length !== keypointsMm.length || c.keypointsMm.some((v, i) => Math.abs(v - keypointsMm[i]) > 1e-3)) {
    throw new Error('checkpoint: its keypoints differ from the data\'s object keypoints (another object, or other keypoint settings)');
  }
  if (!c.localiser) throw new Error('checkpoint: written by a run without a localiser; start a new run (or evaluate its bundle with oracle crops)');
  c.weights.forEach((w, i) => assignArray(p.vars[i], w.values, `weight ${w.name}`));
  p.adam.setState(c.optimizer);
  p.localiser.setState(c.localiser);
  // A checkpoint without an average (written by a run that kept none, or a bundle's weights alone) starts the
  // average at its weights, not at the engine's seeded start.
  p.average?.setState(c.average ?? c.weights.map((w) => w.values));
}
