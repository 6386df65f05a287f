/**
 * The one typed interface between the page (src/ui) and the training worker (engine.worker.ts).
 * The page holds a comlink Remote<EngineApi>; everything it learns about training arrives as
 * EngineUiEvent values through subscribe(). Types only (plus a few constants), so ui/ can import this
 * file without pulling in tfjs, train/ or data/: what it takes from train/ is `import type`, erased at
 * build time, so that the page and the engine cannot drift apart on the metrics' fields.
 *
 * Conventions as in ARCHITECTURE.md: rotations [9] row-major model-to-camera, translations mm,
 * intrinsics [9] row-major px, image points px (pixel centres at integer coordinates).
 */
import type { ConfigName, TrainConfig } from '../train/config';
import type { SamplePrediction } from '../train/evaluate';
import type { PoseMetrics } from '../train/metrics';
import type { DetectionJson, PosesJson } from '../train/posesJson';
import type { SettingsLoad, TrainSettings } from '../train/settings';

/** A complete training config (src/train/config.ts documents each field): the page only carries it to the worker. */
export type { TrainConfig };
/** The training options the page shows (src/train/settings.ts documents each field); everything else comes from the preset. */
export type { TrainSettings };
/** The poses document `npm run predict` writes (src/train/posesJson.ts documents each field). */
export type { DetectionJson, PosesJson };

export interface BackendInfo {
  /** The tfjs backend training runs on: 'webgpu', else 'wasm' or 'cpu' (the fastest CPU path that started). */
  backend: string;
  webgpu: boolean;
  /** The adapter's description when WebGPU is in use. */
  adapter?: string;
  /** Said plainly on the page when training cannot use WebGPU. */
  notice?: string;
}

export type LoadPhase = 'listing' | 'indexing' | 'checking' | 'done';

export interface LoadProgress {
  phase: LoadPhase;
  /** Files checked so far (phase 'checking'); 0 otherwise. */
  done: number;
  total: number;
}

/** One line of the validation report: which file, which field in it, what is wrong. */
export interface ProblemLine {
  file: string;
  field: string;
  message: string;
}

export interface ObjectInfo {
  id: number;
  name: string;
  diameterMm: number;
  symmetric: boolean;
  hasMesh: boolean;
  instances: number;
}

export type DatasetOrigin = 'bundled' | 'dropped' | 'none';

export interface DatasetSummary {
  label: string;
  name: string;
  /** The layout found (data/dataset.ts DatasetLayout). */
  format: 'bop' | 'pvnet' | 'pvnet-custom' | 'unknown';
  origin: DatasetOrigin;
  images: number;
  instances: number;
  splits: { split: string; images: number; instances: number }[];
  objects: ObjectInfo[];
  problems: ProblemLine[];
  /** At least one image holds an instance of an object with a mesh. */
  usable: boolean;
  /** Image keys in dataset order, for browsing. */
  imageKeys: string[];
}

export interface InstanceView {
  objId: number;
  /** [9] row-major, model to camera */
  rM2c: number[];
  /** [3] mm */
  tM2cMm: number[];
  /** [x, y, w, h] px */
  bboxPx: [number, number, number, number];
  visibFract?: number;
}

/** One dataset image for the dataset view, with its own camera and ground truth. */
export interface ImageView {
  index: number;
  key: string;
  split: string;
  widthPx: number;
  heightPx: number;
  /** [9] row-major intrinsics, px */
  kPx: number[];
  /** The encoded file as stored (PNG or JPEG). */
  rgbBytes: Uint8Array;
  rgbMime: string;
  /** [heightPx, widthPx, 4] RGBA8: the instances' visible masks tinted, transparent elsewhere; absent when the image has none. */
  maskRgba?: Uint8Array;
  instances: InstanceView[];
}

/** What three.js needs to draw an object: its mesh, bounds and keypoints, all mm in the model frame. */
export interface ObjectGeometry {
  objId: number;
  name: string;
  /** [n, 3] mm */
  positions: Float32Array;
  /** [m, 3] vertex indices */
  faces: Uint32Array;
  boundsMm: { min: [number, number, number]; max: [number, number, number] };
  diameterMm: number;
  /** [k, 3] mm, centre last */
  keypointsMm: Float32Array;
}

export type PresetName = ConfigName;

/** One optimiser step, as charted. */
export interface StepPoint {
  step: number;
  totalSteps: number;
  total: number;
  heatmap: number;
  keypoint: number;
  pose: number;
  /** The localiser's loss (trained beside the keypoint network, not part of total). */
  localiser: number;
  lr: number;
  beta: number;
  gradNorm: number;
  imagesPerSec: number;
  stepMs: number;
  /** ms in the PnP layer (NaN when not measured) */
  pnpMs: number;
  etaMs: number;
}

/** The engine's evaluation metrics, passed through unchanged (src/train/metrics.ts documents each field). */
export type EvalMetrics = PoseMetrics;

/** One test crop with the network's prediction and its errors, for the live prediction grid (src/train/evaluate.ts documents each field). */
export type PredictionSample = SamplePrediction;

export type EngineUiEvent =
  | {
    type: 'started'; step: number; totalSteps: number; backend: string; parameters: number; keypoints: number; settings: TrainSettings; objId: number; objName: string; resumed: boolean;
    /** Said on the page: why the localiser trains in the training worker on a CPU backend (its own worker did not start). */
    notice?: string;
  }
  /** Steps, batched: the worker posts at most every kStepBatchMs. */
  | { type: 'steps'; points: StepPoint[] }
  | { type: 'eval'; step: number; final: boolean; metrics: EvalMetrics; samples: PredictionSample[]; source: 'training' | 'imported' }
  | { type: 'checkpoint'; step: number; savedAt: number }
  | { type: 'paused'; step: number }
  | { type: 'resumed'; step: number }
  | { type: 'done'; step: number; reason: 'finished' | 'stopped'; metrics?: EvalMetrics }
  | { type: 'error'; step: number; message: string }
  /** Chart history of a resumed run, sent before its 'started'. */
  | { type: 'history'; points: StepPoint[]; evals: { step: number; metrics: EvalMetrics }[] };

export const kStepBatchMs = 100;

/** The last run kept in IndexedDB, as offered after a reload. */
export interface SavedRunInfo {
  step: number;
  totalSteps: number;
  savedAt: number;
  settings: TrainSettings;
  finished: boolean;
  dataset: { label: string; origin: DatasetOrigin; readable: boolean; why?: string };
}

/** A config file read by the worker: the config and the panel's fields filled from it, or every problem by field path. */
export type ConfigLoad = SettingsLoad;

export interface ImportResult {
  /** What the bundle held, in words. */
  summary: string;
  step: number;
  hasCheckpoint: boolean;
}

/** Which model the Try-it view runs: the engine's current weights, or a bundle imported for it. */
export type TryModelSource = 'training' | 'bundle';

/** What the Try-it view can run now, and the dataset's camera for its intrinsics preset. */
export interface TryItStatus {
  source: TryModelSource;
  /** Whether this source can predict; else notice says why, in words. */
  ready: boolean;
  notice?: string;
  model?: PosesJson['model'];
  /** The loaded dataset has this object's mesh (else only the box and keypoints are drawn). */
  hasMesh: boolean;
  /** A bundle is imported for the Try-it view (its name and step), whichever source is chosen. */
  bundle?: PosesJson['model'] & { hasLocaliser: boolean };
  /** The loaded dataset's first image: its K and size. */
  datasetCamera?: { kPx: number[]; widthPx: number; heightPx: number };
}

/** A photo or webcam frame for prediction, with the K of this frame at this size. */
export interface TryFrame {
  /** Transferred to the worker (closed there). */
  bitmap: ImageBitmap;
  /** [9] row-major px */
  kPx: number[];
}

/** One frame's pose. Points and boxes in the frame's px. */
export interface TryPose {
  widthPx: number;
  heightPx: number;
  score: number;
  /** Whether the detection scored at least the model's threshold. */
  detected: boolean;
  /** [x, y, w, h] px */
  boxPx: number[];
  /** [k, 2] px, heatmap order */
  keypointsPx: number[];
  /** [9] row-major, model to camera */
  R: number[];
  tMm: number[];
  /** The solver's status: 'converged', 'not_converged', ... */
  status: string;
  /** What the poses document lists for this frame (none below the threshold). */
  detections: DetectionJson[];
}

export interface TryResult {
  model: PosesJson['model'];
  /** Prediction time per frame, ms (whole image to pose, in the worker). */
  msPerFrame: number;
  poses: TryPose[];
}

export type ProgressCallback = (p: LoadProgress) => void;

/** A dropped file with its path inside what was dropped. */
export interface DroppedBlob {
  path: string;
  file: Blob;
}

/**
 * The worker's face. Every method may reject with an Error whose message is meant for the page.
 */
export interface EngineApi {
  /** Picks the backend (WebGPU, else cpu) and says which. */
  init(): Promise<BackendInfo>;
  /** Engine events; listener must be a comlink proxy. */
  subscribe(listener: (e: EngineUiEvent) => void): void;
  presets(): Record<PresetName, TrainSettings>;
  /** Loads the dataset served at url (a folder with manifest.json). */
  loadUrl(url: string, onProgress: ProgressCallback): Promise<DatasetSummary>;
  /** Loads dropped files and folders (zips are opened); checks every image and mask. */
  loadFiles(label: string, files: DroppedBlob[], onProgress: ProgressCallback): Promise<DatasetSummary>;
  image(index: number): Promise<ImageView>;
  objectGeometry(objId: number): ObjectGeometry | undefined;
  /**
   * Starts a run. With config (from resolveConfig), the run trains with all of it, the settings' fields
   * replacing its own (they were filled from it, so they differ only where the person changed them).
   */
  start(settings: TrainSettings, config?: TrainConfig): Promise<void>;
  /**
   * Reads a config file's text as `npm run train -- --config-file` does: a partial config merged onto the
   * preset it names, else onto `preset`; fileName names the file in the messages.
   */
  resolveConfig(text: string, fileName: string, preset: PresetName): ConfigLoad;
  /** The config start(settings, config) would train with, as the JSON that resolveConfig and --config-file read. */
  configText(settings: TrainSettings, config?: TrainConfig): string;
  pause(): void;
  resume(): void;
  stop(): void;
  /** The run kept in IndexedDB, if any, and whether its dataset can still be read. */
  savedRun(): Promise<SavedRunInfo | undefined>;
  /** Reloads the saved run's dataset (unless the loaded one is it) and continues from its checkpoint. */
  resumeSaved(onProgress: ProgressCallback): Promise<DatasetSummary>;
  discardSaved(): Promise<void>;
  /** The current model as a PoseLab bundle (zip: model.json, weights.bin, poselab.json, checkpoint). */
  exportBundle(): Promise<Uint8Array>;
  /** Evaluates the current model on the test split (less its training images, after an automatic split): BOP results CSV text. */
  exportBopCsv(): Promise<string>;
  /** Reads a bundle; 'evaluate' runs it on the test split, 'continue' resumes training from its checkpoint. */
  importBundle(bytes: Uint8Array, mode: 'evaluate' | 'continue'): Promise<ImportResult>;
  /** What the Try-it view can run with this source, or why it cannot. */
  tryItStatus(source: TryModelSource): TryItStatus;
  /** Reads a bundle for the Try-it view only (the run and the dataset are left alone). */
  tryItImportBundle(bytes: Uint8Array): Promise<TryItStatus>;
  /**
   * Poses for frames (whole image -> localiser box -> crop -> keypoints -> bpnp, src/train/predict.ts)
   * with the chosen model; the training engine's weights are read as they are at this step.
   */
  predictFrames(frames: TryFrame[], source: TryModelSource): Promise<TryResult>;
  /** The poses document as `npm run predict` writes it. */
  posesJson(doc: PosesJson): string;
}
