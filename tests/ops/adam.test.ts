/**
 * Adam with global-norm clipping (src/train/optimizer.ts) against the same algorithm written out in
 * float64 here (Kingma and Ba 2015, Algorithm 1 with section 2's folded bias correction): six steps on
 * three variables with gradients chosen so that clipping is on for some steps and off for others, a step
 * with a non-finite gradient, and the state read back and written into a fresh optimiser.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { useCpuBackend } from '../../src/kernels/setup';
import type { OptimConfig } from '../../src/train/config';
import { Adam } from '../../src/ops/adam';
import { makeRng } from '../helpers/rng';

beforeAll(async () => {
  await useCpuBackend('cpu');
});

const kCfg: OptimConfig = { batchSize: 1, steps: 10, lr: 1e-2, lrWarmupSteps: 0, minLrFactor: 1, clipNorm: 2, emaDecay: 0, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 };
const kShapes = [[3, 2], [4], [1]];

interface State64 { t: number; w: Float64Array[]; m: Float64Array[]; v: Float64Array[] }

/** One float64 step; returns the global norm before clipping. Non-finite gradients count as a zero step. */
function step64(s: State64, grads: Float64Array[], lr: number, o: OptimConfig): number {
  s.t++;
  const norm = Math.sqrt(grads.reduce((a, g) => a + g.reduce((b, x) => b + x * x, 0), 0));
  let scale = o.clipNorm > 0 ? Math.min(1, o.clipNorm / norm) : 1;
  if (!Number.isFinite(norm)) scale = 0;
  const alpha = (lr * Math.sqrt(1 - o.beta2 ** s.t)) / (1 - o.beta1 ** s.t);
  grads.forEach((g0, i) => {
    for (let j = 0; j < g0.length; j++) {
      const g = Number.isFinite(g0[j]) ? g0[j] * scale : 0;
      s.m[i][j] = o.beta1 * s.m[i][j] + (1 - o.beta1) * g;
      s.v[i][j] = o.beta2 * s.v[i][j] + (1 - o.beta2) * g * g;
      s.w[i][j] -= (alpha * s.m[i][j]) / (Math.sqrt(s.v[i][j]) + o.epsilon);
    }
  });
  return norm;
}

/** Gradients of global norm `norm` (seeded directions), optionally with one NaN. */
function gradsOf(seed: number, norm: number, nan = false): Float64Array[] {
  const rng = makeRng(seed);
  const g = kShapes.map((sh) => Float64Array.from({ length: sh.reduce((a, b) => a * b, 1) }, () => rng.normal()));
  const n = Math.sqrt(g.reduce((a, x) => a + x.reduce((b, y) => b + y * y, 0), 0));
  g.forEach((x) => x.forEach((_, j) => { x[j] *= norm / n; }));
  if (nan) g[1][2] = NaN;
  return g;
}

function relDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0, n = 0;
  for (let i = 0; i < b.length; i++) { d += (a[i] - b[i]) ** 2; n += b[i] ** 2; }
  return Math.sqrt(d / Math.max(n, 1e-300));
}

/** Two equal sets of variables (kShapes), and an optimiser that has taken three steps on the first. */
function afterThreeSteps(): { a: Adam; va: tf.Variable[]; vb: tf.Variable[] } {
  const mk = () => kShapes.map((sh, i) => tf.variable(tf.fill(sh, 0.1 * (i + 1))));
  const [va, vb] = [mk(), mk()];
  const a = new Adam(va, kCfg);
  for (let s = 0; s < 3; s++) a.apply(gradsOf(s, 1 + s).map((g, i) => tf.tensor(Float32Array.from(g), kShapes[i])), 1e-2).dispose();
  return { a, va, vb };
}

describe('Adam with global-norm clipping', () => {
  it('follows the float64 algorithm step by step: clipped and unclipped steps, a learning rate that changes, a NaN step', async () => {
    const rng = makeRng(3);
    const w0 = kShapes.map((sh) => Float64Array.from({ length: sh.reduce((a, b) => a * b, 1) }, () => rng.uniform(-1, 1)));
    const vars = w0.map((w, i) => tf.variable(tf.tensor(Float32Array.from(w), kShapes[i])));
    const adam = new Adam(vars, kCfg);
    const ref: State64 = { t: 0, w: w0.map((w) => Float64Array.from(Float32Array.from(w))), m: w0.map((w) => new Float64Array(w.length)), v: w0.map((w) => new Float64Array(w.length)) };
    // Norms around clipNorm = 2: clipped (5, 3), not (0.5, 1.5), a NaN (the step counts as zero), and again.
    const plan: [number, boolean, number][] = [[5, false, 1e-2], [0.5, false, 1e-2], [3, false, 5e-3], [1, true, 5e-3], [1.5, false, 2e-3], [4, false, 2e-3]];
    let worstW = 0, worstNorm = 0;
    for (const [s, [norm, nan, lr]] of plan.entries()) {
      // The optimiser sees float32 gradients: the reference gets the same rounded numbers.
      const g = gradsOf(100 + s, norm, nan).map((x) => Float64Array.from(Float32Array.from(x)));
      const gt = g.map((x, i) => tf.tensor(Float32Array.from(x), kShapes[i]));
      const n = adam.apply(gt, lr);
      const got = n.dataSync()[0];
      const want = step64(ref, g, lr, kCfg);
      if (nan) expect(got, 'the norm of a step with a NaN').toBeNaN();
      else worstNorm = Math.max(worstNorm, Math.abs(got - want) / want);
      vars.forEach((v, i) => { worstW = Math.max(worstW, relDiff(Array.from(v.dataSync()).map((x, j) => x - w0[i][j]), ref.w[i].map((x, j) => x - w0[i][j]))); });
      tf.dispose([n, ...gt]);
    }
    expect(adam.steps).toBe(plan.length);
    const st = await adam.getState();
    expect(st.t).toBe(plan.length);
    const worstM = Math.max(...st.m.map((m, i) => relDiff(m, ref.m[i])));
    const worstV = Math.max(...st.v.map((v, i) => relDiff(v, ref.v[i])));
    console.log(`[adam] worst relative difference to float64: norm ${worstNorm.toExponential(2)}, weight updates ${worstW.toExponential(2)}, m ${worstM.toExponential(2)}, v ${worstV.toExponential(2)}`);
    // Bounds 10 times the measured (float32 weights, state and arithmetic against float64): norm 2.6e-8,
    // updates 3.5e-6 (w - w0 of 1e-2 from weights of 1 in float32), m 9.5e-7, v 1.8e-7.
    expect(worstNorm, 'gradient norm').toBeLessThan(2.6e-7);
    expect(worstW, 'weight updates').toBeLessThan(3.5e-5);
    expect(worstM, 'first moments').toBeLessThan(9.5e-6);
    expect(worstV, 'second moments').toBeLessThan(2e-6);
    adam.dispose();
    tf.dispose(vars);
  });

  it('without clipping (clipNorm 0) a large gradient is used whole', async () => {
    const v = tf.variable(tf.tensor1d([0, 0]));
    const adam = new Adam([v], { ...kCfg, clipNorm: 0 });
    adam.apply([tf.tensor1d([300, -400])], 0.1).dispose();
    const x = await adam.getState();
    // m = (1 - beta1) g, v = (1 - beta2) g^2, unscaled.
    expect(Array.from(x.m[0])).toEqual([Math.fround(0.1 * 300), Math.fround(0.1 * -400)].map((y) => expect.closeTo(y, 4)));
    expect(Array.from(x.v[0])).toEqual([0.001 * 300 ** 2, 0.001 * 400 ** 2].map((y) => expect.closeTo(y, 3)));
    adam.dispose();
    v.dispose();
  });

  it('its state written into a fresh optimiser continues exactly as the first would', async () => {
    const { a, va, vb } = afterThreeSteps();
    const b = new Adam(vb, kCfg);
    b.setState(await a.getState());
    vb.forEach((v, i) => v.assign(va[i]));
    const g = gradsOf(9, 3).map((x, i) => tf.tensor(Float32Array.from(x), kShapes[i]));
    a.apply(g, 1e-2).dispose();
    b.apply(g, 1e-2).dispose();
    va.forEach((v, i) => expect(Array.from(vb[i].dataSync())).toEqual(Array.from(v.dataSync())));
    expect(() => b.setState({ t: 1, m: [], v: [] })).toThrow('Adam.setState: the state has 0 first and 0 second moments, the model 3 variables');
    expect(() => a.apply([g[0]], 1e-2)).toThrow('Adam.apply: 1 gradients for 3 variables');
    const state = await a.getState();
    expect(() => b.setState({ ...state, v: state.v.slice(1) })).toThrow('Adam.setState: the state has 3 first and 2 second moments, the model 3 variables');
    expect(() => b.setState({ ...state, m: [state.m[0], state.m[0], state.m[2]] })).toThrow(/^m\[1\]: \d+ values for a variable of shape \[/);
    a.dispose();
    b.dispose();
  });

  it('reset() forgets the moments and the step count: the next step is a first step again', async () => {
    const { a, va, vb } = afterThreeSteps();
    a.reset();
    expect(a.steps).toBe(0);
    const st = await a.getState();
    expect([...st.m, ...st.v].every((x) => x.every((y) => y === 0))).toBe(true);
    // From equal weights, a reset optimiser and a fresh one take the same step.
    vb.forEach((v, i) => v.assign(va[i]));
    const b = new Adam(vb, kCfg);
    const g = gradsOf(5, 2).map((x, i) => tf.tensor(Float32Array.from(x), kShapes[i]));
    a.apply(g, 1e-2).dispose();
    b.apply(g, 1e-2).dispose();
    va.forEach((v, i) => expect(Array.from(v.dataSync())).toEqual(Array.from(vb[i].dataSync())));
    a.dispose();
    b.dispose();
  });

  it('minimize(f) takes the step apply() takes with f\'s gradients, and returns f before the step', () => {
    const [va, vb] = [0, 1].map(() => tf.variable(tf.tensor1d([0.5, -2])));
    const target = tf.tensor1d([1, 1]);
    const a = new Adam([va], kCfg);
    const b = new Adam([vb], kCfg);
    const f = (v: tf.Variable) => () => tf.sum(tf.square(tf.sub(v, target))) as tf.Scalar;
    const loss = a.minimize(f(va), 0.1);
    expect(loss.dataSync()[0]).toBeCloseTo(0.25 + 9, 5);
    const g = tf.mul(tf.sub(vb, target), 2);
    b.apply([g], 0.1).dispose();
    expect(Array.from(va.dataSync())).toEqual(Array.from(vb.dataSync()));
    tf.dispose([loss, g, target, va, vb]);
    a.dispose();
    b.dispose();
  });
});
