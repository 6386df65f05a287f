import type { StateCreator } from 'zustand';
import type { BackendInfo, PresetName, SavedRunInfo, StepPoint, TrainConfig, TrainSettings } from '../../worker/protocol';
import type { AppState } from './store';

export type RunStatus = 'idle' | 'starting' | 'running' | 'paused' | 'stopping' | 'done' | 'error';

/**
 * The training run as the panels show it: status, progress and settings. Updated at most once per
 * batch of steps from the worker (10 per second), so binding it reactively is cheap.
 */
export interface RunSlice {
  backend?: BackendInfo;
  presets?: Record<PresetName, TrainSettings>;
  settings?: TrainSettings;
  status: RunStatus;
  step: number;
  totalSteps: number;
  imagesPerSec: number;
  etaMs: number;
  objName?: string;
  parameters?: number;
  runError?: string;
  /** Why this run's localiser shares the training worker on a CPU backend, when its own worker did not start. */
  runNotice?: string;
  /** Paused because the tab went to the background (resumed when it comes back). */
  pausedInBackground: boolean;
  lastCheckpoint?: { step: number; savedAt: number };
  savedRun?: SavedRunInfo;
  /** A config loaded from a file (the settings were filled from it): the next run trains with all of it. */
  loadedConfig?: { file: string; config: TrainConfig };
  /** Why the last config file could not be read, one line per problem; cleared by the next load. */
  configErrors?: string[];
  setBackend(b: BackendInfo): void;
  setPresets(p: Record<PresetName, TrainSettings>): void;
  setSettings(s: TrainSettings): void;
  setStatus(s: RunStatus, error?: string): void;
  runStarted(e: { step: number; totalSteps: number; objName: string; parameters: number; settings: TrainSettings; notice?: string }): void;
  runProgress(last: StepPoint): void;
  setPausedInBackground(v: boolean): void;
  setLastCheckpoint(step: number, savedAt: number): void;
  setSavedRun(r: SavedRunInfo | undefined): void;
  setLoadedConfig(c: { file: string; config: TrainConfig } | undefined): void;
  setConfigErrors(errors: string[] | undefined): void;
}

export const createRunSlice: StateCreator<AppState, [], [], RunSlice> = (set) => ({
  status: 'idle',
  step: 0,
  totalSteps: 0,
  imagesPerSec: 0,
  etaMs: 0,
  pausedInBackground: false,
  setBackend: (backend) => set({ backend }),
  setPresets: (presets) => set((s) => ({ presets, settings: s.settings ?? presets.default })),
  setSettings: (settings) => set({ settings }),
  setStatus: (status, runError) => set({ status, runError }),
  runStarted: (e) => set({
    status: 'running', step: e.step, totalSteps: e.totalSteps, objName: e.objName, parameters: e.parameters,
    settings: e.settings, runError: undefined, runNotice: e.notice, imagesPerSec: 0, etaMs: 0,
  }),
  runProgress: (p) => set({ step: p.step, totalSteps: p.totalSteps, imagesPerSec: p.imagesPerSec, etaMs: p.etaMs }),
  setPausedInBackground: (pausedInBackground) => set({ pausedInBackground }),
  setLastCheckpoint: (step, savedAt) => set({ lastCheckpoint: { step, savedAt } }),
  setSavedRun: (savedRun) => set({ savedRun }),
  setLoadedConfig: (loadedConfig) => set({ loadedConfig, configErrors: undefined }),
  setConfigErrors: (configErrors) => set({ configErrors }),
});
