/**
 * The page's side of the worker: starts src/worker/engine.worker.ts, wraps it in comlink's typed
 * Remote<EngineApi>, and feeds every engine event into the store's slices. Panels call `engine()`
 * for commands; they never see train/ or the worker's internals.
 */
import * as Comlink from 'comlink';
import { withDropProblems } from '../data/source/dropped';
import type { DatasetSummary, DroppedBlob, EngineApi, EngineUiEvent, LoadProgress, ProblemLine } from '../worker/protocol';
import { useApp } from './state/store';
import { sharedOverlay } from './three/overlay';

let remote: Comlink.Remote<EngineApi> | undefined;

export function engine(): Comlink.Remote<EngineApi> {
  if (!remote) {
    const worker = new Worker(new URL('../worker/engine.worker.ts', import.meta.url), { type: 'module', name: 'poselab-engine' });
    remote = Comlink.wrap<EngineApi>(worker);
  }
  return remote;
}

/** The dataset bundled with the page (public/datasets/poselab-toy). */
export const kBundledUrl = `${import.meta.env.BASE_URL}datasets/poselab-toy/`;

function setDataset(d: DatasetSummary): void {
  sharedOverlay().clear();
  useApp.getState().setDataset(d);
}

function onEvent(e: EngineUiEvent): void {
  const s = useApp.getState();
  switch (e.type) {
    case 'history':
      s.resetCharts();
      s.appendSteps(e.points);
      for (const v of e.evals) s.appendEval(v.step, v.metrics);
      return;
    case 'started':
      sharedOverlay().clear();
      if (!e.resumed) { s.resetCharts(); s.clearPredictions(); }
      s.runStarted(e);
      return;
    case 'steps':
      s.appendSteps(e.points);
      s.runProgress(e.points[e.points.length - 1]);
      return;
    case 'eval':
      if (e.source === 'imported') sharedOverlay().clear();
      if (e.source === 'training') s.appendEval(e.step, e.metrics);
      s.setPredictions(e.step, e.metrics, e.samples, e.source);
      return;
    case 'checkpoint':
      s.setLastCheckpoint(e.step, e.savedAt);
      return;
    case 'paused':
      s.setStatus('paused');
      return;
    case 'resumed':
      s.setStatus('running');
      s.setPausedInBackground(false);
      return;
    case 'done':
      s.setStatus('done');
      s.setPausedInBackground(false);
      return;
    case 'error':
      s.setStatus('error', e.message);
      return;
  }
}

const progressTo = (label: string) => Comlink.proxy((p: LoadProgress) => useApp.getState().setLoading(label, p));

/** Backend, presets, saved run, then the bundled dataset: what the page does when it opens. */
export async function connect(): Promise<void> {
  const api = engine();
  await api.subscribe(Comlink.proxy(onEvent));
  const s = useApp.getState();
  s.setBackend(await api.init());
  s.setPresets(await api.presets());
  const saved = await api.savedRun().catch(() => undefined);
  s.setSavedRun(saved && !saved.finished ? saved : undefined);
  await loadBundled();
}

/** The load in flight, so that resuming a saved run waits for it instead of racing it in the worker. */
let inFlight: Promise<void> = Promise.resolve();

export function loadBundled(): Promise<void> {
  inFlight = inFlight.then(loadBundledNow, loadBundledNow);
  return inFlight;
}

async function loadBundledNow(): Promise<void> {
  const label = 'bundled dataset (poselab-toy)';
  useApp.getState().startLoading(label);
  try {
    setDataset(await engine().loadUrl(kBundledUrl, progressTo(label)));
  } catch (e) {
    useApp.getState().setLoadError(`The bundled dataset could not be loaded (${message(e)}). Drop a dataset to start.`);
  }
}

/** dropProblems: what the drop itself could not read (collectDrop), shown first in the dataset's problem list. */
export function loadDropped(label: string, files: DroppedBlob[], dropProblems: readonly ProblemLine[] = []): Promise<void> {
  const run = () => loadDroppedNow(label, files, dropProblems);
  inFlight = inFlight.then(run, run);
  return inFlight;
}

async function loadDroppedNow(label: string, files: DroppedBlob[], dropProblems: readonly ProblemLine[]): Promise<void> {
  useApp.getState().startLoading(label);
  try {
    setDataset(withDropProblems(await engine().loadFiles(label, files, progressTo(label)), dropProblems));
    useApp.getState().setStatus('idle');
    useApp.getState().clearPredictions();
  } catch (e) {
    useApp.getState().setLoadError(`${label} could not be loaded: ${message(e)}`);
  }
}

export async function resumeSaved(): Promise<void> {
  await inFlight;
  const label = useApp.getState().savedRun?.dataset.label ?? 'saved run';
  useApp.getState().setStatus('starting');
  useApp.getState().startLoading(label);
  try {
    const d = await engine().resumeSaved(progressTo(label));
    setDataset(d);
    useApp.getState().setSavedRun(undefined);
  } catch (e) {
    useApp.setState({ loading: undefined });
    useApp.getState().setStatus('error', message(e));
  }
}

export function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
