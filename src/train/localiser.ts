/**
 * The localiser: finds the object in the whole image, so that the keypoint network's crop comes from
 * the image alone (no ground truth). A CenterNet-style head (Zhou et al., "Objects as Points", 2019) on
 * the network of model.ts: the whole image letterboxed into an L x L square ("the view") gives
 *   channel 0   centre logits [L/4, L/4]: a spatial softmax, trained towards a Gaussian at the box centre
 *               (the same KL loss as the keypoint heatmaps), its soft-argmax the centre;
 *   channels 1, 2   log(w / L), log(h / L) maps, read as their mean under the centre distribution
 *               (the target's during training, the prediction's at test time), trained by L1.
 * One object class per model, one instance per image (the dataset's instance of the trained object).
 * The score is the centre distribution's mass within 2 cells of its peak: near 1 for a clear single
 * peak, small for a flat or split map.
 */
import * as tf from '@tensorflow/tfjs';
import { boxViewToImage, type CropWindow } from '../data/crop';
export { viewWindow } from '../data/crop';
import { stackImages } from './batch';
import type { LocaliserConfig, OptimConfig } from './config';
import { heatmapLoss } from './heatmaps';
import { cellToPx, gaussianTargets } from './heatmapTargets';
import { buildModel, normalise, runModel, trainableVariables } from './model';
import type { Normalisation } from './evaluate';
import { Adam, assignArray } from '../ops/adam';
import type { NamedArray } from './checkpoint';
import type { AdamState } from '../ops/adam';

/** Output channels: centre logits, log width, log height. */
const kChannels = 3;
/** Cells around the peak whose probability makes the score. */
const kScoreRadiusCells = 2;

/** The whole image for the localiser: [L, L, 3] RGB in [0, 1] and the window it was cut with. */
export interface ViewImage {
  image: Float32Array;
  window: CropWindow;
}

/** A training view: the instance's box [x, y, w, h] in view px. */
export interface ViewSample extends ViewImage {
  boxViewPx: Float64Array;
}

export interface Detection {
  /** [x, y, w, h] image px */
  boxPx: Float64Array;
  /** In [0, 1]: the centre heatmap's mass near its peak. */
  score: number;
}

/** Intersection over union of two [x, y, w, h] boxes. */
export function boxIou(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const iw = Math.max(0, Math.min(a[0] + a[2], b[0] + b[2]) - Math.max(a[0], b[0]));
  const ih = Math.max(0, Math.min(a[1] + a[3], b[1] + b[3]) - Math.max(a[1], b[1]));
  const inter = iw * ih;
  const union = a[2] * a[3] + b[2] * b[3] - inter;
  return union > 0 ? inter / union : 0;
}

/**
 * Host-side decoding of one view's output [H, H, 3] (H = L / heatmap stride): the box in view px and the score.
 * Pure; written out so that its arithmetic is tested against hand-made maps.
 */
export function decodeView(out: ArrayLike<number>, side: number, viewPx: number): { boxViewPx: Float64Array; score: number } {
  const stride = viewPx / side;
  const n = side * side;
  let max = -Infinity;
  let peak = 0;
  for (let i = 0; i < n; i++) if (out[kChannels * i] > max) { max = out[kChannels * i]; peak = i; }
  let z = 0;
  for (let i = 0; i < n; i++) z += Math.exp(out[kChannels * i] - max);
  let u = 0, v = 0, lw = 0, lh = 0, mass = 0;
  const py = Math.floor(peak / side), px = peak % side;
  for (let i = 0; i < n; i++) {
    const p = Math.exp(out[kChannels * i] - max) / z;
    const y = Math.floor(i / side), x = i % side;
    u += p * cellToPx(x, stride);
    v += p * cellToPx(y, stride);
    lw += p * out[kChannels * i + 1];
    lh += p * out[kChannels * i + 2];
    if (Math.abs(x - px) <= kScoreRadiusCells && Math.abs(y - py) <= kScoreRadiusCells) mass += p;
  }
  const w = viewPx * Math.exp(lw);
  const h = viewPx * Math.exp(lh);
  return { boxViewPx: Float64Array.from([u - w / 2, v - h / 2, w, h]), score: mass };
}

/** The localiser's weights and Adam state, in its trainable-weight order (what a checkpoint keeps). */
export interface LocaliserState {
  weights: NamedArray[];
  optimizer: AdamState;
}

/** One localiser step's losses, and where the step ran on another thread, the weights after it. */
export interface LocaliserStepResult {
  centre: number;
  size: number;
  /** The trainable weights after the step, in order (from another thread's steps; absent in this thread's). */
  weights?: Float32Array[];
}

/**
 * Where the localiser's optimiser steps run: this thread's Localiser, or a host's second thread
 * (localiserService.ts on the other side). The engine's own Localiser always holds the weights that
 * detection uses; a second thread's steps send theirs back after every step.
 */
export interface LocaliserSteps {
  trainStep(views: readonly ViewSample[], lr: number, norm: Normalisation): Promise<LocaliserStepResult>;
  getState(): Promise<LocaliserState>;
  setState(s: LocaliserState): void | Promise<void>;
  dispose(): void;
}

export class Localiser implements LocaliserSteps {
  readonly model: tf.LayersModel;
  private readonly vars: tf.Variable[];
  private readonly adam: Adam;

  constructor(readonly cfg: LocaliserConfig, optim: OptimConfig, seed: number) {
    this.model = buildModel({ ...cfg.model, confidence: false }, kChannels, seed ^ 0x10ca);
    this.vars = trainableVariables(this.model);
    this.adam = new Adam(this.vars, optim);
  }

  get viewPx(): number {
    return this.cfg.model.inputPx;
  }

  /**
   * One Adam step on views (their boxes in view px). Returns the centre (KL) and size (L1) losses.
   */
  async trainStep(views: readonly ViewSample[], lr: number, norm: Normalisation): Promise<LocaliserStepResult> {
    const B = views.length;
    const L = this.viewPx;
    const stride = this.cfg.model.heatmapStride;
    const H = L / stride;
    const img = stackImages(views.map((s) => s.image), L, 'localiser view');
    const centres = new Float32Array(2 * B);
    const logSize = new Float32Array(2 * B);
    views.forEach((s, b) => {
      // Box edges and pixel centres share one coordinate system (pixel i spans i +- 0.5).
      centres[2 * b] = s.boxViewPx[0] + s.boxViewPx[2] / 2;
      centres[2 * b + 1] = s.boxViewPx[1] + s.boxViewPx[3] / 2;
      logSize[2 * b] = Math.log(Math.max(s.boxViewPx[2], 1) / L);
      logSize[2 * b + 1] = Math.log(Math.max(s.boxViewPx[3], 1) / L);
    });
    const targets = gaussianTargets(centres, B, 1, H, this.cfg.sigmaCells, stride);
    const x = tf.tidy(() => normalise(tf.tensor4d(img, [B, L, L, 3]), norm.mean, norm.std));
    const t = tf.tensor4d(targets, [B, H, H, 1]);
    const sizeGt = tf.tensor2d(logSize, [B, 2]);
    let centreT!: tf.Scalar;
    let sizeT!: tf.Scalar;
    const { value, grads } = tf.variableGrads(() => {
      const out = runModel(this.model, x).logits;
      const [c, wh] = tf.split(out, [1, 2], 3);
      centreT = tf.keep(heatmapLoss(c as tf.Tensor4D, t));
      // log size read under the target distribution: [B, 2]
      const sizeAt = tf.sum(tf.mul(wh, t), [1, 2]);
      sizeT = tf.keep(tf.mean(tf.abs(tf.sub(sizeAt, sizeGt))) as tf.Scalar);
      return tf.add(centreT, tf.mul(sizeT, this.cfg.sizeWeight)) as tf.Scalar;
    }, this.vars);
    const ordered = this.vars.map((v) => grads[v.name] ?? tf.zerosLike(v));
    const norm2 = this.adam.apply(ordered, lr);
    const [c, s] = await Promise.all([centreT.data(), sizeT.data(), norm2.data()]);
    tf.dispose([x, t, sizeGt, value, norm2, centreT, sizeT, ...ordered, ...Object.values(grads)]);
    return { centre: c[0], size: s[0] };
  }

  async getState(): Promise<LocaliserState> {
    const values = await this.getWeights();
    const weights = this.model.trainableWeights.map((w, i) => ({ name: w.originalName, shape: w.shape as number[], values: values[i] }));
    return { weights, optimizer: await this.adam.getState() };
  }

  setState(s: LocaliserState): void {
    this.setWeights(s.weights.map((w) => w.values), s.weights.map((w) => w.name));
    this.adam.setState(s.optimizer);
  }

  /** The trainable weights, in order (copies). */
  getWeights(): Promise<Float32Array[]> {
    return Promise.all(this.vars.map(async (v) => Float32Array.from(await v.data())));
  }

  /** Writes the trainable weights, in order; names (optional) only label errors. */
  setWeights(values: readonly Float32Array[], names?: readonly string[]): void {
    if (values.length !== this.vars.length) throw new Error(`localiser state: ${values.length} weights, the model has ${this.vars.length}`);
    values.forEach((v, i) => assignArray(this.vars[i], v, `localiser weight ${names?.[i] ?? this.vars[i].name}`));
  }

  dispose(): void {
    this.adam.dispose();
    this.model.dispose();
  }
}

/**
 * One detection per whole-image view with a localiser network (trained here or loaded from a bundle):
 * its box in image px and its score. Everything on the current backend, one readback.
 */
export async function detectObjects(model: tf.LayersModel, views: readonly ViewImage[], norm: Normalisation): Promise<Detection[]> {
  const B = views.length;
  if (B === 0) return [];
  const L = model.inputs[0].shape[1]!;
  const img = stackImages(views.map((s) => s.image), L, 'localiser view');
  const out = tf.tidy(() => model.apply(normalise(tf.tensor4d(img, [B, L, L, 3]), norm.mean, norm.std), { training: false }) as tf.Tensor);
  const H = out.shape[1]!;
  const values = await out.data();
  out.dispose();
  const per = H * H * kChannels;
  return views.map((v, b) => {
    const d = decodeView(values.subarray(b * per, (b + 1) * per), H, L);
    return { boxPx: boxViewToImage(d.boxViewPx, v.window), score: d.score };
  });
}
