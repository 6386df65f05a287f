/**
 * Fake dropped folders for the tests of the page's drop path: FileSystemDirectoryEntry-like trees whose
 * readers, like Chromium's, hand out at most 100 entries a call (calls counts them).
 */
import type { DirectoryEntryLike, EntryLike, FileEntryLike } from '../../src/data/source/dropped';

/** A fake FileSystemDirectoryEntry whose reader, like Chromium's, hands out at most 100 entries a call. */
export function fakeDir(name: string, children: EntryLike[], calls: { n: number }): DirectoryEntryLike {
  return {
    isFile: false,
    isDirectory: true,
    name,
    createReader() {
      let at = 0;
      return {
        readEntries(success) {
          calls.n++;
          const batch = children.slice(at, at + 100);
          at += batch.length;
          setTimeout(() => success(batch), 0);
        },
      };
    },
  };
}

export function fakeFile(name: string, bytes: Uint8Array): FileEntryLike {
  return { isFile: true, isDirectory: false, name, file: (ok) => ok(new File([bytes as Uint8Array<ArrayBuffer>], name)) };
}

/** Builds a fake dropped folder tree from path -> bytes. */
export function fakeTree(files: Map<string, Uint8Array>, calls: { n: number } = { n: 0 }): EntryLike[] {
  interface Node { dirs: Map<string, Node>; files: Map<string, Uint8Array> }
  const root: Node = { dirs: new Map(), files: new Map() };
  for (const [p, b] of files) {
    const parts = p.split('/');
    let n = root;
    for (const d of parts.slice(0, -1)) {
      if (!n.dirs.has(d)) n.dirs.set(d, { dirs: new Map(), files: new Map() });
      n = n.dirs.get(d)!;
    }
    n.files.set(parts[parts.length - 1], b);
  }
  const build = (n: Node): EntryLike[] => [
    ...[...n.dirs].map(([name, child]) => fakeDir(name, build(child), calls)),
    ...[...n.files].map(([name, b]) => fakeFile(name, b)),
  ];
  return build(root);
}
