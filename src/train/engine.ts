/**
 * The one training engine. Hosts (the web app's Worker, the command line) create it with a data view
 * (trainingData.ts) and a config, subscribe to its events, and drive it with four commands: start, pause,
 * resume, stop. It knows nothing of who hosts it.
 *
 * A step: the next batch (trainBatches.ts, read while the step before computes), one optimiser step of
 * the keypoint network (trainStep.ts), and beside it one step of the localiser (localiser.ts) on the
 * whole images of the first localiser.batchSize samples, with its own Adam and the same learning-rate
 * schedule. The two networks share nothing within a step, so a host may run the localiser's steps on a
 * second thread (EngineOptions.localiserSteps): on the CPU backends, which compute on one thread, the
 * two steps then take the time of the longer. Evaluation cuts its crops from the localiser's boxes
 * (config.evalCrops 'detected') unless the config asks for the oracle. Checkpoints: checkpoint.ts.
 */
import * as tf from '@tensorflow/tfjs';
import { hashSeed } from '../data/rng';
import { pickRows } from './batch';
import { restoreCheckpoint, takeCheckpoint, type Checkpoint, type TrainedParts } from './checkpoint';
import { validateConfig, type TrainConfig } from './config';
import { keypointCount, type PoseObject, type TrainingData } from './trainingData';
import { evaluate, type EvalResult, type SamplePrediction } from './evaluate';
import type { LossPoints } from './loss';
import type { PoseMetrics } from './metrics';
import { Localiser, type LocaliserSteps } from './localiser';
import { buildModel, parameterCount, trainableVariables } from './model';
import { Adam } from '../ops/adam';
import { betaAt, learningRateAt } from './schedule';
import { TrainBatches, type BatchSource, type TrainBatch } from './trainBatches';
import { trainStep, type Losses, type StepNetwork } from './trainStep';
import { WeightAverage } from './weightAverage';

export type { Losses };

export type EngineEvent =
  | { type: 'started'; step: number; totalSteps: number; config: TrainConfig; parameters: number; backend: string; keypoints: number }
  | {
    type: 'step';
    /** Steps completed (1 after the first). */
    step: number;
    totalSteps: number;
    losses: Losses;
    lr: number;
    beta: number;
    /** Global gradient norm before clipping. */
    gradNorm: number;
    /** This step's batch over its wall time (data included). */
    imagesPerSec: number;
    stepMs: number;
    /** Wall time in the network (forward and backward) on a timed step; the whole step's compute on the others. */
    netMs: number;
    /** Wall time in the PnP layer and the pose loss on a timed step (EngineOptions.timePnpEvery); 0 while beta = 0; NaN on the others. */
    pnpMs: number;
    /** bpnp problems in the batch that did not converge (0 while beta = 0). */
    pnpFailures: number;
    /** Remaining time at this step's pace, ms. */
    etaMs: number;
  }
  | { type: 'eval'; step: number; final: boolean; metrics: PoseMetrics; samples: SamplePrediction[] }
  | { type: 'checkpoint'; step: number; checkpoint: Checkpoint }
  | { type: 'paused'; step: number }
  | { type: 'resumed'; step: number }
  | { type: 'done'; step: number; reason: 'finished' | 'stopped'; metrics?: PoseMetrics }
  | { type: 'error'; step: number; message: string };

export type EngineListener = (e: EngineEvent) => void;

export interface EngineOptions {
  /** Continue a run: weights, optimiser state, step and data order come from here (its config wins). */
  resume?: Checkpoint;
  /**
   * Every this many steps with the pose loss on, the step is timed in parts (trainStep's 'split' timing:
   * the network's forward, the PnP layer with the pose loss, the network's backward), at the price of a
   * second forward pass and of not reading the next batch meanwhile; the other steps run one fused tape.
   * 1 times every step (bench:train), 0 none; default 100.
   */
  timePnpEvery?: number;
  /** Run the final evaluation on the whole test split when the last step is done (default true). */
  finalEval?: boolean;
  /**
   * Runs the localiser's steps elsewhere (a host's second thread) on a localiser built from the same
   * config. start() first gives it this engine's localiser state (weights and Adam, fresh or resumed);
   * every step sends the weights back. The engine disposes it.
   */
  localiserSteps?: LocaliserSteps;
  /**
   * Reads the training batches elsewhere (a host's thread running TrainBatches on the same dataset and
   * config): the crops, views and targets are cut there while this thread computes. The engine disposes it.
   */
  batches?: BatchSource;
}

export interface RunResult {
  step: number;
  reason: 'finished' | 'stopped';
  /** The final evaluation, when it ran. */
  eval?: EvalResult;
}

/**
 * Resolves in a later task of the host's event loop, so that its pending events (messages, signals) run
 * first: setImmediate in Node, a message to itself elsewhere (a nested setTimeout would be clamped to 4 ms).
 */
function yieldToEventLoop(): Promise<void> {
  if (typeof setImmediate === 'function') return new Promise((resolve) => setImmediate(resolve));
  return new Promise((resolve) => {
    const ch = new MessageChannel();
    ch.port1.onmessage = () => { ch.port1.close(); resolve(); };
    ch.port2.postMessage(null);
  });
}

const kState = { idle: 'idle', running: 'running', paused: 'paused', stopping: 'stopping', done: 'done' } as const;
type State = (typeof kState)[keyof typeof kState];

export class TrainingEngine {
  readonly config: TrainConfig;
  readonly model: tf.LayersModel;
  /**
   * The keypoint network that evaluation, prediction and export use: the weights' moving average
   * (optim.emaDecay > 0, weightAverage.ts), else the trained network itself.
   */
  readonly inferenceModel: tf.LayersModel;
  readonly localiser: Localiser;
  private readonly vars: tf.Variable[];
  private readonly adam: Adam;
  private readonly average?: WeightAverage;
  /** Where the localiser's steps run: this.localiser, or opts.localiserSteps once given its state. */
  private readonly localiserSteps: LocaliserSteps;
  private localiserSynced: boolean;
  private readonly points: LossPoints;
  private readonly listeners = new Set<EngineListener>();
  private readonly timePnpEvery: number;
  private readonly finalEval: boolean;
  private readonly batches: BatchSource;
  private stepCount = 0;
  private state: State = kState.idle;
  private wake: (() => void) | null = null;
  private disposed = false;
  private metricsSeen: PoseMetrics | undefined;

  constructor(private readonly data: TrainingData, config: TrainConfig, opts: EngineOptions = {}) {
    this.config = structuredClone(opts.resume?.config ?? config);
    validateConfig(this.config);
    if (data.trainCount < 1) throw new Error('TrainingEngine: the training split is empty');
    const k = keypointCount(data.object);
    this.model = buildModel(this.config.model, k, this.config.seed);
    this.vars = trainableVariables(this.model);
    this.adam = new Adam(this.vars, this.config.optim);
    const decay = this.config.optim.emaDecay;
    // The copy is built as the network is (its seeded start is overwritten with the network's weights).
    this.average = decay > 0 ? new WeightAverage(buildModel(this.config.model, k, this.config.seed), this.vars, decay) : undefined;
    this.inferenceModel = this.average?.copy ?? this.model;
    this.localiser = new Localiser(this.config.localiser, this.config.optim, this.config.seed);
    this.localiserSteps = opts.localiserSteps ?? this.localiser;
    this.localiserSynced = this.localiserSteps === this.localiser;
    this.timePnpEvery = opts.timePnpEvery ?? 100;
    this.finalEval = opts.finalEval ?? true;
    this.batches = opts.batches ?? new TrainBatches(data, this.config);
    const kp = data.object.keypointsMm;
    const posePts = this.config.loss.posePoints > 0 ? pickRows(data.object.pointsMm, this.config.loss.posePoints, hashSeed(this.config.seed, 0x9015)) : kp;
    this.points = {
      keypointsMm: tf.tensor2d(Float32Array.from(kp), [k, 3]),
      posePointsMm: tf.tensor2d(Float32Array.from(posePts), [posePts.length / 3, 3]),
    };
    if (opts.resume) {
      restoreCheckpoint(this.parts(), opts.resume, data.object.keypointsMm);
      this.stepCount = opts.resume.step;
    }
  }

  /** Subscribes to events; returns the unsubscribe function. */
  on(listener: EngineListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get step(): number {
    return this.stepCount;
  }

  get status(): State {
    return this.state;
  }

  /** The object trained for (its keypoints are the heatmaps' order). */
  get object(): PoseObject {
    return this.data.object;
  }

  /** The metrics of the latest evaluation event, if any (what an export records). */
  get lastMetrics(): PoseMetrics | undefined {
    return this.metricsSeen;
  }

  /**
   * Runs until the configured steps are done or stop() is called; resolves after the 'done' event.
   * Errors are reported as an 'error' event and rethrown.
   */
  async start(): Promise<RunResult> {
    if (this.state !== kState.idle && this.state !== kState.done) throw new Error(`TrainingEngine.start: already ${this.state}`);
    this.state = kState.running;
    const total = this.config.optim.steps;
    this.emit({
      type: 'started', step: this.stepCount, totalSteps: total, config: this.config, parameters: parameterCount(this.model),
      backend: tf.getBackend(), keypoints: keypointCount(this.data.object),
    });
    try {
      if (!this.localiserSynced) {
        await this.localiserSteps.setState(await this.localiser.getState());
        this.localiserSynced = true;
      }
      let next: Promise<TrainBatch> | null = this.stepCount < total ? this.load(this.stepCount) : null;
      while (this.stepCount < total) {
        // Commands and signals reach the host as events of its loop (a worker message, Ctrl-C). On the
        // CPU backends a whole step settles in microtasks, so without this turn of the event loop they
        // would wait for the end of the run.
        await yieldToEventLoop();
        if (this.is(kState.paused)) {
          this.emit({ type: 'paused', step: this.stepCount });
          await new Promise<void>((r) => (this.wake = r));
          this.wake = null;
          if (this.is(kState.running)) this.emit({ type: 'resumed', step: this.stepCount });
        }
        if (this.is(kState.stopping)) break;
        const t0 = performance.now();
        const batch = await next!;
        const lr = learningRateAt(this.stepCount, this.config.optim);
        const beta = betaAt(this.stepCount, this.config.loss);
        const timed = beta > 0 && this.timePnpEvery > 0 && this.stepCount % this.timePnpEvery === 0;
        // The next batch is read while this step computes (on a GPU in parallel; on a CPU backend its work
        // runs in the step's awaits), except on a timed step, whose parts it would land in.
        const readNext = () => (this.stepCount + 1 < total ? this.load(this.stepCount + 1) : null);
        next = timed ? null : readNext();
        // The localiser's step first: on another thread it then computes while this one runs the
        // keypoint network's.
        const locStep = this.localiserSteps.trainStep(batch.views, lr, this.config.data);
        const [s, loc] = await Promise.all([trainStep(this.network(timed ? 'split' : 'fused'), batch, lr, beta), locStep]);
        if (timed) next = readNext();
        if (loc.weights) this.localiser.setWeights(loc.weights);
        s.losses.localiser = loc.centre + this.config.localiser.sizeWeight * loc.size;
        this.stepCount++;
        this.average?.update(this.stepCount);
        const stepMs = performance.now() - t0;
        const B = this.config.optim.batchSize;
        this.emit({
          type: 'step', step: this.stepCount, totalSteps: total, losses: s.losses, lr, beta, gradNorm: s.gradNorm,
          imagesPerSec: (1000 * B) / stepMs, stepMs, netMs: s.netMs, pnpMs: s.pnpMs, pnpFailures: s.pnpFailures,
          etaMs: stepMs * (total - this.stepCount),
        });
        const { evalEvery, checkpointEvery } = this.config;
        if (evalEvery > 0 && this.stepCount % evalEvery === 0 && this.stepCount < total) {
          const r = await this.evaluate(this.config.evalMaxInstances);
          this.emit({ type: 'eval', step: this.stepCount, final: false, metrics: r.metrics, samples: r.samples });
        }
        if (checkpointEvery > 0 && this.stepCount % checkpointEvery === 0) {
          this.emit({ type: 'checkpoint', step: this.stepCount, checkpoint: await this.checkpoint() });
        }
      }
      await next?.catch(() => undefined);
      const reason = this.stepCount >= total && !this.is(kState.stopping) ? 'finished' : 'stopped';
      let ev: EvalResult | undefined;
      if (reason === 'finished' && this.finalEval && this.data.testCount > 0) {
        ev = await this.evaluate(0);
        this.emit({ type: 'eval', step: this.stepCount, final: true, metrics: ev.metrics, samples: ev.samples });
      }
      this.state = kState.done;
      this.emit({ type: 'done', step: this.stepCount, reason, metrics: ev?.metrics });
      return { step: this.stepCount, reason, eval: ev };
    } catch (e) {
      this.state = kState.done;
      this.emit({ type: 'error', step: this.stepCount, message: e instanceof Error ? e.message : String(e) });
      throw e;
    }
  }

  /**
   * The batch of `step`, read ahead: a failure is the run's error when the step awaits it, and not an unhandled
   * rejection before (the wasm backend's runtime throws those), nor after a run that ended first.
   */
  private load(step: number): Promise<TrainBatch> {
    const p = this.batches.load(step);
    p.catch(() => undefined);
    return p;
  }

  /** Pauses before the next step. */
  pause(): void {
    if (this.state === kState.running) this.state = kState.paused;
  }

  resume(): void {
    if (this.state === kState.paused) {
      this.state = kState.running;
      this.wake?.();
    }
  }

  /** Stops after the current step; start() then resolves with reason 'stopped'. checkpoint() still works. */
  stop(): void {
    if (this.state === kState.running || this.state === kState.paused) {
      this.state = kState.stopping;
      this.wake?.();
    }
  }

  /** Evaluates inferenceModel (the weights' average, or the current weights) on the test split (maxInstances 0 = all), with the config's crops. */
  evaluate(maxInstances = 0): Promise<EvalResult> {
    return evaluate(this.inferenceModel, this.data, {
      norm: this.config.data,
      batchSize: this.config.optim.batchSize,
      maxInstances,
      samples: this.config.evalSamples,
      crops: this.config.evalCrops === 'oracle'
        ? { from: 'oracle' }
        : { from: 'detected', localiser: this.localiser.model, minScore: this.config.localiser.minScore },
    });
  }

  /** Everything needed to continue exactly from here. */
  checkpoint(): Promise<Checkpoint> {
    // Adam's moments live where the steps run; before start() that is still this thread.
    const localiser = this.localiserSynced ? this.localiserSteps : this.localiser;
    return takeCheckpoint({ ...this.parts(), localiser }, this.config, this.stepCount, this.data.object.keypointsMm);
  }

  /** Frees the model, the optimiser state and the constants. The engine cannot be used after. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.adam.dispose();
    this.localiser.dispose();
    if (this.localiserSteps !== this.localiser) this.localiserSteps.dispose();
    this.batches.dispose?.();
    tf.dispose([this.points.keypointsMm, this.points.posePointsMm]);
    this.model.dispose();
    this.average?.dispose();
  }

  private parts(): TrainedParts & { localiser: Localiser } {
    return { model: this.model, vars: this.vars, adam: this.adam, localiser: this.localiser, average: this.average };
  }

  private network(timing: StepNetwork['timing']): StepNetwork {
    return {
      model: this.model, vars: this.vars, adam: this.adam, points: this.points, config: this.config,
      keypoints: keypointCount(this.data.object), timing,
    };
  }

  /** Reads the state through a call: commands change it while start() awaits. */
  private is(s: State): boolean {
    return this.state === s;
  }

  private emit(e: EngineEvent): void {
    if (e.type === 'eval') this.metricsSeen = e.metrics;
    for (const l of this.listeners) l(e);
  }

}
