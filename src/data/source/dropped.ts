import type { Problem } from '../problems';
import { ignoredMessage, LitterTally, safePath, type IgnoredLitter } from './paths';
import { blobAccess } from './randomAccess';
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
export async function walkEntries(roots: readonly EntryLike[], problems: Problem[], ignored = new LitterTally()): Promise<DroppedFile[]> {
  const out: DroppedFile[] = [];
  const visit = async (entry: EntryLike, prefix: string): Promise<void> => {
    const path = prefix ? `${prefix}/${entry.name}` : entry.name;
    // A litter folder (__MACOSX/, .git/) is not walked at all: it can hold thousands of entries.
    if (ignored.skip(path, entry.isDirectory)) return;
    if (entry.isDirectory) {
      let children: EntryLike[];
      try {
        children = await readAllEntries(entry as DirectoryEntryLike);
      } catch (e) {
        problems.push({ file: path, field: 'folder', message: `could not be listed (${String(e)}); its files are left out` });
        return;
      }
      for (const child of children) await visit(child, path);
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
  constructor(
    readonly label: string,
    dropped: readonly DroppedFile[],
    readonly problems: Problem[] = [],
    readonly ignored: LitterTally = new LitterTally(),
  ) {
    for (const d of dropped) {
      if (this.ignored.skip(d.path.replace(/\\/g, '/'))) continue;
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
  const ignored = new LitterTally();
  const files = await walkEntries(roots, problems, ignored);
  return openDroppedFiles(files, limits, problems, ignored);
}

export async function openDroppedFiles(
  files: readonly DroppedFile[],
  limits: ZipLimits = kDefaultZipLimits,
  problems: Problem[] = [],
  ignored: LitterTally = new LitterTally(),
): Promise<ByteSource> {
  const kept = files.filter((f) => !ignored.skip(f.path.replace(/\\/g, '/')));
  const plain = kept.filter((f) => !/\.zip$/i.test(f.path));
  const zips = kept.filter((f) => /\.zip$/i.test(f.path));
  const sources: ByteSource[] = [];
  if (plain.length > 0 || problems.length > 0 || ignored.count > 0) sources.push(new DroppedSource('dropped files', plain, problems, ignored));
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

/** What the page's drop handler hands on: the files, a label, and what could not be taken (as problems). */
export interface CollectedDrop {
  label: string;
  files: DroppedFile[];
  /** Entries that could not be read or listed, and litter left out: shown with the dataset's own problems. */
  problems: Problem[];
  ignored: IgnoredLitter;
}

/**
 * A drop event's contents, for every drop target of the page: the entries and files are taken from the
 * DataTransfer now (the browser empties it when the handler returns), then walked by collectDrop.
 */
export function collectDataTransfer(dt: DataTransfer): Promise<CollectedDrop> {
  const roots = entriesOfDrop(dt.items);
  const plain = Array.from(dt.files);
  return collectDrop(roots, plain);
}

/**
 * The page's drop path (collectDataTransfer calls this with what entriesOfDrop took from the
 * DataTransfer): walks folders, or takes plain files where the platform gave no entries, and keeps every
 * entry it could not read as a problem line for the dataset report instead of dropping it.
 */
export async function collectDrop(roots: readonly EntryLike[], plain: readonly File[]): Promise<CollectedDrop> {
  const problems: Problem[] = [];
  const ignored = new LitterTally();
  let files: DroppedFile[];
  if (roots.length > 0) {
    files = await walkEntries(roots, problems, ignored);
  } else {
    // Synthetic drops and some platforms give files without entries.
    files = plain.map((f) => ({ path: f.webkitRelativePath || f.name, file: f })).filter((f) => !ignored.skip(f.path));
  }
  if (ignored.count > 0) {
    problems.push({ file: roots.length === 1 ? roots[0].name : 'dropped files', field: '', message: ignoredMessage(ignored) });
  }
  const label = roots.length === 1 ? roots[0].name : files.length === 1 ? files[0].path : `${files.length} dropped files`;
  return { label, files, problems, ignored };
}

/** A loaded dataset's summary with the drop's own problems first (they happened before the load). */
export function withDropProblems<T extends { problems: Problem[] }>(summary: T, dropProblems: readonly Problem[]): T {
  return dropProblems.length === 0 ? summary : { ...summary, problems: [...dropProblems, ...summary.problems] };
}
