/**
 * Runs kept across reloads and crashes, in IndexedDB (reachable from the worker): the last run's
 * checkpoint, settings and chart history under 'run', and where its dataset came from under 'dataset'
 * (the bundled URL, or the dropped files themselves as Blobs when they are small enough to copy).
 * One slot each: PoseLab offers to resume the last run, not to manage a library of them.
 */
import type { DroppedBlob, EvalMetrics, StepPoint, TrainSettings } from './protocol';

const kDbName = 'poselab';
const kStoreName = 'kv';
const kRunKey = 'run';
const kDatasetKey = 'dataset';

/** Dropped datasets larger than this are not copied into IndexedDB: the page asks for them again. */
export const kMaxStoredDatasetBytes = 512 * 2 ** 20;

export interface StoredDataset {
  label: string;
  origin: 'bundled' | 'dropped';
  url?: string;
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
  async saveDataset(d: StoredDataset): Promise<void> {
    await withStore('readwrite', (s) => s.put(d, kDatasetKey));
  },
  async loadDataset(): Promise<StoredDataset | undefined> {
    return (await withStore<StoredDataset>('readonly', (s) => s.get(kDatasetKey))) ?? undefined;
  },
  async clearRun(): Promise<void> {
    await withStore('readwrite', (s) => s.delete(kRunKey));
  },
};
