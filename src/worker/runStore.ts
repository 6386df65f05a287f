/**
 * Runs kept across reloads and crashes, in IndexedDB (reachable from the worker): the last run's
 * checkpoint, settings and chart history (and its dataset's URL when it was served) under 'run', and the
 * last dropped dataset's files under 'dropped', as Blobs, when they are small enough to copy. Loading
 * the bundled dataset touches neither, so a reload that shows it still offers the dropped run.
 * One slot each: PoseLab offers to resume the last run, not to manage a library of them.
 */
import type { DroppedBlob, EvalMetrics, StepPoint, TrainSettings } from './protocol';

const kDbName = 'poselab';
const kStoreName = 'kv';
const kRunKey = 'run';
const kDroppedKey = 'dropped';

/** Dropped datasets larger than this are not copied into IndexedDB: the page asks for them again. */
export const kMaxStoredDatasetBytes = 512 * 2 ** 20;

export interface StoredDropped {
  label: string;
  /** The dropped files, when their total is under kMaxStoredDatasetBytes. */
  files?: DroppedBlob[];
  bytes: number;
}

export interface StoredRun {
  settings: TrainSettings;
  objId: number;
  step: number;
  totalSteps: number;
  finished: boolean;
  savedAt: number;
  /** checkpointToFiles's output, file name to bytes. */
  checkpoint: Record<string, Uint8Array>;
  history: StepPoint[];
  evals: { step: number; metrics: EvalMetrics }[];
  datasetLabel: string;
  datasetOrigin: 'bundled' | 'dropped';
  /** The served dataset's folder URL (origin 'bundled'). */
  datasetUrl?: string;
}

function openDb(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(kDbName, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(kStoreName);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB: could not open the poselab database'));
  });
}

async function withStore<T>(mode: IDBTransactionMode, fn: (s: IDBObjectStore) => IDBRequest<T> | undefined): Promise<T | undefined> {
  const db = await openDb();
  try {
    return await new Promise<T | undefined>((resolve, reject) => {
      const tx = db.transaction(kStoreName, mode);
      const req = fn(tx.objectStore(kStoreName));
      tx.oncomplete = () => resolve(req?.result);
      tx.onerror = () => reject(tx.error ?? new Error('IndexedDB transaction failed'));
      tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted (storage full?)'));
    });
  } finally {
    db.close();
  }
}

export const runStore = {
  async saveRun(run: StoredRun): Promise<void> {
    await withStore('readwrite', (s) => s.put(run, kRunKey));
  },
  async loadRun(): Promise<StoredRun | undefined> {
    return (await withStore<StoredRun>('readonly', (s) => s.get(kRunKey))) ?? undefined;
  },
  async saveDropped(d: StoredDropped): Promise<void> {
    await withStore('readwrite', (s) => s.put(d, kDroppedKey));
  },
  async loadDropped(): Promise<StoredDropped | undefined> {
    return (await withStore<StoredDropped>('readonly', (s) => s.get(kDroppedKey))) ?? undefined;
  },
  async clearRun(): Promise<void> {
    await withStore('readwrite', (s) => s.delete(kRunKey));
  },
};
