import type { StateCreator } from 'zustand';
import type { EvalMetrics, PredictionSample } from '../../worker/protocol';
import type { AppState } from './store';

/** The latest evaluation: its metrics and sample predictions, replaced at every evaluation. */
export interface PredictionsSlice {
  predictions: PredictionSample[];
  predictionStep: number;
  predictionSource?: 'training' | 'imported';
  metrics?: EvalMetrics;
  /** Index of the enlarged prediction, if any. */
  enlarged?: number;
  setPredictions(step: number, metrics: EvalMetrics, samples: PredictionSample[], source: 'training' | 'imported'): void;
  enlarge(index: number | undefined): void;
  clearPredictions(): void;
}

export const createPredictionsSlice: StateCreator<AppState, [], [], PredictionsSlice> = (set) => ({
  predictions: [],
  predictionStep: 0,
  setPredictions: (predictionStep, metrics, predictions, predictionSource) => set({ predictionStep, metrics, predictions, predictionSource }),
  enlarge: (enlarged) => set({ enlarged }),
  clearPredictions: () => set({ predictions: [], predictionStep: 0, metrics: undefined, enlarged: undefined }),
});
