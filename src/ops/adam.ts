/**
 * Adam (Kingma and Ba, ICLR 2015, Algorithm 1) with global-norm gradient clipping and the step size
 * given per update, written out over tfjs ops: the one optimiser of the training engine (train/) and
 * the demos (demos/).
 * - tf.train.adam fixes its learning rate at construction, and both need it to follow a schedule (the
 *   engine's warm-up and cosine decay; the demos that learn a handful of geometric parameters decay it,
 *   or the estimate dithers within one step of the optimum);
 * - its whole state (step count, first and second moments, in the variables' order) can be read into a
 *   checkpoint and written back exactly; tf.train.adam keeps its state behind names that depend on the
 *   variables' global ids.
 */
import * as tf from '@tensorflow/tfjs';

export interface AdamOptions {
  beta1: number;
  beta2: number;
  epsilon: number;
  /** Global gradient-norm clip; 0 clips nothing. */
  clipNorm: number;
}

/** Kingma and Ba's defaults, without clipping. */
export const kAdamDefaults: Readonly<AdamOptions> = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, clipNorm: 0 };

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

  constructor(private readonly vars: tf.Variable[], private readonly cfg: AdamOptions = kAdamDefaults) {
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

  /**
   * Evaluates f, differentiates it with respect to the variables and updates them with step size lr.
   * Returns f's value before the update (a scalar the caller disposes).
   */
  minimize(f: () => tf.Scalar, lr: number): tf.Scalar {
    const { value, grads } = tf.variableGrads(f, this.vars);
    const norm = this.apply(this.vars.map((v) => grads[v.name]), lr);
    tf.dispose([norm, ...Object.values(grads)]);
    return value;
  }

  /** Forgets the moments and the step count, as after a jump of the variables the moments do not fit. */
  reset(): void {
    this.t = 0;
    tf.tidy(() => [...this.m, ...this.v].forEach((x) => x.assign(tf.zerosLike(x))));
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
      throw new Error(`Adam.setState: the state has ${s.m.length} first and ${s.v.length} second moments, the model ${this.m.length} variables`);
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
