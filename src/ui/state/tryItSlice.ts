import type { StateCreator } from 'zustand';
import type { CameraK } from '../../data/camera';
import type { TryItStatus, TryModelSource, TryPose } from '../../worker/protocol';
import type { AppState } from './store';

/** Where the Try-it view takes each frame's K from. */
export type CameraPreset = 'dataset' | 'phone' | 'laptop' | 'fov' | 'file';

export interface TryCamera {
  preset: CameraPreset;
  /** Horizontal field of view for preset 'fov', degrees. */
  fovDeg: number;
  /** The dropped camera.json, for preset 'file'. */
  file?: CameraK;
}

/** A dropped photo and, once predicted, its pose. */
export interface TryPhoto {
  id: number;
  /** Its path in what was dropped. */
  file: string;
  bitmap: ImageBitmap;
  widthPx: number;
  heightPx: number;
  /** [9] row-major px: the K it was predicted with. */
  kPx?: number[];
  cameraSource?: string;
  pose?: TryPose;
  ms?: number;
  model?: { obj_id: number; name: string; step: number };
  /** Why it has no pose (its K cannot be for it, or prediction failed). */
  error?: string;
}

/** The Try-it view: which model, which camera, the dropped photos and their poses. */
export interface TryItSlice {
  trySource: TryModelSource;
  tryStatus?: TryItStatus;
  tryCamera: TryCamera;
  tryPhotos: TryPhoto[];
  /** What could not be read of the last drop. */
  tryPhotosNote?: string;
  /** Photos being predicted. */
  tryBusy: boolean;
  setTrySource(s: TryModelSource): void;
  setTryStatus(s: TryItStatus): void;
  setTryCamera(patch: Partial<TryCamera>): void;
  setTryPhotos(photos: TryPhoto[], note?: string): void;
  updateTryPhoto(id: number, patch: Partial<TryPhoto>): void;
  setTryBusy(busy: boolean): void;
}

export const createTryItSlice: StateCreator<AppState, [], [], TryItSlice> = (set) => ({
  trySource: 'training',
  tryCamera: { preset: 'dataset', fovDeg: 65 },
  tryPhotos: [],
  tryBusy: false,
  setTrySource: (trySource) => set({ trySource }),
  setTryStatus: (tryStatus) => set({ tryStatus }),
  setTryCamera: (patch) => set((s) => ({ tryCamera: { ...s.tryCamera, ...patch } })),
  setTryPhotos: (tryPhotos, tryPhotosNote) => set((s) => {
    for (const p of s.tryPhotos) if (!tryPhotos.some((q) => q.id === p.id)) p.bitmap.close();
    return { tryPhotos, tryPhotosNote };
  }),
  updateTryPhoto: (id, patch) => set((s) => ({ tryPhotos: s.tryPhotos.map((p) => (p.id === id ? { ...p, ...patch } : p)) })),
  setTryBusy: (tryBusy) => set({ tryBusy }),
});
