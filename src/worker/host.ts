/**
 * The worker's implementation of EngineApi: holds the loaded dataset and the TrainingEngine, turns
 * engine events into EngineUiEvents (steps batched, predictions with their errors), and keeps the run
 * in IndexedDB at every checkpoint, pause and end. The page reaches it only through protocol.ts.
 */
import * as tf from '@tensorflow/tfjs';
import { countBySplit, isUsable, type Dataset } from '../data/dataset';
import { decodeBrowser } from '../data/decode/browser';
import { decodeMask } from '../data/mask';
import { keypointsOf } from '../data/keypoints';
import { loadDataset } from '../data/load';
import type { DroppedFile } from '../data/source/dropped';
import { openDroppedFiles } from '../data/source/dropped';
import { UrlSource } from '../data/source/url';
import { bopCsv } from '../train/bopCsv';
import { bundleCrops, exportEngine, importBundle as readBundle, resumeCheckpoint, unzipBundle, zipBundle } from '../train/bundle';
import { checkpointFromFiles, checkpointToFiles, type Checkpoint } from '../train/checkpoint';
import { applyOverrides, kConfigs, makeConfig, type ConfigName, type ConfigOverrides, type TrainConfig } from '../train/config';
import { configText as configToText, resolveConfigJson, resolveConfigText } from '../train/configFile';
import { datasetTrainingData, type DatasetTrainingData } from '../train/datasetData';
import { TrainingEngine, type EngineEvent } from '../train/engine';
import { evaluate as evaluateModel, type SamplePrediction } from '../train/evaluate';
import { addErrorMm, addsErrorMm, rotationErrorDeg, translationErrorMm, type PoseMetrics } from '../train/metrics';
import { initBackend } from './backend';
import {
  kStepBatchMs, type BackendInfo, type ConfigLoad, type DatasetSummary, type DroppedBlob, type EngineApi, type EngineUiEvent, type EvalMetrics,
  type ImageView, type ImportResult, type ObjectGeometry, type PredictionSample, type PresetName, type ProgressCallback,
  type PosesJson, type SavedRunInfo, type StepPoint, type TrainSettings, type TryFrame, type TryItStatus, type TryModelSource, type TryResult,
} from './protocol';
import { kMaxStoredDatasetBytes, runStore, type StoredDropped, type StoredRun } from './runStore';
import { TryIt } from './tryIt';

/** Tints for instance masks, by object id. */
const kMaskColours: [number, number, number][] = [[0, 200, 255], [255, 170, 0], [120, 255, 90], [255, 80, 200], [180, 130, 255]];

/** Points kept in the chart history saved with a run (older points thinned beyond this). */
const kMaxHistory = 20_000;

interface LoadedDataset {
  ds: Dataset;
  origin: 'bundled' | 'dropped';
  url?: string;
  files?: DroppedBlob[];
}

export class EngineHost implements EngineApi {
  private backend?: BackendInfo;
  private loaded?: LoadedDataset;
  private engine?: TrainingEngine;
  private data?: DatasetTrainingData;
  private settings?: TrainSettings;
  private running?: Promise<unknown>;
  private readonly listeners: ((e: EngineUiEvent) => void)[] = [];
  private pending: StepPoint[] = [];
  private flushTimer?: ReturnType<typeof setTimeout>;
  private history: StepPoint[] = [];
  private evals: { step: number; metrics: EvalMetrics }[] = [];
  private geometry = new Map<number, ObjectGeometry>();
  /** The keypoints of the current run or imported model, per object (the dataset view draws them). */
  private runKeypoints = new Map<number, Float64Array>();
  private saving: Promise<void> = Promise.resolve();
  /** The checkpoint taken when a run ends: the engine is not disposed before it is read. */
  private finalSave: Promise<void> = Promise.resolve();
  private readonly tryIt = new TryIt(() => this.engine, () => this.loaded?.ds);

  async init(): Promise<BackendInfo> {
    this.backend ??= await initBackend();
    return this.backend;
  }

  subscribe(listener: (e: EngineUiEvent) => void): void {
    this.listeners.push(listener);
  }

  presets(): Record<PresetName, TrainSettings> {
    const out = {} as Record<PresetName, TrainSettings>;
    for (const name of Object.keys(kConfigs) as ConfigName[]) {
      const c = kConfigs[name];
      out[name] = {
        preset: name, steps: c.optim.steps, batchSize: c.optim.batchSize, lr: c.optim.lr, betaMax: c.loss.betaMax,
        // The page shows progress as it goes: presets that only evaluate and save at the end get a cadence.
        keypoints: c.data.keypoints, evalEvery: c.evalEvery || 50, checkpointEvery: c.checkpointEvery || 50,
      };
    }
    return out;
  }

  async loadUrl(url: string, onProgress: ProgressCallback): Promise<DatasetSummary> {
    await this.stopRun();
    onProgress({ phase: 'listing', done: 0, total: 0 });
    // A bound fetch: UrlSource calls its fetchFn as a method, and the worker's fetch refuses another `this`.
    const source = await UrlSource.open(url, (input, init) => fetch(input, init));
    onProgress({ phase: 'indexing', done: 0, total: source.paths.length });
    const ds = await loadDataset(source);
    this.setDataset({ ds, origin: 'bundled', url });
    onProgress({ phase: 'done', done: 1, total: 1 });
    return this.summary();
  }

  async loadFiles(label: string, files: DroppedBlob[], onProgress: ProgressCallback): Promise<DatasetSummary> {
    await this.stopRun();
    const summary = await this.openFiles(label, files, onProgress);
    const bytes = files.reduce((n, f) => n + f.file.size, 0);
    const stored: StoredDropped = { label: this.requireDataset().source.label, bytes, files: bytes <= kMaxStoredDatasetBytes ? files : undefined };
    if (summary.usable) await runStore.saveDropped(stored).catch(() => runStore.saveDropped({ ...stored, files: undefined }).catch(() => undefined));
    return summary;
  }

  async image(index: number): Promise<ImageView> {
    const ds = this.requireDataset();
    const im = ds.images[index];
    if (!im) throw new Error(`image ${index} of ${ds.images.length} asked for`);
    const rgbBytes = (await ds.source.read(im.rgbPath)).slice();
    let maskRgba: Uint8Array | undefined;
    for (const ins of im.instances) {
      const path = ins.maskVisibPath ?? ins.maskPath;
      if (!path) continue;
      try {
        // Object pixels as training reads them (non-zero: 0/1, 0/255, 16-bit, palette masks alike).
        const m = decodeMask(await ds.source.read(path), /\.png$/i.test(path) ? 'png' : 'jpeg');
        if (m.widthPx !== im.widthPx || m.heightPx !== im.heightPx) continue;
        maskRgba ??= new Uint8Array(im.widthPx * im.heightPx * 4);
        const [r, g, b] = kMaskColours[ins.objId % kMaskColours.length];
        for (let p = 0; p < im.widthPx * im.heightPx; p++) {
          if (m.rgba[4 * p] >= 128) {
            maskRgba[4 * p] = r; maskRgba[4 * p + 1] = g; maskRgba[4 * p + 2] = b; maskRgba[4 * p + 3] = 110;
          }
        }
      } catch {
        // An unreadable mask was already reported by validation; the view shows the image without it.
      }
    }
    return {
      index, key: im.key, split: im.split, widthPx: im.widthPx, heightPx: im.heightPx, kPx: Array.from(im.kPx),
      rgbBytes, rgbMime: /\.png$/i.test(im.rgbPath) ? 'image/png' : 'image/jpeg', maskRgba,
      instances: im.instances.map((ins) => ({
        objId: ins.objId, rM2c: Array.from(ins.rM2c), tM2cMm: Array.from(ins.tM2cMm), bboxPx: ins.bboxPx, visibFract: ins.visibFract,
      })),
    };
  }

  objectGeometry(objId: number): ObjectGeometry | undefined {
    const hit = this.geometry.get(objId);
    if (hit) return hit;
    const ds = this.loaded?.ds;
    const obj = ds?.objects.find((o) => o.id === objId);
    if (!ds || !obj) return undefined;
    const kp = this.runKeypoints.get(objId) ?? keypointsOf(obj, obj.mesh ? { kind: 'fps', count: 8, surfaceSamples: 10_000, seed: 0 } : { kind: 'bbox' }).pointsMm;
    const g: ObjectGeometry = {
      objId, name: obj.name,
      positions: obj.mesh ? Float32Array.from(obj.mesh.positions) : new Float32Array(0),
      faces: obj.mesh ? Uint32Array.from(obj.mesh.faces) : new Uint32Array(0),
      boundsMm: obj.boundsMm, diameterMm: obj.diameterMm, keypointsMm: Float32Array.from(kp),
    };
    this.geometry.set(objId, g);
    return g;
  }

  async start(settings: TrainSettings, config?: TrainConfig): Promise<void> {
    await this.begin(settings, undefined, config);
  }

  resolveConfig(text: string, fileName: string, preset: PresetName): ConfigLoad {
    const r = resolveConfigText(text, { file: fileName, preset });
    return r.ok ? { ok: true, config: r.config, settings: settingsOf(r.config, r.preset) } : r;
  }

  configText(settings: TrainSettings, config?: TrainConfig): string {
    return configToText(configOf(settings, config));
  }

  pause(): void {
    this.engine?.pause();
  }

  resume(): void {
    this.engine?.resume();
  }

  stop(): void {
    this.engine?.stop();
  }

  async savedRun(): Promise<SavedRunInfo | undefined> {
    const run = await runStore.loadRun();
    if (!run) return undefined;
    const readable = await this.datasetReadable(run);
    return {
      step: run.step, totalSteps: run.totalSteps, savedAt: run.savedAt, settings: run.settings, finished: run.finished,
      dataset: { label: run.datasetLabel, origin: run.datasetOrigin, ...readable },
    };
  }

  async resumeSaved(onProgress: ProgressCallback): Promise<DatasetSummary> {
    const run = await runStore.loadRun();
    if (!run) throw new Error('no saved run to resume');
    const cur = this.loaded;
    if (!cur || cur.ds.source.label !== run.datasetLabel || cur.origin !== run.datasetOrigin) {
      if (run.datasetOrigin === 'bundled' && run.datasetUrl) {
        await this.loadUrl(run.datasetUrl, onProgress);
      } else {
        const stored = await runStore.loadDropped();
        if (!stored || stored.label !== run.datasetLabel) throw new Error(`the run's dataset (${run.datasetLabel}) was not kept: drop it again, then resume`);
        if (!stored.files) throw new Error(`the run's dataset (${run.datasetLabel}) was too large to keep: drop it again, then resume`);
        await this.openFiles(stored.label, stored.files, onProgress);
      }
    }
    const checkpoint = checkpointFromFiles(new Map(Object.entries(run.checkpoint)));
    this.history = run.history.slice();
    this.evals = run.evals.slice();
    this.emit({ type: 'history', points: this.history.slice(), evals: this.evals.slice() });
    await this.begin({ ...run.settings, objId: run.objId }, checkpoint);
    return this.summary();
  }

  async discardSaved(): Promise<void> {
    await runStore.clearRun();
  }

  async exportBundle(): Promise<Uint8Array> {
    const { engine } = this.requireEngine();
    await this.whenIdle();
    return zipBundle(await exportEngine(engine, { withCheckpoint: true, split: this.data?.split }));
  }

  async exportBopCsv(): Promise<string> {
    const { engine } = this.requireEngine();
    await this.whenIdle();
    const r = await engine.evaluate(0);
    return bopCsv(r.instances);
  }

  async importBundle(bytes: Uint8Array, mode: 'evaluate' | 'continue'): Promise<ImportResult> {
    const ds = this.requireDataset();
    await this.stopRun();
    const b = await readBundle(unzipBundle(bytes));
    try {
      const id = b.meta.class.id;
      const obj = ds.objects.find((o) => o.id === id);
      if (!obj) throw new Error(`the bundle's model is for object ${id} (${b.meta.class.name}), which the loaded dataset does not have`);
      // The bundle's keypoints stand for its heatmaps: the data must use exactly these.
      this.runKeypoints = new Map([[obj.id, b.keypointsMm]]);
      this.geometry.delete(obj.id);
      const summary = `model for object ${obj.id} (${obj.name}) at step ${b.meta.step}`;
      const config = b.meta.config;
      const preset: PresetName = config.name !== 'custom' ? config.name : 'default';
      const settings = settingsOf(config, preset, obj.id);
      if (mode === 'continue') {
        this.history = [];
        this.evals = [];
        await this.begin(settings, await resumeCheckpoint(b));
        return { summary, step: b.meta.step, hasCheckpoint: !!b.checkpoint };
      }
      const data = datasetTrainingData(ds, config, { decode: decodeBrowser, objId: obj.id, keypointsMm: b.keypointsMm });
      if (data.testCount === 0) throw new Error('the loaded dataset has no test instance of this object to evaluate on');
      // Bundles of runs without a localiser can only be evaluated on oracle crops; the metrics say so.
      const crops = bundleCrops(b, b.localiser ? 'detected' : 'oracle');
      const r = await evaluateModel(b.model, data, { norm: b.meta.input, batchSize: config.optim.batchSize, samples: Math.max(4, config.evalSamples), crops });
      this.emit({ type: 'eval', step: b.meta.step, final: true, metrics: metricsOf(r.metrics), samples: this.predictionSamples(r.samples, data), source: 'imported' });
      return { summary, step: b.meta.step, hasCheckpoint: !!b.checkpoint };
    } finally {
      b.model.dispose();
      b.localiser?.dispose();
    }
  }

  tryItStatus(source: TryModelSource): TryItStatus {
    return this.tryIt.status(source);
  }

  tryItImportBundle(bytes: Uint8Array): Promise<TryItStatus> {
    return this.tryIt.importBundle(bytes);
  }

  predictFrames(frames: TryFrame[], source: TryModelSource): Promise<TryResult> {
    return this.tryIt.predictFrames(frames, source);
  }

  posesJson(doc: PosesJson): string {
    return this.tryIt.posesJson(doc);
  }

  // ---- internals ----

  private async openFiles(label: string, files: DroppedBlob[], onProgress: ProgressCallback): Promise<DatasetSummary> {
    onProgress({ phase: 'listing', done: 0, total: files.length });
    const dropped: DroppedFile[] = files.map((f) => ({ path: f.path, file: f.file }));
    const source = await openDroppedFiles(dropped);
    onProgress({ phase: 'indexing', done: 0, total: source.paths.length });
    let last = 0;
    const ds = await loadDataset(source, {
      checkFiles: {
        onProgress: (done, total) => {
          const now = performance.now();
          if (now - last > 50 || done === total) { last = now; onProgress({ phase: 'checking', done, total }); }
        },
      },
    });
    // A dropped zip is labelled by its own name; the page's label says what the person dropped.
    this.setDataset({ ds, origin: 'dropped', files });
    onProgress({ phase: 'done', done: 1, total: 1 });
    return this.summary(label);
  }

  private setDataset(l: LoadedDataset): void {
    this.disposeEngine();
    this.loaded = l;
    this.geometry.clear();
  }

  private summary(label?: string): DatasetSummary {
    const ds = this.requireDataset();
    const counts = new Map<number, number>();
    for (const im of ds.images) for (const ins of im.instances) counts.set(ins.objId, (counts.get(ins.objId) ?? 0) + 1);
    const splits = countBySplit(ds);
    return {
      label: label ?? ds.source.label, name: ds.name, format: ds.layout ?? ds.format, origin: this.loaded!.origin,
      images: ds.images.length, instances: splits.reduce((n, s) => n + s.instances, 0), splits,
      objects: ds.objects.map((o) => ({ id: o.id, name: o.name, diameterMm: o.diameterMm, symmetric: o.symmetric, hasMesh: !!o.mesh, instances: counts.get(o.id) ?? 0 })),
      problems: ds.problems.map((p) => ({ file: p.file, field: p.field, message: p.message })),
      usable: isUsable(ds),
      imageKeys: ds.images.map((im) => im.key),
    };
  }

  private requireDataset(): Dataset {
    if (!this.loaded) throw new Error('no dataset is loaded');
    return this.loaded.ds;
  }

  private requireEngine(): { engine: TrainingEngine; data: DatasetTrainingData } {
    if (!this.engine || !this.data) throw new Error('there is no model yet: train, or import a bundle');
    return { engine: this.engine, data: this.data };
  }

  /** Export and evaluation need the engine between steps: a running engine is paused for them. */
  private async whenIdle(): Promise<void> {
    if (this.engine?.status === 'running') {
      const paused = new Promise<void>((res) => {
        const off = this.engine!.on((e) => { if (e.type === 'paused' || e.type === 'done' || e.type === 'error') { off(); res(); } });
      });
      this.engine.pause();
      await paused;
    }
  }

  private async begin(s: TrainSettings, resume?: Checkpoint, loaded?: TrainConfig): Promise<void> {
    const ds = this.requireDataset();
    await this.stopRun();
    const config = resume?.config ?? configOf(s, loaded);
    if (!resume) {
      this.history = [];
      this.evals = [];
    }
    this.geometry.clear();
    // A new run chooses its keypoints from the settings; a continued one keeps its checkpoint's.
    const data = datasetTrainingData(ds, config, {
      decode: decodeBrowser, objId: s.objId, keypointsMm: resume ? Float64Array.from(resume.keypointsMm) : undefined,
    });
    this.runKeypoints = new Map([[data.object.id, data.object.keypointsMm]]);
    const engine = new TrainingEngine(data, config, { resume });
    const settings: TrainSettings = { ...s, objId: data.object.id };
    this.replaceEngine(engine, data, settings);
    engine.on((e) => this.onEngineEvent(e, engine, data, settings, !!resume));
    this.running = engine.start().catch(() => undefined);
  }

  private replaceEngine(engine: TrainingEngine, data: DatasetTrainingData, settings: TrainSettings): void {
    this.disposeEngine();
    this.engine = engine;
    this.data = data;
    this.settings = settings;
  }

  private disposeEngine(): void {
    this.engine?.dispose();
    this.engine = undefined;
    this.data = undefined;
  }

  private async stopRun(): Promise<void> {
    if (this.engine && (this.engine.status === 'running' || this.engine.status === 'paused')) {
      this.engine.stop();
      await this.running;
    }
    await this.finalSave;
    await this.saving;
  }

  private onEngineEvent(e: EngineEvent, engine: TrainingEngine, data: DatasetTrainingData, settings: TrainSettings, resumed: boolean): void {
    switch (e.type) {
      case 'started':
        this.emit({
          type: 'started', step: e.step, totalSteps: e.totalSteps, backend: e.backend, parameters: e.parameters, keypoints: e.keypoints,
          settings, objId: data.object.id, objName: data.object.name, resumed,
        });
        return;
      case 'step': {
        const p: StepPoint = {
          step: e.step, totalSteps: e.totalSteps, total: e.losses.total, heatmap: e.losses.heatmap, keypoint: e.losses.keypoint,
          pose: e.losses.pose, localiser: e.losses.localiser, lr: e.lr, beta: e.beta, gradNorm: e.gradNorm, imagesPerSec: e.imagesPerSec, stepMs: e.stepMs,
          pnpMs: e.pnpMs, etaMs: e.etaMs,
        };
        this.pending.push(p);
        this.history.push(p);
        if (this.history.length > kMaxHistory) this.history = this.history.filter((_, i) => i % 2 === 0 || i > this.history.length - 1000);
        this.flushTimer ??= setTimeout(() => this.flushSteps(), kStepBatchMs);
        return;
      }
      case 'eval': {
        this.flushSteps();
        const metrics = metricsOf(e.metrics);
        this.evals.push({ step: e.step, metrics });
        this.emit({ type: 'eval', step: e.step, final: e.final, metrics, samples: this.predictionSamples(e.samples, data), source: 'training' });
        return;
      }
      case 'checkpoint':
        this.save(e.checkpoint, engine, settings, false);
        return;
      case 'paused':
        this.flushSteps();
        this.emit({ type: 'paused', step: e.step });
        // A paused run is kept, so closing the tab loses nothing.
        void engine.checkpoint().then((c) => this.save(c, engine, settings, false));
        return;
      case 'resumed':
        this.emit({ type: 'resumed', step: e.step });
        return;
      case 'done':
        this.flushSteps();
        this.emit({ type: 'done', step: e.step, reason: e.reason, metrics: e.metrics ? metricsOf(e.metrics) : undefined });
        this.finalSave = engine.checkpoint().then((c) => this.save(c, engine, settings, e.reason === 'finished')).catch(() => undefined);
        return;
      case 'error':
        this.flushSteps();
        this.emit({ type: 'error', step: e.step, message: e.message });
        return;
    }
  }

  private save(c: Checkpoint, engine: TrainingEngine, settings: TrainSettings, finished: boolean): void {
    const l = this.loaded;
    if (!l) return;
    const run: StoredRun = {
      settings, objId: settings.objId ?? -1, step: c.step, totalSteps: engine.config.optim.steps, finished, savedAt: Date.now(),
      checkpoint: Object.fromEntries(checkpointToFiles(c)), history: this.history.slice(), evals: this.evals.slice(),
      datasetLabel: l.ds.source.label, datasetOrigin: l.origin, datasetUrl: l.url,
    };
    this.saving = this.saving
      .then(() => runStore.saveRun(run))
      .then(() => this.emit({ type: 'checkpoint', step: c.step, savedAt: run.savedAt }))
      .catch((err: unknown) => this.emit({ type: 'error', step: c.step, message: `the checkpoint could not be saved in IndexedDB (${String(err)})` }));
  }

  private flushSteps(): void {
    if (this.flushTimer !== undefined) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.pending.length === 0) return;
    const points = this.pending;
    this.pending = [];
    this.emit({ type: 'steps', points });
  }

  private emit(e: EngineUiEvent): void {
    for (const l of this.listeners) l(e);
  }

  private predictionSamples(samples: SamplePrediction[], data: DatasetTrainingData): PredictionSample[] {
    const obj = data.object;
    return samples.map((s) => {
      const k = s.keypointsPx.length / 2;
      let kpErr = 0;
      for (let i = 0; i < k; i++) kpErr += Math.hypot(s.keypointsPx[2 * i] - s.keypointsGtPx[2 * i], s.keypointsPx[2 * i + 1] - s.keypointsGtPx[2 * i + 1]);
      const est = { R: s.poseEst.R, t: s.poseEst.tMm };
      const gt = { R: s.poseGt.R, t: s.poseGt.tMm };
      return {
        imageKey: s.imageKey, objId: obj.id, inputPx: s.inputPx, image: s.image, kCrop: Array.from(s.kCrop),
        keypointsPx: s.keypointsPx, keypointsGtPx: s.keypointsGtPx, heatmaps: s.heatmaps, heatmapSide: s.heatmapSide,
        est: { R: Array.from(s.poseEst.R), tMm: Array.from(s.poseEst.tMm) }, gt: { R: Array.from(s.poseGt.R), tMm: Array.from(s.poseGt.tMm) },
        status: s.status,
        errors: {
          rotDeg: rotationErrorDeg(s.poseEst.R, s.poseGt.R), transMm: translationErrorMm(s.poseEst.tMm, s.poseGt.tMm),
          addMm: obj.symmetric ? addsErrorMm(est, gt, obj.pointsMm) : addErrorMm(est, gt, obj.pointsMm), keypointPx: k ? kpErr / k : 0,
        },
      };
    });
  }

  private async datasetReadable(run: StoredRun): Promise<{ readable: boolean; why?: string }> {
    if (run.datasetOrigin === 'bundled') {
      try {
        const res = await fetch(`${(run.datasetUrl ?? '').replace(/\/?$/, '/')}manifest.json`, { method: 'HEAD' });
        return res.ok ? { readable: true } : { readable: false, why: `the bundled dataset answers HTTP ${res.status}` };
      } catch (e) {
        return { readable: false, why: `the bundled dataset cannot be fetched (${String(e)})` };
      }
    }
    const stored = await runStore.loadDropped().catch(() => undefined);
    if (!stored || stored.label !== run.datasetLabel) return { readable: false, why: 'another dataset was dropped since: drop this one again' };
    if (!stored.files) return { readable: false, why: `it was too large to keep (${(stored.bytes / 2 ** 20).toFixed(0)} MB): drop it again` };
    try {
      await Promise.all(stored.files.slice(0, 3).map((f) => f.file.slice(0, 1).arrayBuffer()));
      return { readable: true };
    } catch (e) {
      return { readable: false, why: `its files can no longer be read (${String(e)}): drop it again` };
    }
  }
}

/** The run's config: the panel's fields onto a loaded config when there is one, else onto their preset. */
function configOf(s: TrainSettings, loaded?: TrainConfig): TrainConfig {
  const fields: ConfigOverrides = {
    optim: { steps: s.steps, batchSize: s.batchSize, lr: s.lr },
    loss: { betaMax: s.betaMax },
    data: { keypoints: s.keypoints },
    evalEvery: s.evalEvery,
    checkpointEvery: s.checkpointEvery,
  };
  if (loaded) {
    // The page holds the config between load and start: it is checked again here, as a file would be.
    const r = resolveConfigJson(loaded, { file: 'the loaded config', preset: s.preset });
    if (!r.ok) throw new Error(r.errors.join('\n'));
    return applyOverrides(r.config, fields);
  }
  return makeConfig(s.preset, { ...fields, evalSamples: Math.max(4, kConfigs[s.preset].evalSamples) });
}

function settingsOf(c: TrainConfig, preset: PresetName, objId?: number): TrainSettings {
  return {
    preset, steps: c.optim.steps, batchSize: c.optim.batchSize, lr: c.optim.lr, betaMax: c.loss.betaMax, keypoints: c.data.keypoints,
    evalEvery: c.evalEvery, checkpointEvery: c.checkpointEvery, objId,
  };
}

function metricsOf(m: PoseMetrics): EvalMetrics {
  return { ...m };
}
