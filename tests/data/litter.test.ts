import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { countBySplit } from '../../src/data/dataset';
import { reportOf, reportText } from '../../src/data/inspect';
import { loadDataset } from '../../src/data/load';
import { problemLine } from '../../src/data/problems';
import { openDropped } from '../../src/data/source/dropped';
import { openNodePath } from '../../src/data/source/node';
import { litterReason } from '../../src/data/source/paths';
import { bytesAccess } from '../../src/data/source/randomAccess';
import { MemorySource } from '../../src/data/source/source';
import { ZipSource } from '../../src/data/source/zip';
import { bopFixture, pvnetFixture, writeTree, type Files } from './fixtures';
import { fakeTree } from '../helpers/dropTree';

/**
 * Issue 13, item 1: OS and tool litter (__MACOSX/ shadow trees of AppleDouble ._ twins, .DS_Store,
 * Thumbs.db, desktop.ini, hidden entries) is left out of zips, dropped folders and Node paths, and
 * counted; item 3's symbolic links are followed or named.
 */

/** What macOS's Archive Utility adds: a ._ twin of every file under __MACOSX/, and .DS_Store files. */
function withMacLitter(files: Files): Files {
  const out: Files = new Map(files);
  const appleDouble = new Uint8Array([0x00, 0x05, 0x16, 0x07, 0, 2, 0, 0]); // AppleDouble magic, not a PNG/JSON/PLY
  for (const p of files.keys()) {
    const i = p.lastIndexOf('/');
    out.set(`__MACOSX/${p.slice(0, i + 1)}._${p.slice(i + 1)}`, appleDouble);
    out.set(`${p.slice(0, i + 1)}._${p.slice(i + 1)}`, appleDouble);
  }
  const top = [...files.keys()][0].split('/')[0];
  out.set(`${top}/.DS_Store`, new Uint8Array([0, 0, 0, 1, 0x42, 0x75, 0x64, 0x31]));
  out.set(`${top}/Thumbs.db`, new Uint8Array([0xd0, 0xcf]));
  out.set(`${top}/desktop.ini`, new TextEncoder().encode('[.ShellClassInfo]\n'));
  out.set(`${top}/.git/config`, new TextEncoder().encode('[core]\n'));
  return out;
}

const zipOf = (files: Files) => zipSync(Object.fromEntries(files));

describe('OS and tool litter', () => {
  it('names each kind of litter and leaves dataset paths alone', () => {
    for (const p of ['__MACOSX/lm/._scene_gt.json', 'lm/._obj_000001.ply', 'lm/.DS_Store', 'lm/Thumbs.db', 'lm/THUMBS.DB', 'lm/desktop.ini', 'lm/.git/HEAD', '.hidden', 'lm/.cache/x.png']) {
      expect(litterReason(p), p).toBeDefined();
    }
    for (const p of ['lm/models/obj_000001.ply', 'lm/train/000000/rgb/000000.png', 'cat/JPEGImages/0.jpg', 'a.b/c.png', 'lm/Thumbs.db.txt']) {
      expect(litterReason(p), p).toBeUndefined();
    }
  });

  it('a macOS zip of a PVNet dataset loads like its folder: the __MACOSX/ twins are not a second root', async () => {
    const clean = pvnetFixture('linemod/');
    const folder = await loadDataset(new MemorySource('folder', clean));
    const zip = await ZipSource.open('linemod-macos.zip', bytesAccess(zipOf(withMacLitter(clean))));
    const ds = await loadDataset(zip);
    expect(ds.problems.map(problemLine)).toEqual(folder.problems.map(problemLine));
    expect(ds.name).toBe('linemod');
    expect(countBySplit(ds)).toEqual(countBySplit(folder));
    expect(ds.objects.map((o) => [o.id, !!o.mesh])).toEqual([[6, true], [11, true]]);
    const r = reportOf(ds);
    // __MACOSX/ once, a ._ twin beside every file, .DS_Store, Thumbs.db, desktop.ini and .git/ once.
    expect(r.ignored.count).toBe(clean.size + 5);
    expect(r.ignored.examples.length).toBeGreaterThan(0);
    // `npm run dataset` says it in the page's words (one formatter, src/data/source/paths.ts).
    expect(reportText(r)).toMatch(new RegExp(`^litter: {2}${clean.size + 5} OS or tool entries ignored \\(__MACOSX/, .*; a folder counts once\\), e\\.g\\. __MACOSX/,`, 'm'));
  });

  it('a macOS zip of a BOP dataset loads with no spurious second root and no problem', async () => {
    const clean = bopFixture('mydata/');
    const ds = await loadDataset(await ZipSource.open('bop-macos.zip', bytesAccess(zipOf(withMacLitter(clean)))));
    expect(ds.problems).toEqual([]);
    expect(ds.images).toHaveLength(5);
    expect(ds.images.reduce((a, im) => a + im.instances.length, 0)).toBe(8);
  });

  it('a Node folder and a dropped folder leave litter out too', async () => {
    const files = withMacLitter(bopFixture('mydata/'));
    const node = await openNodePath(writeTree(files));
    expect(node.paths.some((p) => litterReason(p))).toBe(false);
    expect(node.ignored?.count).toBeGreaterThan(0);
    expect((await loadDataset(node)).problems).toEqual([]);
    const dropped = await openDropped(fakeTree(files));
    expect(dropped.paths.some((p) => litterReason(p))).toBe(false);
    expect(dropped.paths).toHaveLength(bopFixture('mydata/').size);
    expect((await loadDataset(dropped)).problems).toEqual([]);
  });

  it('counts the same litter entries whether the dataset is a folder, its zip, its drop or its files: a litter folder once', async () => {
    const files = withMacLitter(bopFixture('mydata/'));
    // The folder source never enters __MACOSX/ or .git/; the zip and the file list hold every file in them.
    const sources = {
      folder: await openNodePath(writeTree(files)),
      zip: await ZipSource.open('mydata.zip', bytesAccess(zipOf(files))),
      drop: await openDropped(fakeTree(files)),
      files: new MemorySource('files', files),
    };
    const want = new Set(['__MACOSX/', 'mydata/.DS_Store', 'mydata/Thumbs.db', 'mydata/desktop.ini', 'mydata/.git/',
      ...[...bopFixture('mydata/').keys()].map((p) => p.replace(/[^/]+$/, (b) => `._${b}`))]);
    for (const [name, s] of Object.entries(sources)) {
      expect(s.ignored?.count, name).toBe(want.size);
      expect(s.ignored?.examples.length, name).toBe(5);
      for (const e of s.ignored?.examples ?? []) expect(want.has(e), `${name}: ${e}`).toBe(true);
    }
    // An empty litter folder: a folder lists it, a zip holds it as a directory entry; both count it once.
    const dir = writeTree(bopFixture('mydata/'));
    mkdirSync(join(dir, 'mydata', '.empty'));
    const zipped = { ...Object.fromEntries(bopFixture('mydata/')), 'mydata/.empty/': new Uint8Array(0) };
    for (const s of [await openNodePath(dir), await ZipSource.open('empty.zip', bytesAccess(zipSync(zipped)))]) {
      expect([s.ignored?.count, s.ignored?.examples], s.label).toEqual([1, ['mydata/.empty/']]);
    }
  });

  it('split zips dropped together count their litter as one tree: an entry both hold (__MACOSX/, .git/) once', async () => {
    // BOP's way: one dataset in two zips rooted at one folder, each zipped on a Mac.
    const all = [...bopFixture('mydata/')];
    const half = (keep: (p: string) => boolean) => withMacLitter(new Map(all.filter(([p]) => keep(p))));
    const models = half((p) => p.includes('/models/')), rest = half((p) => !p.includes('/models/'));
    const entriesOf = (files: Files) => new Set([...files.keys()].map((p) => p.replace(/^(__MACOSX|mydata\/\.git)\/.*$/, '$1/')).filter((p) => litterReason(p)));
    for (const half of [models, rest]) expect([...entriesOf(half)]).toEqual(expect.arrayContaining(['__MACOSX/', 'mydata/.git/', 'mydata/.DS_Store']));
    const want = new Set([...entriesOf(models), ...entriesOf(rest)]);
    const source = await openDropped(fakeTree(new Map([['mydata_models.zip', zipOf(models)], ['mydata_test.zip', zipOf(rest)]])));
    expect(source.ignored?.count).toBe(want.size);
    for (const e of source.ignored?.examples ?? []) expect(want.has(e), e).toBe(true);
    expect((await loadDataset(source)).problems).toEqual([]);
  });
});

describe('symbolic links in a Node folder', () => {
  it('follows a link to a folder, and names a broken link and a link loop', async () => {
    const store = writeTree(bopFixture('mydata/'));
    const dir = writeTree(new Map([['readme.txt', new Uint8Array([0x61])]]));
    // The dataset is assembled from links: mydata/ -> the real folder elsewhere.
    symlinkSync(join(store, 'mydata'), join(dir, 'mydata'), 'dir');
    symlinkSync(join(dir, 'nowhere'), join(dir, 'broken.png'));
    mkdirSync(join(dir, 'loop'));
    symlinkSync(join(dir, 'loop'), join(dir, 'loop', 'again'), 'dir');
    writeFileSync(join(dir, 'loop', 'x.txt'), 'x');
    const source = await openNodePath(dir);
    const ds = await loadDataset(source);
    expect(ds.images).toHaveLength(5);
    expect(ds.objects).toHaveLength(2);
    const lines = ds.problems.map(problemLine);
    expect(lines).toContain('broken.png: symbolic link: its target does not exist; left out');
    expect(lines).toContainEqual(expect.stringMatching(/^loop\/again: symbolic link: leads back to loop .*not followed$/));
  });

  it('names a link to a litter folder as a folder, like the folder itself', async () => {
    const dir = writeTree(bopFixture('mydata/'));
    mkdirSync(join(dir, 'cache-store'));
    writeFileSync(join(dir, 'cache-store', 'x.bin'), 'x');
    symlinkSync(join(dir, 'cache-store'), join(dir, 'mydata', '.cache'), 'dir');
    symlinkSync(join(dir, 'cache-store', 'x.bin'), join(dir, 'mydata', '.settings'));
    const s = await openNodePath(join(dir, 'mydata'));
    expect([s.ignored?.count, [...(s.ignored?.examples ?? [])].sort()]).toEqual([2, ['.cache/', '.settings']]);
  });
});
