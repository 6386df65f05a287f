/**
 * The step every demo takes: one Adam update whose loss solves PnP with bpnp, warm-started from the
 * previous step's poses; the tensors the step reports are kept through the update, read back together
 * and freed, and the warm start moves on. DemoFit holds what that needs between steps.
 */
import * as tf from '@tensorflow/tfjs';
import { Adam } from '../ops/adam';
import { bpnp } from '../ops/bpnp';
import { projectPoints } from '../ops/projectPoints';

/** The PnP warm start [B,6] of the next step; null before the first (EPnP initialises it), unless given. */
export class WarmStart {
  constructor(private current: tf.Tensor2D | null = null) {}

  /** bpnp's options with the warm start, when there is one. */
  get options(): { initPose?: tf.Tensor2D } {
    return this.current ? { initPose: this.current } : {};
  }

  /**
   * This step's `pose` [B,6] and `status` [B]: a failed PnP's pose is no warm start, so those rows keep
   * the previous one (every row is the new pose when there is none yet). The caller still owns the arguments.
   */
  advance(pose: tf.Tensor2D, status: tf.Tensor1D): void {
    const prev = this.current;
    this.current = prev ? tf.tidy(() => tf.where(tf.equal(status, 0).reshape([-1, 1]), pose, prev) as tf.Tensor2D) : tf.clone(pose);
    prev?.dispose();
  }

  /** Forgets the warm start: the next PnPs start from EPnP. */
  reset(): void {
    this.current?.dispose();
    this.current = null;
  }

  dispose(): void {
    this.reset();
  }
}

/** The tensors a step reports: bpnp's pose [B,6] and status [B], and the demo's own. */
export type Report<T> = T & { pose: tf.Tensor2D; status: tf.Tensor1D };

/** What a demo's loss hands back: the loss, and the tensors to report. */
export interface DemoLoss<T extends Record<string, tf.Tensor>> {
  loss: tf.Scalar;
  report: Report<T>;
}

export interface DemoUpdate<T> {
  /** The loss before the update. */
  loss: number;
  /** The reported tensors' values (float32), the status aside. */
  values: { [K in keyof T | 'pose']: Float32Array };
  /** PnP problems of this step whose status was not Converged (they give no gradient). */
  failedPnp: number;
}

/**
 * One update: minimize(f) runs the optimiser on f (lossOf with its reported tensors kept); then every
 * reported tensor is read, the warm start advanced, and everything of the step freed.
 */
async function demoUpdate<T extends Record<string, tf.Tensor>>(
  minimize: (f: () => tf.Scalar) => tf.Scalar,
  lossOf: () => DemoLoss<T>,
  warm: WarmStart,
): Promise<DemoUpdate<T>> {
  let report: Report<T> | undefined;
  const loss = minimize(() => {
    const l = lossOf();
    for (const t of Object.values(l.report)) tf.keep(t);
    report = l.report;
    return l.loss;
  });
  const kept = report!;
  const names = Object.keys(kept).filter((n) => n !== 'status');
  const [lossV, statusV, ...arrays] = await Promise.all([loss.data(), kept.status.data(), ...names.map((n) => kept[n].data<'float32'>())]);
  warm.advance(kept.pose, kept.status);
  tf.dispose([loss, ...Object.values(kept)]);
  const values = Object.fromEntries(names.map((n, i) => [n, arrays[i]])) as DemoUpdate<T>['values'];
  return { loss: lossV[0], values, failedPnp: Array.from(statusV).filter((s) => s !== 0).length };
}

/** Calibration and structure from motion multiply Adam's step size by this every step: it halves about
 * every 70 steps, so the last steps settle instead of circling the optimum. */
export const kDemoLearningRateDecay = 0.99;

/**
 * What every demo's optimisation shares: Adam over the learnt variables with the step size
 * learningRate * decay^iteration, the PnP warm start, the update count, and the demo's tensors to free.
 */
export class DemoFit {
  readonly warm: WarmStart;
  private readonly optimizer: Adam;
  private iteration = 0;

  /**
   * owned: the demo's constant tensors and its variables, freed by dispose(); variables: what Adam learns;
   * initPose [B,6]: the first PnPs' start (EPnP when absent), owned from here on.
   */
  constructor(
    private readonly owned: tf.Tensor[],
    variables: tf.Variable[],
    private readonly learningRate: number,
    private readonly decay = 1,
    initPose: tf.Tensor2D | null = null,
  ) {
    this.optimizer = new Adam(variables);
    this.warm = new WarmStart(initPose);
  }

  /** One update of lossOf (see demoUpdate), with the 0-based index it had. */
  async update<T extends Record<string, tf.Tensor>>(lossOf: () => DemoLoss<T>): Promise<DemoUpdate<T> & { iteration: number }> {
    const lr = this.learningRate * this.decay ** this.iteration;
    const u = await demoUpdate((f) => this.optimizer.minimize(f, lr), lossOf, this.warm);
    return { ...u, iteration: this.iteration++ };
  }

  /** The index the next update will have. */
  get nextIteration(): number {
    return this.iteration;
  }

  /** Forgets Adam's moments and the warm start, after the learnt variables jumped. */
  restart(): void {
    this.optimizer.reset();
    this.warm.reset();
  }

  dispose(): void {
    tf.dispose(this.owned);
    this.warm.dispose();
    this.optimizer.dispose();
  }
}

/**
 * pose [B,6] = bpnp(pts2d [B,n,2] px, pts3d [n,3] mm, K [3,3]) warm-started from `warm`, its status [B], and
 * proj [B,n,2] px: pts3d projected with that pose, differentiable through bpnp's implicit gradient.
 */
export function solveAndProject(pts2d: tf.Tensor3D, pts3d: tf.Tensor2D, K: tf.Tensor2D, warm: WarmStart): { pose: tf.Tensor2D; status: tf.Tensor1D; proj: tf.Tensor3D } {
  const { pose, status } = bpnp(pts2d, pts3d, K, warm.options);
  return { pose, status, proj: projectPoints(pose, pts3d, K) };
}
