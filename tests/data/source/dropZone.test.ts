import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadDataset } from '../../../src/data/load';
import { problemLine } from '../../../src/data/problems';
import { collectDrop, openDroppedFiles, withDropProblems, type DirectoryEntryLike, type EntryLike, type FileEntryLike } from '../../../src/data/source/dropped';
import { bopFixture } from '../fixtures';

/**
 * Issue 13, item 4: what the page's drop path (ui/panels/DropZone.tsx -> collectDrop -> ui/workerClient
 * loadDropped -> withDropProblems) cannot read reaches the dataset report as problem lines.
 */
const src = (p: string) => readFileSync(fileURLToPath(new URL(`../../../src/${p}`, import.meta.url)), 'utf8');

function dir(name: string, kids: EntryLike[] | Error): DirectoryEntryLike {
  return {
    isFile: false, isDirectory: true, name,
    createReader: () => {
      let done = false;
      return { readEntries: (ok, fail) => { if (kids instanceof Error) fail?.(kids); else { ok(done ? [] : kids); done = true; } } };
    },
  };
}
function file(name: string, bytes: Uint8Array | Error): FileEntryLike {
  return { isFile: true, isDirectory: false, name, file: (ok, fail) => (bytes instanceof Error ? fail?.(bytes) : ok(new File([bytes as Uint8Array<ArrayBuffer>], name))) };
}
function tree(files: Map<string, Uint8Array>): EntryLike[] {
  const build = (prefix: string): EntryLike[] => {
    const kids = new Map<string, EntryLike>();
    for (const [p, b] of files) {
      if (!p.startsWith(prefix)) continue;
      const rest = p.slice(prefix.length);
      const i = rest.indexOf('/');
      if (i < 0) kids.set(rest, file(rest, b));
      else if (!kids.has(rest.slice(0, i))) kids.set(rest.slice(0, i), dir(rest.slice(0, i), build(`${prefix}${rest.slice(0, i)}/`)));
    }
    return [...kids.values()];
  };
  return build('');
}

describe("the page's drop path keeps what it could not read", () => {
  it('an unreadable file, an unlistable folder and ignored litter become problem lines, and the rest loads', async () => {
    const good = tree(bopFixture('mydata/'));
    const top = good[0] as DirectoryEntryLike;
    const kids = await new Promise<EntryLike[]>((ok) => top.createReader().readEntries(ok));
    const roots = [dir('mydata', [
      ...kids,
      file('broken.png', new DOMException('A requested file could not be read', 'NotReadableError')),
      dir('locked', new DOMException('permission denied', 'SecurityError')),
      file('.DS_Store', new Uint8Array([0])),
      dir('__MACOSX', [file('._x', new Uint8Array([0]))]),
    ])];
    const drop = await collectDrop(roots, []);
    expect(drop.label).toBe('mydata');
    expect(drop.files).toHaveLength(bopFixture('mydata/').size);
    expect(drop.problems.map(problemLine)).toEqual([
      'mydata/broken.png: could not be read (NotReadableError: A requested file could not be read)',
      'mydata/locked: folder: could not be listed (SecurityError: permission denied); its files are left out',
      'mydata: 2 OS or tool entries ignored (__MACOSX/, ._*, .DS_Store, Thumbs.db, desktop.ini, hidden entries; a folder counts once), e.g. mydata/.DS_Store, mydata/__MACOSX/',
    ]);
    // What the worker then loads, and what the page shows: the drop's problems first, then the dataset's.
    const ds = await loadDataset(await openDroppedFiles(drop.files));
    expect(ds.images).toHaveLength(5);
    const shown = withDropProblems({ problems: ds.problems }, drop.problems);
    expect(shown.problems.slice(0, 3)).toEqual(drop.problems);
    expect(shown.problems.slice(3)).toEqual(ds.problems);
  });

  it('plain files without entries (synthetic drops) go through the same path', async () => {
    const files = [...bopFixture('mydata/')].map(([p, b]) => Object.defineProperty(new File([b as Uint8Array<ArrayBuffer>], p.split('/').pop()!), 'webkitRelativePath', { value: p }));
    const drop = await collectDrop([], [...files, new File([new Uint8Array(1)], 'Thumbs.db')]);
    expect(drop.files).toHaveLength(files.length);
    expect(drop.problems.map((p) => p.message)).toEqual([expect.stringMatching(/^1 OS or tool entry ignored/)]);
  });

  it('DropZone hands collectDrop\'s problems to loadDropped, which shows them with the dataset\'s', () => {
    const dropZone = src('ui/panels/DropZone.tsx');
    // Both drop targets (the dataset's and Try it's) read a drop through collectDataTransfer -> collectDrop.
    expect(src('data/source/dropped.ts')).toMatch(/export function collectDataTransfer[^]*?return collectDrop\(roots, plain\);/);
    expect(dropZone).toMatch(/const dropped = collectDataTransfer\(e\.dataTransfer\);[^]*?= await dropped;/);
    expect(dropZone).toMatch(/loadDropped\(label, files, problems\)/);
    expect(src('ui/tryit/TryItView.tsx')).toMatch(/collectDataTransfer\(e\.dataTransfer\)\.then\(\(\{ files, problems \}\)/);
    expect(dropZone).not.toMatch(/walkEntries/);
    expect(src('ui/workerClient.ts')).toMatch(/setDataset\(withDropProblems\(await engine\(\)\.loadFiles\(label, files, progressTo\(label\)\), dropProblems\)\)/);
  });
});
