/**
 * Training configurations. A config is plain JSON: it travels in checkpoints and in the exported bundle
 * (poselab.json), so a run can be rebuilt from it exactly (model shape, seeded initialisation, data
 * order, schedules).
 *
 * Presets: 'tiny' for tests and SwiftShader (seconds per step), 'small' for machines without a GPU
 * (96 px crops, 32 keypoints; about 0.2 s a step on two cores through wasm), 'default' for a laptop GPU, 'large' for
 * a desktop GPU.
 */
import { kDefaultAugment } from '../data/augment';

export type ConfigName = 'tiny' | 'small' | 'default' | 'large';

export interface ModelConfig {
  /** Square network input side, px (divisible by 4 x 2^depth). */
  inputPx: number;
  /** Channels at 1/2 resolution; doubled at every further downsampling. */
  width: number;
  /** Downsampling stages below the 1/4-resolution heatmap level (0..3): the encoder goes to 1/(4 2^depth). */
  depth: number;
  /** Residual blocks after each downsampling and each upsampling. */
  blocks: number;
  /** A per-keypoint confidence head in [0, 1], used as the weights of bpnp. */
  confidence: boolean;
  /** Channel cap at the deepest stage. */
  maxChannels: number;
  /** Crop px per heatmap cell: 4 (the heatmaps at 1/4 of the input) or 2 (one more upsampling, joined to the
   * stem's 1/2-resolution features: finer cells for the same input). */
  heatmapStride: 2 | 4;
}

export interface LossConfig {
  /** Standard deviation of the Gaussian heatmap targets, in heatmap cells (model.heatmapStride crop px). */
  sigmaCells: number;
  /** Weight of the soft-argmax keypoint loss (mean squared px / stride^2, DSNT's coordinate term). */
  keypointWeight: number;
  /** Final weight beta of the pose loss (mean squared reprojection error in heatmap cells^2). */
  betaMax: number;
  /** Heatmap-only warm-up, steps: beta is 0 before. */
  warmupSteps: number;
  /** Steps of the linear ramp of beta from 0 to betaMax after the warm-up. */
  betaRampSteps: number;
  /** Model points the pose loss reprojects: 0 = the keypoints, else this many mesh vertices (seeded pick). */
  posePoints: number;
  /** Initial pose of the training-time PnP: 'epnp' (bpnp's own initialiser) or 'gt' (LM starts at the GT pose). */
  pnpInit: 'epnp' | 'gt';
  /**
   * What L_pose measures between the pose points under the solved and the GT pose: 'reprojection' (their
   * 2D projections, BPnP's loss) or '3d' (their 3D distance in the camera frame, the point-matching loss of
   * PoseCNN and DeepIM, ADD's own error, scaled by fx / t_z of the GT pose to crop px at the object's
   * distance: the unit of 'reprojection' where an error is lateral, but a depth error counts in full
   * instead of foreshortened to nearly nothing).
   */
  poseError: 'reprojection' | '3d';
}

export interface OptimConfig {
  batchSize: number;
  steps: number;
  /** Adam's peak learning rate. */
  lr: number;
  /** Linear learning-rate warm-up, steps. */
  lrWarmupSteps: number;
  /** Cosine decay to lr x minLrFactor at the last step. */
  minLrFactor: number;
  /** Gradients are scaled down to this global L2 norm when larger (0 = off). */
  clipNorm: number;
  /**
   * Decay of the moving average of the keypoint network's weights that evaluation, prediction and export
   * use (weightAverage.ts; the average of about the last 1 / (1 - decay) steps); 0 = the trained weights
   * as they are. The localiser is used as trained.
   */
  emaDecay: number;
  beta1: number;
  beta2: number;
  epsilon: number;
}

export interface DataConfig {
  /** Crop side = longest side of the object's box x (1 + padding). */
  padding: number;
  /**
   * Training crops move around the ground-truth box as the localiser's boxes do around it (the dynamic
   * zoom-in of CDPN and GDR-Net): side x U(1 - scaleJitter, 1 + scaleJitter), centre + side x
   * U(-shiftJitter, shiftJitter) on each axis.
   */
  scaleJitter: number;
  shiftJitter: number;
  /**
   * Share of the training crops jittered by fineScaleJitter and fineShiftJitter instead (the same uniform
   * draws): as close to the object's box as the refined crop is at test time (refine.ts), so that the network
   * that must read a first, detected crop roughly also reads a refined one precisely. 0 = none.
   */
  fineShare: number;
  fineScaleJitter: number;
  fineShiftJitter: number;
  /**
   * Training crops turn in the image plane by up to this many degrees, exactly (the camera rotates about
   * the ray through the crop's centre and the GT pose with it; data/samples.ts): every training view is
   * seen at many rolls, so a test view needs a training view near it in viewpoint only, not in roll.
   */
  rotationDeg: number;
  /**
   * Share of the training crops with one occluder painted over the object (data/augment.ts pasteOccluder:
   * clutter hiding part of it, as in the test images where most failures are). 0 = none.
   */
  occlusionProb: number;
  /**
   * Share of the training crops whose background (outside the object's visible mask) is replaced by procedural
   * clutter (data/augment.ts randomBackground), so that the network cannot lean on the dataset's backgrounds. The
   * localiser's whole-image views keep 0.5.
   */
  backgroundProb: number;
  cropFrom: 'mask' | 'model';
  augment: boolean;
  /** Number of FPS keypoints on the surface (the centre comes on top). */
  keypoints: number;
  /** Per-channel normalisation applied to RGB in [0, 1] before the network: (x - mean) / std. */
  mean: [number, number, number];
  std: [number, number, number];
}

/**
 * The localiser (localiser.ts): a network of the same family on the whole image, letterboxed and
 * downscaled to model.inputPx, with one centre heatmap (spatial softmax, as the keypoints) and two maps
 * of log box size read under it. Its box gives the keypoint network's crop wherever no ground truth is.
 */
export interface LocaliserConfig {
  /** model.confidence is ignored (no confidence head). */
  model: ModelConfig;
  /** Gaussian target of the box centre, heatmap cells. */
  sigmaCells: number;
  /** Weight of the L1 loss on log box width and height beside the centre heatmap loss. */
  sizeWeight: number;
  /** Whole images per step (trained beside the keypoint network, with its learning-rate schedule). */
  batchSize: number;
  /** Detections scoring below this count as misses (the score is the centre heatmap's mass near its peak). */
  minScore: number;
}

export interface TrainConfig {
  name: ConfigName | 'custom';
  seed: number;
  model: ModelConfig;
  localiser: LocaliserConfig;
  /**
   * Where evaluation crops come from: 'detected' (the localiser's box, as on images without ground
   * truth) or 'oracle' (the ground-truth box, cut once: a reference an unlabelled image cannot have, labelled so wherever it is shown).
   */
  evalCrops: 'detected' | 'oracle';
  loss: LossConfig;
  optim: OptimConfig;
  data: DataConfig;
  /** Evaluate on the test split every this many steps (0 = only at the end). */
  evalEvery: number;
  /** At most this many test instances per evaluation during training (0 = all); the final one uses all. */
  evalMaxInstances: number;
  /** Sample predictions sent with every evaluation event. */
  evalSamples: number;
  /** Emit a checkpoint event every this many steps (0 = never). */
  checkpointEvery: number;
}

const kImagenetMean: [number, number, number] = [0.485, 0.456, 0.406];
const kImagenetStd: [number, number, number] = [0.229, 0.224, 0.225];

const base: Omit<TrainConfig, 'name'> = {
  seed: 0,
  model: { inputPx: 128, width: 16, depth: 2, blocks: 1, confidence: true, maxChannels: 128, heatmapStride: 4 },
  localiser: {
    model: { inputPx: 128, width: 8, depth: 2, blocks: 1, confidence: false, maxChannels: 64, heatmapStride: 4 },
    sigmaCells: 1, sizeWeight: 1, batchSize: 8, minScore: 0.1,
  },
  evalCrops: 'detected',
  loss: { sigmaCells: 1.5, keypointWeight: 0.1, betaMax: 0.01, warmupSteps: 2000, betaRampSteps: 2000, posePoints: 0, pnpInit: 'epnp', poseError: 'reprojection' },
  optim: { batchSize: 16, steps: 20_000, lr: 1e-3, lrWarmupSteps: 200, minLrFactor: 0.05, clipNorm: 5, emaDecay: 0, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 },
  // The fine jitter is about a refined crop's error (refine.ts: a few % of the box); unused while fineShare is 0.
  data: { padding: 0.15, scaleJitter: 0.25, shiftJitter: 0.15, fineShare: 0, fineScaleJitter: 0.05, fineShiftJitter: 0.03, rotationDeg: 0, occlusionProb: 0, backgroundProb: 0.5, cropFrom: 'model', augment: true, keypoints: 8, mean: kImagenetMean, std: kImagenetStd },
  evalEvery: 2000,
  evalMaxInstances: 200,
  evalSamples: 4,
  checkpointEvery: 1000,
};

export const kConfigs: Record<ConfigName, TrainConfig> = {
  tiny: {
    ...base,
    name: 'tiny',
    model: { inputPx: 32, width: 4, depth: 1, blocks: 1, confidence: true, maxChannels: 16, heatmapStride: 4 },
    localiser: { ...base.localiser, model: { inputPx: 32, width: 4, depth: 1, blocks: 1, confidence: false, maxChannels: 16, heatmapStride: 4 }, batchSize: 4 },
    loss: { ...base.loss, sigmaCells: 1, warmupSteps: 20, betaRampSteps: 20 },
    optim: { ...base.optim, batchSize: 4, steps: 200, lr: 3e-3, lrWarmupSteps: 5 },
    data: { ...base.data, keypoints: 4 },
    evalEvery: 0,
    evalMaxInstances: 16,
    evalSamples: 2,
    checkpointEvery: 0,
  },
  // 96 px crops and 32 keypoints, 6,000 steps: ADD-0.1d 44 to 53% (a mean of 48.4% over 5 seeds) with detected
  // crops on the bundled dataset in 24 to 26.5 minutes on two CPU cores (README, "What training reaches").
  small: {
    ...base,
    name: 'small',
    model: { inputPx: 96, width: 8, depth: 2, blocks: 1, confidence: true, maxChannels: 64, heatmapStride: 4 },
    localiser: { ...base.localiser, model: { inputPx: 128, width: 8, depth: 2, blocks: 1, confidence: false, maxChannels: 64, heatmapStride: 4 } },
    loss: { ...base.loss, sigmaCells: 1, warmupSteps: 3000, betaRampSteps: 2000 },
    optim: { ...base.optim, batchSize: 16, steps: 6000, lr: 2e-3, lrWarmupSteps: 100 },
    data: { ...base.data, keypoints: 32 },
    evalEvery: 1000,
    evalMaxInstances: 60,
  },
  default: { ...base, name: 'default' },
  large: {
    ...base,
    name: 'large',
    model: { inputPx: 128, width: 32, depth: 3, blocks: 2, confidence: true, maxChannels: 256, heatmapStride: 4 },
    optim: { ...base.optim, batchSize: 32, steps: 50_000, lrWarmupSteps: 500 },
    loss: { ...base.loss, warmupSteps: 5000, betaRampSteps: 5000 },
    evalEvery: 5000,
    evalMaxInstances: 500,
  },
};

export function isConfigName(s: string): s is ConfigName {
  return s === 'tiny' || s === 'small' || s === 'default' || s === 'large';
}

/** A deep copy of a preset with overrides (one level deep per section). */
export function makeConfig(name: ConfigName, over: ConfigOverrides = {}): TrainConfig {
  const c = structuredClone(kConfigs[name]);
  return applyOverrides(c, over);
}

export interface ConfigOverrides {
  seed?: number;
  model?: Partial<ModelConfig>;
  localiser?: Partial<LocaliserConfig>;
  evalCrops?: TrainConfig['evalCrops'];
  loss?: Partial<LossConfig>;
  optim?: Partial<OptimConfig>;
  data?: Partial<DataConfig>;
  evalEvery?: number;
  evalMaxInstances?: number;
  evalSamples?: number;
  checkpointEvery?: number;
}

export function applyOverrides(c: TrainConfig, over: ConfigOverrides): TrainConfig {
  const out: TrainConfig = {
    ...c,
    ...pick(over, ['seed', 'evalCrops', 'evalEvery', 'evalMaxInstances', 'evalSamples', 'checkpointEvery']),
    model: { ...c.model, ...over.model },
    localiser: { ...c.localiser, ...over.localiser },
    loss: { ...c.loss, ...over.loss },
    optim: { ...c.optim, ...over.optim },
    data: { ...c.data, ...over.data },
  };
  validateConfig(out);
  return out;
}

function pick<T extends object, K extends keyof T>(o: T, keys: K[]): Partial<T> {
  const r: Partial<T> = {};
  for (const k of keys) if (o[k] !== undefined) r[k] = o[k];
  return r;
}

/** Throws with the field and the value when a config cannot work. */
export function validateConfig(c: TrainConfig): void {
  const p = configProblems(c)[0];
  if (p) throw new Error(`config.${p.field} = ${JSON.stringify(p.value)}: ${p.why}`);
}

/** A value a config cannot work with: its path (`optim.lr`), the value, and what it must be. */
export interface ConfigProblem {
  field: string;
  value: unknown;
  why: string;
}

/**
 * Every check validateConfig makes, all problems at once: a config file (configFile.ts) reports them
 * together, each under its own path.
 */
export function configProblems(c: TrainConfig): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  const bad = (field: string, value: unknown, why: string) => out.push({ field, value, why });
  // The keypoint network and the localiser are the same family: one set of checks serves both.
  const model = (prefix: string, m: ModelConfig) => {
    const depthOk = Number.isInteger(m.depth) && m.depth >= 0 && m.depth <= 3;
    // The input's divisor follows from the depth: with a depth out of range only the depth is at fault.
    const mult = depthOk ? 4 * 2 ** m.depth : 4;
    if (!Number.isInteger(m.inputPx) || m.inputPx < mult || m.inputPx % mult !== 0) {
      bad(`${prefix}.inputPx`, m.inputPx, depthOk ? `must be a multiple of ${mult} (4 x 2^depth)` : 'must be a positive multiple of 4');
    }
    if (!depthOk) bad(`${prefix}.depth`, m.depth, 'must be 0..3');
    if (!Number.isInteger(m.width) || m.width < 1) bad(`${prefix}.width`, m.width, 'must be a positive integer');
    if (!Number.isInteger(m.blocks) || m.blocks < 0) bad(`${prefix}.blocks`, m.blocks, 'must be >= 0');
    if (m.heatmapStride !== 2 && m.heatmapStride !== 4) bad(`${prefix}.heatmapStride`, m.heatmapStride, 'must be 2 or 4');
  };
  model('model', c.model);
  if (!Number.isInteger(c.optim.batchSize) || c.optim.batchSize < 1) bad('optim.batchSize', c.optim.batchSize, 'must be >= 1');
  if (!Number.isInteger(c.optim.steps) || c.optim.steps < 1) bad('optim.steps', c.optim.steps, 'must be >= 1 (a run of no steps trains nothing)');
  if (!(c.optim.lr > 0)) bad('optim.lr', c.optim.lr, 'must be > 0');
  if (!(c.optim.emaDecay >= 0 && c.optim.emaDecay < 1)) bad('optim.emaDecay', c.optim.emaDecay, 'must be in [0, 1) (0: no average)');
  if (!Number.isInteger(c.data.keypoints) || c.data.keypoints < 3) bad('data.keypoints', c.data.keypoints, 'must be >= 3 (plus the centre: >= 4 points for PnP)');
  if (!(c.loss.sigmaCells > 0)) bad('loss.sigmaCells', c.loss.sigmaCells, 'must be > 0');
  // Checked here too, not only in config files: a bundle's or checkpoint's config is read without them.
  if (c.loss.pnpInit !== 'epnp' && c.loss.pnpInit !== 'gt') bad('loss.pnpInit', c.loss.pnpInit, "must be 'epnp' or 'gt'");
  if (c.loss.poseError !== 'reprojection' && c.loss.poseError !== '3d') bad('loss.poseError', c.loss.poseError, "must be 'reprojection' or '3d'");
  model('localiser.model', c.localiser.model);
  if (!Number.isInteger(c.localiser.batchSize) || c.localiser.batchSize < 1) bad('localiser.batchSize', c.localiser.batchSize, 'must be >= 1');
  if (!(c.localiser.sigmaCells > 0)) bad('localiser.sigmaCells', c.localiser.sigmaCells, 'must be > 0');
  if (c.evalCrops !== 'detected' && c.evalCrops !== 'oracle') bad('evalCrops', c.evalCrops, "must be 'detected' or 'oracle'");
  if (!(c.data.scaleJitter >= 0 && c.data.scaleJitter < 1)) bad('data.scaleJitter', c.data.scaleJitter, 'must be in [0, 1)');
  if (!(c.data.shiftJitter >= 0)) bad('data.shiftJitter', c.data.shiftJitter, 'must be >= 0');
  if (!(c.data.fineShare >= 0 && c.data.fineShare <= 1)) bad('data.fineShare', c.data.fineShare, 'must be in [0, 1]');
  if (!(c.data.fineScaleJitter >= 0 && c.data.fineScaleJitter < 1)) bad('data.fineScaleJitter', c.data.fineScaleJitter, 'must be in [0, 1)');
  if (!(c.data.fineShiftJitter >= 0)) bad('data.fineShiftJitter', c.data.fineShiftJitter, 'must be >= 0');
  if (!(c.data.rotationDeg >= 0 && c.data.rotationDeg <= 180)) bad('data.rotationDeg', c.data.rotationDeg, 'must be in [0, 180]');
  if (!(c.data.occlusionProb >= 0 && c.data.occlusionProb <= 1)) bad('data.occlusionProb', c.data.occlusionProb, 'must be in [0, 1]');
  if (!(c.data.backgroundProb >= 0 && c.data.backgroundProb <= 1)) bad('data.backgroundProb', c.data.backgroundProb, 'must be in [0, 1]');
  return out;
}

/**
 * A config written before the localiser existed (an older checkpoint or bundle) with today's defaults
 * for what it lacks; `hasLocaliser` says whether the run it describes trained one.
 */
export function upgradeConfig(c: TrainConfig): { config: TrainConfig; hasLocaliser: boolean } {
  const hasLocaliser = (c as Partial<TrainConfig>).localiser !== undefined;
  const preset = kConfigs[c.name === 'custom' ? 'default' : c.name] ?? kConfigs.default;
  // Before heatmapStride existed every network's heatmaps were at 1/4 of its input.
  const stride4 = (m: ModelConfig): ModelConfig => ({ ...m, heatmapStride: m.heatmapStride ?? 4 });
  const localiser = c.localiser ?? structuredClone(preset.localiser);
  const config: TrainConfig = {
    ...c,
    model: stride4(c.model),
    localiser: { ...localiser, model: stride4(localiser.model) },
    evalCrops: c.evalCrops ?? (hasLocaliser ? 'detected' : 'oracle'),
    // Before poseError existed every pose loss was BPnP's reprojection error.
    loss: { ...c.loss, poseError: c.loss.poseError ?? 'reprojection' },
    // Before emaDecay existed every network was used as trained.
    optim: { ...c.optim, emaDecay: c.optim.emaDecay ?? 0 },
    // Before fineShare existed every crop was jittered alike.
    data: {
      ...c.data, scaleJitter: c.data.scaleJitter ?? kDefaultAugment.scaleJitter, shiftJitter: c.data.shiftJitter ?? kDefaultAugment.shiftJitter,
      fineShare: c.data.fineShare ?? 0, fineScaleJitter: c.data.fineScaleJitter ?? 0, fineShiftJitter: c.data.fineShiftJitter ?? 0, rotationDeg: c.data.rotationDeg ?? 0,
      // Before occlusionProb existed no occluder was painted.
      occlusionProb: c.data.occlusionProb ?? 0,
      // Before backgroundProb was a setting every crop's background was replaced half the time.
      backgroundProb: c.data.backgroundProb ?? kDefaultAugment.backgroundProb,
    },
  };
  return { config, hasLocaliser };
}

/** Heatmap side, cells: the input at 1/heatmapStride resolution. */
export function heatmapSide(m: ModelConfig): number {
  return m.inputPx / m.heatmapStride;
}

/**
 * The unit of the keypoint and pose losses, crop px: their squared px errors are divided by its square
 * (DSNT's coordinate term in 4-px cells), the same at either heatmap stride so that their weights keep
 * their meaning. Also the heatmap stride of networks saved before it was configurable.
 */
export const kLossUnitPx = 4;
