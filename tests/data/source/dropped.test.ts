import { describe, expect, it } from 'vitest';
import { zipSync } from 'fflate';
import { loadDataset } from '../../../src/data/load';
import { openDropped, readAllEntries, type DirectoryEntryLike } from '../../../src/data/source/dropped';
import { fakeDir, fakeFile, fakeTree } from '../../helpers/dropTree';
import { bopFixture } from '../fixtures';

describe('dropped folders and files', () => {
  it('calls readEntries until it returns nothing (Chromium gives at most 100 a call)', async () => {
    const calls = { n: 0 };
    const kids = Array.from({ length: 250 }, (_, i) => fakeFile(`f${i}.txt`, new Uint8Array([i & 0xff])));
    const all = await readAllEntries(fakeDir('big', kids, calls));
    expect(all).toHaveLength(250);
    expect(calls.n).toBe(4); // 100 + 100 + 50 + the empty batch
  });

  it('keeps calling through short batches and stops only on an empty one (exactly 100, 101, odd sizes)', async () => {
    for (const [n, batch] of [[100, 100], [101, 100], [257, 37], [0, 100]] as const) {
      const kids = Array.from({ length: n }, (_, i) => fakeFile(`f${i}.txt`, new Uint8Array([i & 0xff])));
      let calls = 0;
      let at = 0;
      const dir: DirectoryEntryLike = {
        isFile: false,
        isDirectory: true,
        name: 'd',
        createReader: () => ({
          readEntries(success) {
            calls++;
            const out = kids.slice(at, at + batch);
            at += out.length;
            success(out);
          },
        }),
      };
      const all = await readAllEntries(dir);
      expect(all.map((e) => e.name)).toEqual(kids.map((e) => e.name));
      expect(calls, `${n} entries in batches of ${batch}`).toBe(Math.ceil(n / batch) + 1);
    }
  });

  it('loads a dropped BOP folder with a 250-image scene', async () => {
    const files = bopFixture();
    // Pad the train scene's rgb folder past 100 entries with extra files the loader must see.
    for (let i = 100; i < 350; i++) files.set(`lmfix/train/000000/rgb/000${i}.png`, files.get('lmfix/train/000000/rgb/000000.png')!);
    const calls = { n: 0 };
    const source = await openDropped(fakeTree(files, calls));
    expect(source.paths).toHaveLength(files.size);
    const ds = await loadDataset(source);
    expect(ds.images).toHaveLength(5);
    // The 250 extra rgb files have no ground truth: said, not dropped silently.
    expect(ds.problems.map((p) => p.message)).toEqual([expect.stringMatching(/^no entry for im_id 100, 101, 102, 103, 104, … \(250 in all\) that have rgb files/)]);
  });

  it('opens dropped zips in place and merges them with loose files', async () => {
    const files = bopFixture();
    const models = new Map([...files].filter(([p]) => p.includes('/models/')));
    const rest = new Map([...files].filter(([p]) => !p.includes('/models/')));
    const zipped = zipSync(Object.fromEntries([...models].map(([p, b]) => [p, b])));
    const calls = { n: 0 };
    const roots = [...fakeTree(rest, calls), fakeFile('lm_models.zip', zipped)];
    const ds = await loadDataset(await openDropped(roots));
    expect(ds.problems).toEqual([]);
    expect(ds.objects.map((o) => o.id)).toEqual([1, 2]);
    expect(ds.images).toHaveLength(5);
  });
});
