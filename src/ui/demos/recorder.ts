/**
 * The fast state of a running demo: its curve and its latest step, written once per step and read by
 * the views in their animation frames (never through React state, which would re-render per step).
 */
import type { AnyDemo, AnyDemoStep } from '../../demos/createDemo';

export interface DemoRecord {
  demo: AnyDemo;
  /** one entry per step: iteration, loss (px^2) and the demo's error */
  iteration: number[];
  loss: number[];
  error: number[];
  /** calibration only: fx, fy, cx, cy per step */
  intrinsics: number[][];
  last: AnyDemoStep | null;
  /** bumped on every step, so a view redraws only when something changed */
  version: number;
}

export function newRecord(demo: AnyDemo): DemoRecord {
  return { demo, iteration: [], loss: [], error: [], intrinsics: [[], [], [], []], last: null, version: 0 };
}

export function record(r: DemoRecord, step: AnyDemoStep): void {
  r.iteration.push(step.iteration);
  r.loss.push(step.loss);
  r.error.push(step.error);
  if ('intrinsics' in step) step.intrinsics.forEach((v, i) => r.intrinsics[i].push(v));
  r.last = step;
  r.version++;
}
