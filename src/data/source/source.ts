import type { Problem } from '../problems';
import { LitterTally, type IgnoredLitter } from './paths';

/**
 * Where a dataset's bytes come from. Everything above data/source sees only this: a list of relative
 * paths and a way to read one. Implementations: Node folder (node.ts), zip (zip.ts), dropped browser
 * files and folders (dropped.ts), a URL with a manifest (url.ts), memory (below, for tests and merges).
 */
export interface ByteSource {
  /** What the user gave: a folder path, a zip name, 'dropped files', a URL. */
  readonly label: string;
  /** Every readable file, '/'-separated relative paths, sorted. Unsafe or refused entries are not here. */
  readonly paths: readonly string[];
  /** Problems met while listing (unsafe paths, zip limits); each names an entry left out of paths. */
  readonly problems: readonly Problem[];
  /** OS and tool litter left out of paths (paths.ts litterReason), counted so that nothing goes silently. */
  readonly ignored?: IgnoredLitter;
  read(path: string): Promise<Uint8Array>;
  /** The first bytes of a file (at least min(maxBytes, size)); sources that can, read no more than that. */
  readHead(path: string, maxBytes: number): Promise<Uint8Array>;
  /** Size in bytes when the source knows it without reading. */
  sizeOf(path: string): number | undefined;
}

export class MemorySource implements ByteSource {
  readonly paths: string[];
  readonly ignored = new LitterTally();
  constructor(
    readonly label: string,
    private readonly files: ReadonlyMap<string, Uint8Array>,
    readonly problems: Problem[] = [],
  ) {
    this.paths = [...files.keys()].filter((p) => !this.ignored.skip(p)).sort();
  }
  async read(path: string): Promise<Uint8Array> {
    const f = this.files.get(path);
    if (!f) throw new Error(`${this.label}: no file ${path}`);
    return f;
  }
  async readHead(path: string, maxBytes: number): Promise<Uint8Array> {
    return (await this.read(path)).subarray(0, maxBytes);
  }
  sizeOf(path: string): number | undefined {
    return this.files.get(path)?.length;
  }
}

/**
 * Several sources seen as one (BOP ships lm_models.zip and lm_test_all.zip, both rooted at lm/). When two
 * hold the same path the first is kept and the clash is a problem.
 */
export class MergedSource implements ByteSource {
  readonly paths: string[];
  readonly problems: Problem[] = [];
  readonly ignored = new LitterTally();
  private readonly owner = new Map<string, ByteSource>();
  constructor(readonly label: string, sources: readonly ByteSource[]) {
    for (const s of sources) {
      this.problems.push(...s.problems);
      if (s.ignored) this.ignored.add(s.ignored);
      for (const p of s.paths) {
        const first = this.owner.get(p);
        if (first) this.problems.push({ file: p, field: 'path', message: `also in ${s.label}; the copy in ${first.label} is used` });
        else this.owner.set(p, s);
      }
    }
    this.paths = [...this.owner.keys()].sort();
  }
  private sourceOf(path: string): ByteSource {
    const s = this.owner.get(path);
    if (!s) throw new Error(`${this.label}: no file ${path}`);
    return s;
  }
  read(path: string): Promise<Uint8Array> {
    return this.sourceOf(path).read(path);
  }
  readHead(path: string, maxBytes: number): Promise<Uint8Array> {
    return this.sourceOf(path).readHead(path, maxBytes);
  }
  sizeOf(path: string): number | undefined {
    return this.owner.get(path)?.sizeOf(path);
  }
}
