/**
 * Adam (Kingma and Ba, 2015, Algorithm 1) with global-norm gradient clipping, written out over tfjs ops
 * so that its whole state (step count, first and second moments, in the model's weight order) can be
 * read into a checkpoint and written back exactly; tf.train.adam keeps its state behind names that
 * depend on the variables' global ids.
 */
import * as tf from '@tensorflow/tfjs';
import type { OptimConfig } from './config';

export interface AdamState {
  /** Updates applied so far. */
  t: number;
  /** Per variable, in the model's weight order. */
  m: Float32Array[];
  v: Float32Array[];
}

export class Adam {
  private t = 0;
  private readonly m: tf.Variable[];
  private readonly v: tf.Variable[];

  constructor(private readonly vars: tf.Variable[], private readonly cfg: OptimConfig) {
    // In a tidy: the zero tensors the moments start from are freed once the variables hold their data.
    this.m = vars.map((w) => tf.tidy(() => tf.variable(tf.zerosLike(w), false)));
    this.v = vars.map((w) => tf.tidy(() => tf.variable(tf.zerosLike(w), false)));
  }

  get steps(): number {
    return this.t;
  }

  /**
   * One update with learning rate lr; grads in the order of the variables. Returns the gradients'
   * global L2 norm before clipping (a scalar tensor the caller disposes).
   */
  apply(grads: tf.Tensor[], lr: number): tf.Scalar {
    if (grads.length !== this.vars.length) throw new Error(`Adam.apply: ${grads.length} gradients for ${this.vars.length} variables`);
    this.t++;
    const { beta1, beta2, epsilon, clipNorm } = this.cfg;
    // Bias corrections folded into the step size (Algorithm 1's last lines, rearranged as in section 2).
    const alpha = (lr * Math.sqrt(1 - beta2 ** this.t)) / (1 - beta1 ** this.t);
    return tf.tidy(() => {
      // A chain of scalar adds, not tf.addN: webgpu's AddN binds every input as a storage buffer at once
      // and fails validation past the device's limit (8 by default) on a model with dozens of weights.
      const sq = grads.map((g) => tf.sum(tf.square(g)));
      const norm = tf.sqrt(sq.reduce((a, b) => tf.add(a, b))) as tf.Scalar;
      // scale = min(1, clip / norm); a non-finite norm gives scale 0: this step's gradient counts as zero
      // (the moments decay and carry the update), so one bad batch never writes NaN into the weights.
      let scale: tf.Scalar = tf.scalar(1);
      if (clipNorm > 0) scale = tf.minimum(1, tf.div(clipNorm, tf.maximum(norm, 1e-12)));
      scale = tf.where(tf.isFinite(norm), scale, tf.zerosLike(scale));
      grads.forEach((g0, i) => {
        const g = tf.mul(tf.where(tf.isFinite(g0), g0, tf.zerosLike(g0)), scale);
        const m = tf.add(tf.mul(this.m[i], beta1), tf.mul(g, 1 - beta1));
        const v = tf.add(tf.mul(this.v[i], beta2), tf.mul(tf.square(g), 1 - beta2));
        this.m[i].assign(m);
        this.v[i].assign(v);
        this.vars[i].assign(tf.sub(this.vars[i], tf.mul(alpha, tf.div(m, tf.add(tf.sqrt(v), epsilon)))));
      });
      return tf.keep(norm);
    });
  }

  async getState(): Promise<AdamState> {
    return {
      t: this.t,
      m: await Promise.all(this.m.map(async (x) => Float32Array.from(await x.data()))),
      v: await Promise.all(this.v.map(async (x) => Float32Array.from(await x.data()))),
    };
  }

  setState(s: AdamState): void {
    if (s.m.length !== this.m.length || s.v.length !== this.v.length) {
      throw new Error(`Adam.setState: state for ${s.m.length} variables, the model has ${this.m.length}`);
    }
    this.t = s.t;
    s.m.forEach((a, i) => assignArray(this.m[i], a, `m[${i}]`));
    s.v.forEach((a, i) => assignArray(this.v[i], a, `v[${i}]`));
  }

  dispose(): void {
    tf.dispose([...this.m, ...this.v]);
  }
}

export function assignArray(v: tf.Variable, a: Float32Array, name: string): void {
  if (a.length !== v.size) throw new Error(`${name}: ${a.length} values for a variable of shape [${v.shape.join(',')}]`);
  tf.tidy(() => v.assign(tf.tensor(a, v.shape, 'float32')));
}
