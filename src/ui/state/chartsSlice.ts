import type { StateCreator } from 'zustand';
import type { EvalMetrics, StepPoint } from '../../worker/protocol';
import type { AppState } from './store';

/**
 * Chart series, columnar and append-only. This is fast state: the arrays are grown in place and
 * `chartsVersion` is bumped, and no component binds to it reactively; the charts read it with
 * getState() in their frame loop (STYLE.md 9), so a run of 10^5 steps never re-renders React.
 */
export interface ChartSeries {
  step: number[];
  total: number[];
  heatmap: number[];
  keypoint: number[];
  pose: number[];
  localiser: number[];
  lr: number[];
  beta: number[];
  imagesPerSec: number[];
  evalStep: number[];
  add01d: number[];
  proj5px: number[];
  cm5deg5: number[];
}

export interface ChartsSlice {
  series: ChartSeries;
  chartsVersion: number;
  /** TensorBoard's smoothing weight in [0, 1). */
  smoothing: number;
  appendSteps(points: readonly StepPoint[]): void;
  appendEval(step: number, m: EvalMetrics): void;
  resetCharts(): void;
  setSmoothing(w: number): void;
}

export function emptySeries(): ChartSeries {
  return { step: [], total: [], heatmap: [], keypoint: [], pose: [], localiser: [], lr: [], beta: [], imagesPerSec: [], evalStep: [], add01d: [], proj5px: [], cm5deg5: [] };
}

export const createChartsSlice: StateCreator<AppState, [], [], ChartsSlice> = (set, get) => ({
  series: emptySeries(),
  chartsVersion: 0,
  smoothing: 0.6,
  appendSteps: (points) => {
    const s = get().series;
    for (const p of points) {
      // A resumed run may repeat steps already charted: keep the series increasing.
      if (s.step.length > 0 && p.step <= s.step[s.step.length - 1]) continue;
      s.step.push(p.step); s.total.push(p.total); s.heatmap.push(p.heatmap); s.keypoint.push(p.keypoint); s.pose.push(p.pose); s.localiser.push(p.localiser);
      s.lr.push(p.lr); s.beta.push(p.beta); s.imagesPerSec.push(p.imagesPerSec);
    }
    set({ chartsVersion: get().chartsVersion + 1 });
  },
  appendEval: (step, m) => {
    const s = get().series;
    if (s.evalStep.length > 0 && step <= s.evalStep[s.evalStep.length - 1]) return;
    s.evalStep.push(step); s.add01d.push(m.add01d); s.proj5px.push(m.proj5px); s.cm5deg5.push(m.cm5deg5);
    set({ chartsVersion: get().chartsVersion + 1 });
  },
  resetCharts: () => set({ series: emptySeries(), chartsVersion: get().chartsVersion + 1 }),
  setSmoothing: (smoothing) => set({ smoothing, chartsVersion: get().chartsVersion + 1 }),
});
