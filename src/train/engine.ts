/**
 * The one training engine. Hosts (the web app's Worker, the command line) create it with a data view
 * (data.ts) and a config, subscribe to its events, and drive it with four commands: start, pause,
 * resume, stop. It knows nothing of who hosts it.
 *
 * A step: B samples (data order: a seeded shuffle per epoch; sample index c = step x B + j names the
 * augmentation), the network's heatmaps, soft-argmax keypoints, the heatmap and keypoint losses, and
 * once beta > 0 the pose loss through bpnp; Adam on the clipped gradients. Beside it, the localiser
 * (localiser.ts) takes one step of its own on the whole images of the first localiser.batchSize
 * samples, with its own Adam and the same learning-rate schedule. Evaluation cuts its crops from the
 * localiser's boxes (config.evalCrops 'detected') unless the config asks for the oracle.
 *
 * Timing ('split', the default, while beta > 0): the step is cut at the keypoints so the time in the
 * PnP layer can be measured with a sync on either side. (1) network forward -> keypoints; (2) beta
 * L_pose and its gradients dL/dkp, dL/dconf (bpnp and the reprojection: "PnP time"); (3) the network's
 * gradients of L_heatmap + w L_kp + <kp, dL/dkp> + <conf, dL/dconf>, which equal those of the full loss
 * by the chain rule. It costs one more network forward than 'fused', which runs one tape over
 * everything and reports no PnP time.
 */
import * as tf from '@tensorflow/tfjs';
import { hashSeed } from '../data/rng';
import { so3Log } from '../solver/so3';
import { epochOrder, keypointTargets, pickRows, stackImages, stackK } from './batch';
import type { Checkpoint, NamedArray } from './checkpoint';
import { heatmapSide, kHeatmapStride, validateConfig, type TrainConfig } from './config';
import { keypointCount, type PoseObject, type TrainingData, type TrainingSample } from './data';
import { evaluate, type EvalResult, type SamplePrediction } from './evaluate';
import { gaussianTargets } from './heatmaps';
import { networkTerms, poseTerm, type LossBatch, type LossPoints } from './loss';
import type { PoseMetrics } from './metrics';
import { Localiser, type ViewSample } from './localiser';
import { buildModel, normalise, parameterCount, runModel, trainableVariables } from './model';
import { Adam, assignArray } from './optimizer';
import { betaAt, learningRateAt } from './schedule';

export interface Losses {
  /** heatmap + keypointWeight x keypoint + beta x pose */
  total: number;
  heatmap: number;
  keypoint: number;
  /** unweighted; 0 while beta = 0 */
  pose: number;
  /** The localiser's centre heatmap loss + sizeWeight x its box-size L1 (trained apart, not in total). */
  localiser: number;
}

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
    /** Wall time in the network (forward and backward); the whole step's compute in 'fused' timing. */
    netMs: number;
    /** Wall time in the PnP layer and the pose loss (0 while beta = 0; NaN in 'fused' timing). */
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
  timing?: 'split' | 'fused';
  /** Run the final evaluation on the whole test split when the last step is done (default true). */
  finalEval?: boolean;
}

export interface RunResult {
  step: number;
  reason: 'finished' | 'stopped';
  /** The final evaluation, when it ran. */
  eval?: EvalResult;
}

interface HostBatch {
  image: Float32Array;
  kCrop: Float32Array;
  poseGt: Float32Array;
  kpGtPx: Float32Array;
  targets: Float32Array;
  views: ViewSample[];
}

interface StepStats {
  losses: Losses;
  gradNorm: number;
  netMs: number;
  pnpMs: number;
  pnpFailures: number;
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
  readonly localiser: Localiser;
  private readonly vars: tf.Variable[];
  private readonly adam: Adam;
  private readonly points: LossPoints;
  private readonly listeners = new Set<EngineListener>();
  private readonly timing: 'split' | 'fused';
  private readonly finalEval: boolean;
  private stepCount = 0;
  private state: State = kState.idle;
  private wake: (() => void) | null = null;
  private perm: { epoch: number; order: number[] } | null = null;
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
    this.localiser = new Localiser(this.config.localiser, this.config.optim, this.config.seed);
    this.timing = opts.timing ?? 'split';
    this.finalEval = opts.finalEval ?? true;
    const kp = data.object.keypointsMm;
    const posePts = this.config.loss.posePoints > 0 ? pickRows(data.object.pointsMm, this.config.loss.posePoints, hashSeed(this.config.seed, 0x9015)) : kp;
    this.points = {
      keypointsMm: tf.tensor2d(Float32Array.from(kp), [k, 3]),
      posePointsMm: tf.tensor2d(Float32Array.from(posePts), [posePts.length / 3, 3]),
    };
    if (opts.resume) this.restore(opts.resume);
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
      let next = this.stepCount < total ? this.loadBatch(this.stepCount) : null;
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
        // The next batch is read while this step computes.
        next = this.stepCount + 1 < total ? this.loadBatch(this.stepCount + 1) : null;
        const lr = learningRateAt(this.stepCount, this.config.optim);
        const beta = betaAt(this.stepCount, this.config.loss);
        const s = await this.trainStep(batch, lr, beta);
        const loc = await this.localiser.trainStep(batch.views, lr, this.config.data);
        s.losses.localiser = loc.centre + this.config.localiser.sizeWeight * loc.size;
        this.stepCount++;
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

  /** Evaluates the current weights on the test split (maxInstances 0 = all), with the config's crops. */
  evaluate(maxInstances = 0): Promise<EvalResult> {
    return evaluate(this.model, this.data, {
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
  async checkpoint(): Promise<Checkpoint> {
    const weights: NamedArray[] = await Promise.all(this.model.trainableWeights.map(async (w, i) => ({
      name: w.originalName, shape: w.shape as number[], values: Float32Array.from(await this.vars[i].data()),
    })));
    return {
      format: 'poselab-checkpoint',
      version: 1,
      config: structuredClone(this.config),
      step: this.stepCount,
      rng: { seed: this.config.seed, samplesSeen: this.stepCount * this.config.optim.batchSize },
      keypointsMm: Array.from(this.data.object.keypointsMm),
      weights,
      optimizer: await this.adam.getState(),
      localiser: await this.localiser.getState(),
    };
  }

  /** Frees the model, the optimiser state and the constants. The engine cannot be used after. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.adam.dispose();
    this.localiser.dispose();
    tf.dispose([this.points.keypointsMm, this.points.posePointsMm]);
    this.model.dispose();
  }

  private restore(c: Checkpoint): void {
    if (c.weights.length !== this.vars.length) throw new Error(`checkpoint has ${c.weights.length} weights, the model ${this.vars.length}`);
    const kp = this.data.object.keypointsMm;
    if (c.keypointsMm.length !== kp.length || c.keypointsMm.some((v, i) => Math.abs(v - kp[i]) > 1e-3)) {
      throw new Error('checkpoint: its keypoints differ from the data\'s object keypoints (another object, or other keypoint settings)');
    }
    if (!c.localiser) throw new Error('checkpoint: written by a run without a localiser; start a new run (or evaluate its bundle with oracle crops)');
    c.weights.forEach((w, i) => assignArray(this.vars[i], w.values, `weight ${w.name}`));
    this.adam.setState(c.optimizer);
    this.localiser.setState(c.localiser);
    this.stepCount = c.step;
  }

  /** Reads the state through a call: commands change it while start() awaits. */
  private is(s: State): boolean {
    return this.state === s;
  }

  private emit(e: EngineEvent): void {
    if (e.type === 'eval') this.metricsSeen = e.metrics;
    for (const l of this.listeners) l(e);
  }

  /** Training item at sample index c: a seeded shuffle of the training split per epoch. */
  private itemAt(c: number): number {
    const N = this.data.trainCount;
    const epoch = Math.floor(c / N);
    if (!this.perm || this.perm.epoch !== epoch) {
      this.perm = { epoch, order: epochOrder(this.config.seed, epoch, N) };
    }
    return this.perm.order[c % N];
  }

  private async loadBatch(step: number): Promise<HostBatch> {
    const B = this.config.optim.batchSize;
    const idx = Array.from({ length: B }, (_, j) => step * B + j);
    const items = idx.map((c) => this.itemAt(c));
    const [samples, views] = await Promise.all([
      Promise.all(idx.map((c, j) => this.data.train(items[j], c, this.config.seed))),
      Promise.all(idx.slice(0, this.config.localiser.batchSize).map((c, j) => this.data.trainView(items[j], c, this.config.seed))),
    ]);
    // Fewer training instances than localiser.batchSize: the views repeat the batch's.
    while (views.length < this.config.localiser.batchSize) views.push(views[views.length % idx.length]);
    return { ...this.hostBatch(samples), views };
  }

  private hostBatch(samples: TrainingSample[]): Omit<HostBatch, 'views'> {
    const t = keypointTargets(samples, this.data.object.keypointsMm, heatmapSide(this.config.model), this.config.loss.sigmaCells);
    return { image: stackImages(samples.map((s) => s.image), this.config.model.inputPx, 'training sample'), kCrop: stackK(samples), ...t };
  }

  private async trainStep(h: HostBatch, lr: number, beta: number): Promise<StepStats> {
    const { model: mc, loss: lc, data: dc } = this.config;
    const B = this.config.optim.batchSize;
    const S = mc.inputPx;
    const H = heatmapSide(mc);
    const k = keypointCount(this.data.object);
    const t0 = performance.now();
    const x = tf.tidy(() => normalise(tf.tensor4d(h.image, [B, S, S, 3]), dc.mean, dc.std));
    const lb: LossBatch = {
      kpGtPx: tf.tensor3d(h.kpGtPx, [B, k, 2]),
      targets: tf.tensor4d(h.targets, [B, H, H, k]),
      kCrop: tf.tensor3d(h.kCrop, [B, 3, 3]),
      poseGt: tf.tensor2d(h.poseGt, [B, 6]),
    };
    const kept: tf.Tensor[] = [];
    const keep = <T extends tf.Tensor>(t: T): T => { kept.push(tf.keep(t)); return t; };
    let heatT: tf.Scalar, kpT: tf.Scalar, poseT: tf.Scalar | undefined, statusT: tf.Tensor | undefined;
    let grads: tf.NamedTensorMap;
    let netMs: number, pnpMs: number;
    if (beta > 0 && this.timing === 'split') {
      // (1) keypoints (and confidences) from the network
      const fwd = tf.tidy(() => {
        const o = runModel(this.model, x);
        return { kp: networkTerms(o, lb).kpPx, conf: o.confidence };
      });
      await fwd.kp.data();
      const t1 = performance.now();
      // (2) beta L_pose and its gradients at the keypoints
      const inputs = fwd.conf ? [fwd.kp, fwd.conf] : [fwd.kp];
      const pg = tf.valueAndGrads((...a: tf.Tensor[]) => {
        const p = poseTerm(a[0] as tf.Tensor3D, a[1] as tf.Tensor2D | undefined, lb, this.points, lc);
        poseT = keep(p.loss);
        statusT = keep(p.status);
        return tf.mul(p.loss, beta) as tf.Scalar;
      })(inputs);
      await Promise.all(pg.grads.map((g) => g.data()));
      const t2 = performance.now();
      // (3) the network's gradients through the surrogate
      const vg = tf.variableGrads(() => {
        const o = runModel(this.model, x);
        const t = networkTerms(o, lb);
        heatT = keep(t.heatmap);
        kpT = keep(t.keypoint);
        let total = tf.add(t.heatmap, tf.mul(t.keypoint, lc.keypointWeight));
        total = tf.add(total, tf.sum(tf.mul(t.kpPx, pg.grads[0])));
        if (o.confidence && pg.grads[1]) total = tf.add(total, tf.sum(tf.mul(o.confidence, pg.grads[1])));
        return total as tf.Scalar;
      }, this.vars);
      grads = vg.grads;
      tf.dispose([fwd.kp, fwd.conf, pg.value, ...pg.grads, vg.value].filter((t): t is tf.Tensor => !!t));
      pnpMs = t2 - t1;
      netMs = t1 - t0; // plus (3), added after the update below
      const norm = this.adam.apply(this.orderedGrads(grads), lr);
      const [n] = await Promise.all([norm.data(), ...kept.map((t) => t.data())]);
      netMs += performance.now() - t2;
      return this.finishStep(norm, n[0], heatT!, kpT!, poseT, statusT, beta, grads, kept, [x, ...Object.values(lb)], netMs, pnpMs);
    }
    const vg = tf.variableGrads(() => {
      const o = runModel(this.model, x);
      const t = networkTerms(o, lb);
      heatT = keep(t.heatmap);
      kpT = keep(t.keypoint);
      let total = tf.add(t.heatmap, tf.mul(t.keypoint, lc.keypointWeight));
      if (beta > 0) {
        const p = poseTerm(t.kpPx, o.confidence, lb, this.points, lc);
        poseT = keep(p.loss);
        statusT = keep(p.status);
        total = tf.add(total, tf.mul(p.loss, beta));
      }
      return total as tf.Scalar;
    }, this.vars);
    grads = vg.grads;
    vg.value.dispose();
    const norm = this.adam.apply(this.orderedGrads(grads), lr);
    const [n] = await Promise.all([norm.data(), ...kept.map((t) => t.data())]);
    netMs = performance.now() - t0;
    pnpMs = beta > 0 ? NaN : 0;
    return this.finishStep(norm, n[0], heatT!, kpT!, poseT, statusT, beta, grads, kept, [x, ...Object.values(lb)], netMs, pnpMs);
  }

  private finishStep(norm: tf.Tensor, gradNorm: number, heatT: tf.Scalar, kpT: tf.Scalar, poseT: tf.Scalar | undefined,
    statusT: tf.Tensor | undefined, beta: number, grads: tf.NamedTensorMap, kept: tf.Tensor[], inputs: tf.Tensor[],
    netMs: number, pnpMs: number): StepStats {
    const heatmap = heatT.dataSync()[0];
    const keypoint = kpT.dataSync()[0];
    const pose = poseT ? poseT.dataSync()[0] : 0;
    const pnpFailures = statusT ? Array.from(statusT.dataSync()).filter((s) => s !== 0).length : 0;
    tf.dispose([norm, ...Object.values(grads), ...kept, ...inputs]);
    const total = heatmap + this.config.loss.keypointWeight * keypoint + beta * pose;
    return { losses: { total, heatmap, keypoint, pose, localiser: 0 }, gradNorm, netMs, pnpMs, pnpFailures };
  }

  /** Gradients in variable order; a variable the loss does not reach (the confidence head while beta = 0) gets zeros. */
  private orderedGrads(grads: tf.NamedTensorMap): tf.Tensor[] {
    return this.vars.map((v) => {
      const g = grads[v.name];
      if (g) return g;
      const z = tf.zerosLike(v);
      grads[`${v.name}#zeros`] = z;
      return z;
    });
  }
}
