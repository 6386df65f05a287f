/**
 * Adam (Kingma and Ba, ICLR 2015, Algorithm 1) over tfjs ops with the step size given per update:
 * tf.train.adam fixes its learning rate at construction, and the demos that learn a handful of
 * geometric parameters need it to decay, or the estimate dithers within one step of the optimum.
 */
import * as tf from '@tensorflow/tfjs';
import { variableFrom } from './tensors';

const kBeta1 = 0.9;
const kBeta2 = 0.999;
const kEpsilon = 1e-8;

export class DemoAdam {
  private t = 0;
  private readonly m: tf.Variable[];
  private readonly v: tf.Variable[];

  constructor(private readonly vars: tf.Variable[]) {
    this.m = vars.map((w) => variableFrom(tf.zerosLike(w), false));
    this.v = vars.map((w) => variableFrom(tf.zerosLike(w), false));
  }

  /**
   * Evaluates f, differentiates it with respect to the variables and updates them with step size lr.
   * Returns f's value before the update (a scalar the caller disposes).
   */
  minimize(f: () => tf.Scalar, lr: number): tf.Scalar {
    const { value, grads } = tf.variableGrads(f, this.vars);
    this.t++;
    // The bias corrections folded into the step size (Algorithm 1, rearranged as in section 2).
    const alpha = (lr * Math.sqrt(1 - kBeta2 ** this.t)) / (1 - kBeta1 ** this.t);
    tf.tidy(() => {
      this.vars.forEach((w, i) => {
        const g0 = grads[w.name];
        // A non-finite gradient (a PnP that blew up) skips the update rather than poisoning the moments.
        const g = tf.where(tf.isFinite(g0), g0, tf.zerosLike(g0));
        const m = tf.add(tf.mul(this.m[i], kBeta1), tf.mul(g, 1 - kBeta1));
        const v = tf.add(tf.mul(this.v[i], kBeta2), tf.mul(tf.square(g), 1 - kBeta2));
        this.m[i].assign(m);
        this.v[i].assign(v);
        w.assign(tf.sub(w, tf.mul(alpha, tf.div(m, tf.add(tf.sqrt(v), kEpsilon)))));
      });
    });
    tf.dispose(Object.values(grads));
    return value;
  }

  /** Forgets the moments and the step count, as after a jump of the variables the moments do not fit. */
  reset(): void {
    this.t = 0;
    tf.tidy(() => [...this.m, ...this.v].forEach((x) => x.assign(tf.zerosLike(x))));
  }

  dispose(): void {
    tf.dispose([...this.m, ...this.v]);
  }
}
