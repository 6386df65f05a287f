import type { Problem } from '../problems';
import { safePath } from './paths';
import { blobAccess } from './random-access';
import { MergedSource, type ByteSource } from './source';
import { ZipSource, ZipError, type ZipLimits, kDefaultZipLimits } from './zip';

/**
 * Browser drag and drop: folders (through DataTransferItem.webkitGetAsEntry), several files, zips.
 * The structural interfaces below are what the DOM's FileSystemEntry types offer, so tests can hand in
 * plain objects.
 */
export interface EntryLike {
  readonly isFile: boolean;
  readonly isDirectory: boolean;
  readonly name: string;
}
export interface FileEntryLike extends EntryLike {
  file(success: (f: File) => void, error?: (e: unknown) => void): void;
}
export interface DirectoryReaderLike {
  readEntries(success: (entries: EntryLike[]) => void, error?: (e: unknown) => void): void;
}
export interface DirectoryEntryLike extends EntryLike {
  createReader(): DirectoryReaderLike;
}

export interface DroppedFile {
  /** '/'-separated path from the dropped item ('lm/models/obj_000001.ply' for a dropped 'lm' folder). */
  path: string;
  file: Blob;
}

/**
 * Every entry of a directory. readEntries hands out a batch at a time (Chromium: at most 100) and an
 * empty batch at the end, so it is called until it returns nothing.
 */
export async function readAllEntries(dir: DirectoryEntryLike): Promise<EntryLike[]> {
  const reader = dir.createReader();
  const all: EntryLike[] = [];
  for (;;) {
    const batch = await new Promise<EntryLike[]>((res, rej) => reader.readEntries(res, rej));
    if (batch.length === 0) return all;
    all.push(...batch);
  }
}

/** Walks dropped entries depth first; unreadable files become problems, not exceptions. */
export async function walkEntries(roots: readonly EntryLike[], problems: Problem[]): Promise<DroppedFile[]> {
  const out: DroppedFile[] = [];
  const visit = async (entry: EntryLike, prefix: string): Promise<void> => {
    const path = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory) {
      for (const child of await readAllEntries(entry as DirectoryEntryLike)) await visit(child, path);
    } else {
      try {
        const fileEntry = entry as FileEntryLike;
        out.push({ path, file: await new Promise<File>((res, rej) => fileEntry.file(res, rej)) });
      } catch (e) {
        problems.push({ file: path, field: '', message: `could not be read (${String(e)})` });
      }
    }
  };
  for (const r of roots) await visit(r, '');
  return out;
}

/**
 * Call synchronously inside the drop handler: the DataTransfer is emptied once the handler returns,
 * so the entries are taken first and walked afterwards.
 */
export function entriesOfDrop(items: DataTransferItemList): EntryLike[] {
  const roots: EntryLike[] = [];
  for (let i = 0; i < items.length; i++) {
    const entry = items[i].kind === 'file' ? items[i].webkitGetAsEntry() : null;
    if (entry) roots.push(entry);
  }
  return roots;
}

export class DroppedSource implements ByteSource {
  readonly paths: string[];
  private readonly files = new Map<string, Blob>();
  constructor(readonly label: string, dropped: readonly DroppedFile[], readonly problems: Problem[] = []) {
    for (const d of dropped) {
      const safe = safePath(d.path);
      if (!safe.ok) problems.push({ file: d.path, field: 'path', message: `${safe.reason}; left out` });
      else this.files.set(safe.path, d.file);
    }
    this.paths = [...this.files.keys()].sort();
  }
  private blob(path: string): Blob {
    const b = this.files.get(path);
    if (!b) throw new Error(`${this.label}: no file ${path}`);
    return b;
  }
  async read(path: string): Promise<Uint8Array> {
    return new Uint8Array(await this.blob(path).arrayBuffer());
  }
  async readHead(path: string, maxBytes: number): Promise<Uint8Array> {
    return new Uint8Array(await this.blob(path).slice(0, maxBytes).arrayBuffer());
  }
  sizeOf(path: string): number | undefined {
    return this.files.get(path)?.size;
  }
}

/**
 * The source for whatever was dropped: plain files and folders as they are, each .zip opened in place
 * (its entries merged at the top level, as BOP's split zips all start with the dataset's folder).
 */
export async function openDropped(roots: readonly EntryLike[], limits: ZipLimits = kDefaultZipLimits): Promise<ByteSource> {
  const problems: Problem[] = [];
  const files = await walkEntries(roots, problems);
  return openDroppedFiles(files, limits, problems);
}

export async function openDroppedFiles(files: readonly DroppedFile[], limits: ZipLimits = kDefaultZipLimits, problems: Problem[] = []): Promise<ByteSource> {
  const plain = files.filter((f) => !/\.zip$/i.test(f.path));
  const zips = files.filter((f) => /\.zip$/i.test(f.path));
  const sources: ByteSource[] = [];
  if (plain.length > 0) sources.push(new DroppedSource('dropped files', plain, problems));
  else if (problems.length > 0) sources.push(new DroppedSource('dropped files', [], problems));
  for (const z of zips) {
    try {
      sources.push(await ZipSource.open(z.path, blobAccess(z.file), limits));
    } catch (e) {
      problems.push({ file: z.path, field: 'zip', message: e instanceof ZipError ? e.message : `could not be opened (${String(e)})` });
    }
  }
  if (sources.length === 1) return sources[0];
  const merged = new MergedSource(files.length === 1 ? files[0].path : 'dropped files', sources);
  if (sources.length === 0) merged.problems.push(...problems);
  return merged;
}
