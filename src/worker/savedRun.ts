/**
 * The run kept across reloads (runStore.ts holds the bytes in IndexedDB): what is written at every
 * checkpoint, pause and end, what the page is told of a kept run, and how its dataset is found again.
 */
import { checkpointToFiles, type Checkpoint } from '../train/checkpoint';
import type { LoadedDataset } from './datasetViews';
import type { DroppedBlob, EngineUiEvent, EvalMetrics, SavedRunInfo, StepPoint, TrainSettings } from './protocol';
import { kMaxStoredDatasetBytes, runStore, type StoredDropped, type StoredRun } from './runStore';

/** What a kept run holds besides its checkpoint. */
export interface RunRecord {
  settings: TrainSettings;
  totalSteps: number;
  finished: boolean;
  history: StepPoint[];
  evals: { step: number; metrics: EvalMetrics }[];
}

/** Writes runs one after another, telling the page of each save or why it failed. */
export class RunSaver {
  private saving: Promise<void> = Promise.resolve();

  constructor(private readonly emit: (e: EngineUiEvent) => void) {}

  save(c: Checkpoint, r: RunRecord, l: LoadedDataset): void {
    const run: StoredRun = {
      settings: r.settings, objId: r.settings.objId ?? -1, step: c.step, totalSteps: r.totalSteps, finished: r.finished, savedAt: Date.now(),
      checkpoint: Object.fromEntries(checkpointToFiles(c)), history: r.history.slice(), evals: r.evals.slice(),
      datasetLabel: l.ds.source.label, datasetOrigin: l.origin, datasetUrl: l.url,
    };
    this.saving = this.saving
      .then(() => runStore.saveRun(run))
      .then(() => this.emit({ type: 'checkpoint', step: c.step, savedAt: run.savedAt }))
      .catch((err: unknown) => this.emit({ type: 'error', step: c.step, message: `the checkpoint could not be saved in IndexedDB (${String(err)})` }));
  }

  /** Resolves once every save asked for so far has ended. */
  idle(): Promise<void> {
    return this.saving;
  }
}

/** Keeps a usable dropped dataset's files for a later resume, when they are small enough (else only its label). */
export async function keepDropped(label: string, files: DroppedBlob[]): Promise<void> {
  const bytes = files.reduce((n, f) => n + f.file.size, 0);
  const stored: StoredDropped = { label, bytes, files: bytes <= kMaxStoredDatasetBytes ? files : undefined };
  await runStore.saveDropped(stored).catch(() => runStore.saveDropped({ ...stored, files: undefined }).catch(() => undefined));
}

/** The kept run, if any, and whether its dataset can still be read. */
export async function savedRunInfo(): Promise<SavedRunInfo | undefined> {
  const run = await runStore.loadRun();
  if (!run) return undefined;
  const readable = await datasetReadable(run);
  return {
    step: run.step, totalSteps: run.totalSteps, savedAt: run.savedAt, settings: run.settings, finished: run.finished,
    dataset: { label: run.datasetLabel, origin: run.datasetOrigin, ...readable },
  };
}

/** Whether l is the kept run's dataset. */
export function isRunDataset(run: StoredRun, l: LoadedDataset | undefined): boolean {
  return !!l && l.ds.source.label === run.datasetLabel && l.origin === run.datasetOrigin;
}

/** Where the kept run's dataset is found again: its URL, or the dropped files kept with it; throws, saying what to do, when neither. */
export async function runDatasetSource(run: StoredRun): Promise<{ url: string } | { files: DroppedBlob[] }> {
  if (run.datasetOrigin === 'bundled' && run.datasetUrl) return { url: run.datasetUrl };
  const stored = await runStore.loadDropped();
  if (!stored || stored.label !== run.datasetLabel) throw new Error(`the run's dataset (${run.datasetLabel}) was not kept: drop it again, then resume`);
  if (!stored.files) throw new Error(`the run's dataset (${run.datasetLabel}) was too large to keep: drop it again, then resume`);
  return { files: stored.files };
}

async function datasetReadable(run: StoredRun): Promise<{ readable: boolean; why?: string }> {
  if (run.datasetOrigin === 'bundled') {
    try {
      const res = await fetch(`${(run.datasetUrl ?? '').replace(/\/?$/, '/')}manifest.json`, { method: 'HEAD' });
      return res.ok ? { readable: true } : { readable: false, why: `the bundled dataset answers HTTP ${res.status}` };
    } catch (e) {
      return { readable: false, why: `the bundled dataset cannot be fetched (${String(e)})` };
    }
  }
  const stored = await runStore.loadDropped().catch(() => undefined);
  if (!stored || stored.label !== run.datasetLabel) return { readable: false, why: 'another dataset was dropped since: drop this one again' };
  if (!stored.files) return { readable: false, why: `it was too large to keep (${(stored.bytes / 2 ** 20).toFixed(0)} MB): drop it again` };
  try {
    await Promise.all(stored.files.slice(0, 3).map((f) => f.file.slice(0, 1).arrayBuffer()));
    return { readable: true };
  } catch (e) {
    return { readable: false, why: `its files can no longer be read (${String(e)}): drop it again` };
  }
}
