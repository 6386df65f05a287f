/**
 * The step every demo takes: one optimiser update whose loss solves PnP with bpnp, warm-started from the
 * previous step's poses; the tensors the step reports are kept through the update, read back together
 * and freed, and the warm start moves on.
 */
import * as tf from '@tensorflow/tfjs';

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
export async function demoUpdate<T extends Record<string, tf.Tensor>>(
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
