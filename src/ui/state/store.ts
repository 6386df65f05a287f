import { create } from 'zustand';
import { createChartsSlice, type ChartsSlice } from './chartsSlice';
import { createDatasetSlice, type DatasetSlice } from './datasetSlice';
import { createPredictionsSlice, type PredictionsSlice } from './predictionsSlice';
import { createRunSlice, type RunSlice } from './runSlice';
import { createTryItSlice, type TryItSlice } from './tryItSlice';

/**
 * The page's one store, made of typed slice creators (zustand's slices pattern). Engine events reach
 * it through ui/workerClient.ts; panels select what they show. Fast state (chart series) is read with
 * getState() in frame loops, never bound reactively.
 */
export type AppState = DatasetSlice & RunSlice & ChartsSlice & PredictionsSlice & TryItSlice;

export const useApp = create<AppState>()((...a) => ({
  ...createDatasetSlice(...a),
  ...createRunSlice(...a),
  ...createChartsSlice(...a),
  ...createPredictionsSlice(...a),
  ...createTryItSlice(...a),
}));
