/**
 * An exponential moving average of a network's weights (Polyak averaging, Polyak and Juditsky 1992, in
 * the form of TensorFlow's tf.train.ExponentialMovingAverage with num_updates): after the optimiser's
 * update at step n (updates done),
 *
 *   avg <- d_n avg + (1 - d_n) w,   d_n = min(decay, (1 + n) / (10 + n))
 *
 * so that the first updates follow the weights closely instead of dragging their random start along. The
 * average lives in the variables of a second copy of the network, which evaluation and export read while
 * training steps the first. Why average: the last step's weights scatter around the optimum while the learning
 * rate is above its floor, and an average of the last ~1 / (1 - decay) steps may scatter less (on `small` it
 * measured even: docs/training-experiments.md).
 */
import * as tf from '@tensorflow/tfjs';
import { assignArray } from '../ops/adam';
import { trainableVariables } from './model';

export class WeightAverage {
  private readonly avg: tf.Variable[];

  /**
   * copy: a network of the same architecture as the one whose variables `source` are (its weights are
   * overwritten with theirs now); decay in (0, 1).
   */
  constructor(readonly copy: tf.LayersModel, private readonly source: tf.Variable[], private readonly decay: number) {
    if (!(decay > 0 && decay < 1)) throw new Error(`WeightAverage: decay ${decay} is not in (0, 1)`);
    this.avg = trainableVariables(copy);
    if (this.avg.length !== source.length) throw new Error(`WeightAverage: the copy has ${this.avg.length} weights, the network ${source.length}`);
    this.avg.forEach((a, i) => a.assign(source[i]));
  }

  /** Folds the source's weights in after the update that completed step n (n >= 1: updates done). */
  update(n: number): void {
    const d = Math.min(this.decay, (1 + n) / (10 + n));
    tf.tidy(() => this.avg.forEach((a, i) => a.assign(tf.add(tf.mul(a, d), tf.mul(this.source[i], 1 - d)))));
  }

  /** The averaged weights, in the network's trainable-weight order (copies). */
  async getState(): Promise<Float32Array[]> {
    return Promise.all(this.avg.map(async (a) => Float32Array.from(await a.data())));
  }

  /** Frees the copy of the network (the source is its owner's). */
  dispose(): void {
    this.copy.dispose();
  }

  setState(values: readonly Float32Array[]): void {
    if (values.length !== this.avg.length) throw new Error(`weight average: ${values.length} arrays for ${this.avg.length} weights`);
    values.forEach((v, i) => assignArray(this.avg[i], v, `average of weight ${i}`));
  }
}
