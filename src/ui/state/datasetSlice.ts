import type { StateCreator } from 'zustand';
import type { DatasetSummary, LoadProgress } from '../../worker/protocol';
import type { AppState } from './store';

export type MeshStyle = 'translucent' | 'wireframe' | 'off';

export interface OverlayToggles {
  mesh: MeshStyle;
  bbox: boolean;
  axes: boolean;
  keypoints: boolean;
  masks: boolean;
}

/** The loaded dataset (its summary and validation report), loading progress, and the dataset view's choices. */
export interface DatasetSlice {
  dataset?: DatasetSummary;
  loading?: { label: string; progress: LoadProgress };
  loadError?: string;
  selectedImage: number;
  overlay: OverlayToggles;
  startLoading(label: string): void;
  setLoading(label: string, progress: LoadProgress): void;
  setDataset(d: DatasetSummary): void;
  setLoadError(message: string): void;
  selectImage(index: number): void;
  setOverlay(patch: Partial<OverlayToggles>): void;
}

export const kDefaultOverlay: OverlayToggles = { mesh: 'translucent', bbox: true, axes: true, keypoints: true, masks: false };

export const createDatasetSlice: StateCreator<AppState, [], [], DatasetSlice> = (set, get) => ({
  dataset: undefined,
  loading: undefined,
  loadError: undefined,
  selectedImage: 0,
  overlay: kDefaultOverlay,
  startLoading: (label) => set({ loading: { label, progress: { phase: 'listing', done: 0, total: 0 } }, loadError: undefined }),
  // Progress arrives on its own channel and may trail the result: only a load in progress takes it.
  setLoading: (label, progress) => { if (get().loading?.label === label) set({ loading: { label, progress } }); },
  setDataset: (d) => set({ dataset: d, loading: undefined, loadError: undefined, selectedImage: 0 }),
  setLoadError: (message) => set({ loadError: message, loading: undefined }),
  selectImage: (index) => {
    const n = get().dataset?.images ?? 0;
    if (n > 0) set({ selectedImage: ((index % n) + n) % n });
  },
  setOverlay: (patch) => set({ overlay: { ...get().overlay, ...patch } }),
});

