/**
 * The worker's training run: starts, pauses, stops and disposes the TrainingEngine, turns its events
 * into the page's (steps batched every kStepBatchMs, the chart history kept), and saves the run at every
 * checkpoint, pause and end (savedRun.ts).
 */
import type { Dataset } from '../data/dataset';
import { decodeBrowser } from '../data/decode/browser';
import type { Checkpoint } from '../train/checkpoint';
import type { TrainConfig } from '../train/config';
import { datasetTrainingData, type DatasetTrainingData } from '../train/datasetTrainingData';
import { TrainingEngine, type EngineEvent } from '../train/engine';
import type { LocaliserSteps } from '../train/localiser';
import { configOf } from '../train/settings';
import type { LoadedDataset } from './datasetViews';
import { kStepBatchMs, type EngineUiEvent, type EvalMetrics, type StepPoint, type TrainSettings } from './protocol';
import { RunSaver } from './savedRun';

/** Points kept in the chart history saved with a run (older points thinned beyond this). */
const kMaxHistory = 20_000;

export interface RunStart {
  /** Continue from this checkpoint (its config and keypoints win). */
  resume?: Checkpoint;
  /** A config loaded from a file: the settings are laid onto it (settings.ts configOf). */
  loaded?: TrainConfig;
}

/**
 * Where a run's localiser trains (EngineHost: a nested worker on a CPU backend); notice says why it
 * shares the training worker when a worker of its own could not start.
 */
export type LocaliserPlacement = (config: TrainConfig) => Promise<{ steps?: LocaliserSteps; notice?: string }>;

export class RunHost {
  private engineNow?: TrainingEngine;
  private dataNow?: DatasetTrainingData;
  private running?: Promise<unknown>;
  private pending: StepPoint[] = [];
  private flushTimer?: ReturnType<typeof setTimeout>;
  private history: StepPoint[] = [];
  private evals: { step: number; metrics: EvalMetrics }[] = [];
  private readonly saver: RunSaver;
  /** The checkpoint taken when a run ends: the engine is not disposed before it is read. */
  private finalSave: Promise<void> = Promise.resolve();

  constructor(
    private readonly emit: (e: EngineUiEvent) => void,
    private readonly dataset: () => LoadedDataset | undefined,
    private readonly placeLocaliser: LocaliserPlacement = () => Promise.resolve({}),
  ) {
    this.saver = new RunSaver(emit);
  }

  get engine(): TrainingEngine | undefined {
    return this.engineNow;
  }

  /** The engine and its data; throws when there is no model yet. */
  requireEngine(): { engine: TrainingEngine; data: DatasetTrainingData } {
    if (!this.engineNow || !this.dataNow) throw new Error('there is no model yet: train, or import a bundle');
    return { engine: this.engineNow, data: this.dataNow };
  }

  /** Starts a run on ds and returns its data (the object and keypoints it trains). A new run starts a new chart history. */
  async begin(ds: Dataset, s: TrainSettings, opts: RunStart = {}): Promise<DatasetTrainingData> {
    await this.stop();
    const { resume } = opts;
    const config = resume?.config ?? configOf(s, opts.loaded);
    if (!resume) this.setHistory([], []);
    // A new run chooses its keypoints from the settings; a continued one keeps its checkpoint's.
    const data = datasetTrainingData(ds, config, {
      decode: decodeBrowser, objId: s.objId, keypointsMm: resume ? Float64Array.from(resume.keypointsMm) : undefined,
    });
    const localiser = await this.placeLocaliser(config);
    let engine: TrainingEngine;
    try {
      engine = new TrainingEngine(data, config, { resume, localiserSteps: localiser.steps });
    } catch (e) {
      localiser.steps?.dispose();
      throw e;
    }
    const settings: TrainSettings = { ...s, objId: data.object.id };
    this.dispose();
    this.engineNow = engine;
    this.dataNow = data;
    engine.on((e) => this.onEngineEvent(e, engine, data, settings, !!resume, localiser.notice));
    this.running = engine.start().catch(() => undefined);
    return data;
  }

  /** The chart history a continued run starts from (a new run starts with none). */
  setHistory(points: StepPoint[], evals: { step: number; metrics: EvalMetrics }[]): void {
    this.history = points.slice();
    this.evals = evals.slice();
  }

  pause(): void {
    this.engineNow?.pause();
  }

  resume(): void {
    this.engineNow?.resume();
  }

  /** Asks the engine to stop after its current step. */
  requestStop(): void {
    this.engineNow?.stop();
  }

  /** Stops a running or paused run and waits for it and its saves to end. */
  async stop(): Promise<void> {
    const e = this.engineNow;
    if (e && (e.status === 'running' || e.status === 'paused')) {
      e.stop();
      await this.running;
    }
    await this.finalSave;
    await this.saver.idle();
  }

  /** Export and evaluation need the engine between steps: a running engine is paused for them. */
  async whenIdle(): Promise<void> {
    const e = this.engineNow;
    if (e?.status === 'running') {
      const paused = new Promise<void>((res) => {
        const off = e.on((ev) => { if (ev.type === 'paused' || ev.type === 'done' || ev.type === 'error') { off(); res(); } });
      });
      e.pause();
      await paused;
    }
  }

  /** Frees the engine (its run must have stopped). */
  dispose(): void {
    this.engineNow?.dispose();
    this.engineNow = undefined;
    this.dataNow = undefined;
  }

  private onEngineEvent(e: EngineEvent, engine: TrainingEngine, data: DatasetTrainingData, settings: TrainSettings, resumed: boolean, notice?: string): void {
    switch (e.type) {
      case 'started':
        this.emit({
          type: 'started', step: e.step, totalSteps: e.totalSteps, backend: e.backend, parameters: e.parameters, keypoints: e.keypoints,
          settings, objId: data.object.id, objName: data.object.name, resumed, ...(notice ? { notice } : {}),
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
      case 'eval':
        this.flushSteps();
        this.evals.push({ step: e.step, metrics: e.metrics });
        this.emit({ type: 'eval', step: e.step, final: e.final, metrics: e.metrics, samples: e.samples, source: 'training' });
        return;
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
        this.emit({ type: 'done', step: e.step, reason: e.reason, metrics: e.metrics });
        this.finalSave = engine.checkpoint().then((c) => this.save(c, engine, settings, e.reason === 'finished')).catch(() => undefined);
        return;
      case 'error':
        this.flushSteps();
        this.emit({ type: 'error', step: e.step, message: e.message });
        return;
    }
  }

  private save(c: Checkpoint, engine: TrainingEngine, settings: TrainSettings, finished: boolean): void {
    const l = this.dataset();
    if (!l) return;
    this.saver.save(c, { settings, totalSteps: engine.config.optim.steps, finished, history: this.history, evals: this.evals }, l);
  }

  private flushSteps(): void {
    if (this.flushTimer !== undefined) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.pending.length === 0) return;
    const points = this.pending;
    this.pending = [];
    this.emit({ type: 'steps', points });
  }
}
