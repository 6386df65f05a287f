/**
 * Runs a demo for a fixed number of steps on the current backend and summarises its curve, for the
 * convergence tests: the first iteration from which the error stays below a tolerance, the last error,
 * failed PnPs, and whether the demo left tensors behind.
 */
import * as tf from '@tensorflow/tfjs';
import type { Demo, DemoStep } from '../../src/demos/demoInterface';

export interface DemoRun<S extends DemoStep> {
  steps: S[];
  last: S;
  /** the first iteration from which every later error is below `tol`, or null */
  settledAt: number | null;
  failedPnp: number;
  /** tensors alive after dispose() minus before the demo was created */
  leakedTensors: number;
  ms: number;
}

export async function runDemo<S extends DemoStep>(make: () => Demo<S>, iterations: number, tol: number): Promise<DemoRun<S>> {
  const before = tf.memory().numTensors;
  const t0 = performance.now();
  const demo = make();
  const steps: S[] = [];
  for (let i = 0; i < iterations; i++) steps.push(await demo.step());
  demo.dispose();
  const ms = performance.now() - t0;
  let settledAt: number | null = null;
  for (let i = steps.length - 1; i >= 0 && steps[i].error < tol; i--) settledAt = steps[i].iteration;
  return {
    steps,
    last: steps[steps.length - 1],
    settledAt,
    failedPnp: steps.reduce((s, x) => s + x.failedPnp, 0),
    leakedTensors: tf.memory().numTensors - before,
    ms,
  };
}

/** One line for the test log: what a reader of the README's numbers wants to see. */
export function describeRun(name: string, backend: string, run: DemoRun<DemoStep>): string {
  const { last, settledAt, ms, steps } = run;
  return `${name} on ${backend}: error ${last.error.toPrecision(3)} after ${steps.length} iterations, ` +
    `below tolerance from iteration ${settledAt ?? 'never'}, ${(ms / steps.length).toFixed(0)} ms per iteration`;
}
