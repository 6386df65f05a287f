import { open, readdir, readFile, realpath, stat } from 'node:fs/promises';
import { join, relative, sep, basename as nodeBasename } from 'node:path';
import type { Problem } from '../problems';
import { LitterTally, safePath } from './paths';
import type { RandomAccess } from './randomAccess';
import type { ByteSource } from './source';
import { ZipError, ZipSource, type ZipLimits, kDefaultZipLimits } from './zip';

/** Node only (the CLI, tests, scripts): a folder on disk, or a .zip file read at offsets. */
export async function openNodePath(path: string, limits: ZipLimits = kDefaultZipLimits): Promise<ByteSource> {
  const s = await stat(path).catch((e: unknown) => {
    // Node's own words name the system call ("ENOENT: no such file or directory, stat '...'"); a person gave a path.
    const code = (e as { code?: string }).code;
    if (code === 'ENOENT') throw new Error(`${path}: no such file or folder`);
    if (code === 'EACCES') throw new Error(`${path}: permission denied`);
    throw e;
  });
  if (s.isDirectory()) return NodeFolderSource.open(path);
  const label = nodeBasename(path);
  try {
    return await ZipSource.open(label, await nodeFileAccess(path), limits);
  } catch (e) {
    // The archive's errors name it by its label, its base name; a person gave a path, and reads it back.
    if (e instanceof ZipError && e.message.startsWith(`${label}: `)) throw new ZipError(`${path}: ${e.message.slice(label.length + 2)}`);
    throw e;
  }
}

export class NodeFolderSource implements ByteSource {
  private constructor(
    readonly label: string,
    private readonly root: string,
    readonly paths: string[],
    private readonly sizes: Map<string, number>,
    readonly problems: Problem[],
    readonly ignored: LitterTally,
  ) {}

  /**
   * Lists every file under root. Symbolic links are followed, to files and to folders alike (datasets
   * are often assembled from links into a shared store); a link whose target is missing, or a folder
   * reached again through a link (a loop, or the same folder twice), is a problem naming the link.
   */
  static async open(root: string): Promise<NodeFolderSource> {
    const sizes = new Map<string, number>();
    const problems: Problem[] = [];
    const ignored = new LitterTally();
    const seenDirs = new Map<string, string>();
    const relOf = (full: string) => relative(root, full).split(sep).join('/');
    const walk = async (dir: string): Promise<void> => {
      const real = await realpath(dir);
      const before = seenDirs.get(real);
      if (before !== undefined) {
        problems.push({ file: relOf(dir) || '.', field: 'symbolic link', message: `leads back to ${before || 'the dataset folder itself'} (a link loop or a second path to one folder); not followed` });
        return;
      }
      seenDirs.set(real, relOf(dir));
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (e) {
        problems.push({ file: relOf(dir) || '.', field: 'folder', message: `could not be listed (${e instanceof Error ? e.message : String(e)}); its files are left out` });
        return;
      }
      for (const e of entries) {
        const full = join(dir, e.name);
        const rel = relOf(full);
        let isDir = e.isDirectory();
        let isFile = e.isFile();
        let linkError: unknown;
        if (e.isSymbolicLink()) {
          try {
            const target = await stat(full);
            isDir = target.isDirectory();
            isFile = target.isFile();
          } catch (err) {
            linkError = err;
          }
        }
        // After the link is followed: a link to a litter folder is named as the folder it stands for.
        if (ignored.skip(rel, isDir)) continue;
        if (linkError !== undefined) {
          const code = (linkError as { code?: string }).code;
          const why = code === 'ELOOP' ? 'a link loop' : code === 'ENOENT' ? 'its target does not exist' : `its target cannot be read (${code ?? String(linkError)})`;
          problems.push({ file: rel, field: 'symbolic link', message: `${why}; left out` });
          continue;
        }
        if (isDir) await walk(full);
        else if (isFile) {
          const safe = safePath(rel);
          if (!safe.ok) problems.push({ file: rel, field: 'path', message: `${safe.reason}; left out` });
          else sizes.set(safe.path, -1);
        } else {
          problems.push({ file: rel, field: 'path', message: 'not a regular file or folder (a socket, device or pipe); left out' });
        }
      }
    };
    await walk(root);
    return new NodeFolderSource(root, root, [...sizes.keys()].sort(), sizes, problems, ignored);
  }

  async read(path: string): Promise<Uint8Array> {
    const b = await readFile(join(this.root, ...path.split('/')));
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  }

  async readHead(path: string, maxBytes: number): Promise<Uint8Array> {
    const fh = await open(join(this.root, ...path.split('/')), 'r');
    try {
      const buf = new Uint8Array(maxBytes);
      const { bytesRead } = await fh.read(buf, 0, maxBytes, 0);
      return buf.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  }

  sizeOf(): number | undefined {
    return undefined;
  }
}

/** A file read at offsets through one open handle (closed when the process ends). */
export async function nodeFileAccess(path: string): Promise<RandomAccess> {
  const fh = await open(path, 'r');
  const { size } = await fh.stat();
  return {
    sizeBytes: size,
    read: async (offset, length) => {
      const n = Math.max(0, Math.min(length, size - offset));
      const buf = new Uint8Array(n);
      let got = 0;
      while (got < n) {
        const { bytesRead } = await fh.read(buf, got, n - got, offset + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      return buf.subarray(0, got);
    },
  };
}
