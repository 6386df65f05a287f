import { describe, expect, it } from 'vitest';
import { encode as encodePng } from 'fast-png';
import { loadDataset } from '../../src/data/load';
import { writePly } from '../../src/data/ply';
import { problemLine } from '../../src/data/problems';
import { MemorySource } from '../../src/data/source/source';
import { bytesAccess } from '../../src/data/source/randomAccess';
import { UrlSource } from '../../src/data/source/url';
import { kDefaultZipLimits, ZipSource } from '../../src/data/source/zip';
import { Rng } from '../../src/data/rng';
import { zipSync } from 'fflate';
import { checkRotation } from '../../src/data/validate';
import { bopFixture, boxMesh, maskPng, pvnetFixture, type Files } from './fixtures';

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

function editJson(files: Files, path: string, edit: (j: any) => void): void {
  const j = JSON.parse(dec(files.get(path)!));
  edit(j);
  files.set(path, enc(JSON.stringify(j)));
}

async function load(files: Files) {
  const ds = await loadDataset(new MemorySource('fixture', files), { checkFiles: true });
  return { ds, lines: ds.problems.map(problemLine) };
}

describe('validation: every problem is a line naming file and field, and the valid rest loads', () => {
  it('a clean fixture has no problems', async () => {
    expect((await load(bopFixture())).lines).toEqual([]);
  });

  it('missing scene_gt.json: that scene is left out, the others load', async () => {
    const files = bopFixture();
    files.delete('lmfix/test/000001/scene_gt.json');
    const { ds, lines } = await load(files);
    expect(lines).toEqual(["lmfix/test/000001/scene_gt.json: missing: the scene's 2 images have no ground truth and are left out"]);
    expect(ds.images.map((i) => i.split)).toEqual(['train', 'train', 'train']);
  });

  it('a cam_R_m2c that is not a rotation: that instance is left out', async () => {
    const files = bopFixture();
    editJson(files, 'lmfix/train/000000/scene_gt.json', (j) => { j['1'][0].cam_R_m2c = [1, 0, 0, 0, 2, 0, 0, 0, 1]; });
    const { ds, lines } = await load(files);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^lmfix\/train\/000000\/scene_gt\.json: "1"\[0\]\.cam_R_m2c: is not a rotation .*; instance left out$/);
    expect(ds.images.find((i) => i.key === 'train/000000/1')!.instances.map((i) => i.objId)).toEqual([2]);
  });

  it('a reflection is not a rotation either', () => {
    expect(checkRotation([1, 0, 0, 0, 1, 0, 0, 0, -1])).toMatch(/det = -1/);
    expect(checkRotation([0, -1, 0, 1, 0, 0, 0, 0, 1])).toBeUndefined();
  });

  it('a pose whose object projects entirely outside the image', async () => {
    const files = bopFixture();
    editJson(files, 'lmfix/test/000001/scene_gt.json', (j) => { j['0'][0].cam_t_m2c = [5000, 0, 500]; });
    const { ds, lines } = await load(files);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^lmfix\/test\/000001\/scene_gt\.json: "0"\[0\]: obj_id 1 projects entirely outside the 160x120 image/);
    expect(ds.images.find((i) => i.key === 'test/000001/0')!.instances).toEqual([]);
  });

  it('a mask of the wrong size is not used; its instance stays', async () => {
    const files = bopFixture();
    files.set('lmfix/train/000000/mask_visib/000002_000001.png', maskPng([0, 0, 10, 10], 80, 60));
    const { ds, lines } = await load(files);
    expect(lines).toEqual([
      'lmfix/train/000000/mask_visib/000002_000001.png: size: mask is 80x60 px, its image lmfix/train/000000/rgb/000002.png is 160x120; mask not used',
    ]);
    const ins = ds.images.find((i) => i.key === 'train/000000/2')!.instances[1];
    expect(ins.maskVisibPath).toBeUndefined();
    expect(ins.maskPath).toBeDefined();
  });

  it('a corrupt image takes its image out (headers, and full decoding)', async () => {
    const files = bopFixture();
    files.set('lmfix/train/000000/rgb/000001.png', enc('this is not a png'));
    const { ds, lines } = await load(files);
    expect(lines).toEqual(['lmfix/train/000000/rgb/000001.png: image: corrupt or unreadable image (not a PNG (bad signature)); image left out']);
    expect(ds.images.map((i) => i.key)).not.toContain('train/000000/1');
    expect(ds.images).toHaveLength(4);

    // Valid header, broken pixel data: only a full decode finds it.
    const good = files.get('lmfix/train/000000/rgb/000002.png')!;
    const broken = good.slice(0, 60);
    files.set('lmfix/train/000000/rgb/000002.png', broken);
    const { decodePure } = await import('../../src/data/decode/pure');
    const deep = await loadDataset(new MemorySource('fixture', files), { checkFiles: { decode: decodePure } });
    expect(deep.problems.map(problemLine).some((l) => l.startsWith('lmfix/train/000000/rgb/000002.png: image: corrupt'))).toBe(true);
  });

  it('decoding every file says what a file that is no image is, as training says it (text, empty, a mask too)', async () => {
    const files = bopFixture();
    files.set('lmfix/train/000000/rgb/000001.png', enc('this is not a png'));
    files.set('lmfix/train/000000/rgb/000002.png', new Uint8Array(0));
    files.set('lmfix/test/000001/mask_visib/000000_000000.png', enc('nor a mask'));
    const { decodePure } = await import('../../src/data/decode/pure');
    const deep = await loadDataset(new MemorySource('fixture', files), { checkFiles: { decode: decodePure } });
    expect(deep.problems.map(problemLine).sort()).toEqual([
      'lmfix/test/000001/mask_visib/000000_000000.png: mask: corrupt or unreadable mask (cannot be decoded: its content is text, not a JPEG or PNG image); mask not used',
      'lmfix/train/000000/rgb/000001.png: image: corrupt or unreadable image (cannot be decoded: its content is text, not a JPEG or PNG image); image left out',
      'lmfix/train/000000/rgb/000002.png: image: corrupt or unreadable image (an empty file (0 bytes)); image left out',
    ]);
  });

  it('reading headers, a PNG named .jpg is read as the PNG it is, as decoding reads it, and an empty file is named so', async () => {
    const files = bopFixture();
    const png = files.get('lmfix/train/000000/rgb/000001.png')!;
    files.delete('lmfix/train/000000/rgb/000001.png');
    files.set('lmfix/train/000000/rgb/000001.jpg', png);
    files.set('lmfix/train/000000/rgb/000002.png', new Uint8Array(0));
    const { ds, lines } = await load(files);
    expect(lines).toEqual(['lmfix/train/000000/rgb/000002.png: image: corrupt or unreadable image (an empty file (0 bytes)); image left out']);
    expect(ds.images.find((i) => i.key === 'train/000000/1')!.rgbPath).toBe('lmfix/train/000000/rgb/000001.jpg');
  });

  it('a PLY with no faces is reported and kept as a point cloud', async () => {
    const files = bopFixture();
    files.set('lmfix/models/obj_000002.ply', writePly({ ...boxMesh(120, 60, 40), faces: new Uint32Array(0) }));
    const { ds, lines } = await load(files);
    expect(lines).toEqual(['lmfix/models/obj_000002.ply: element face: the PLY has no faces: used as a point cloud (no surface sampling, no rendering)']);
    expect(ds.objects[1].mesh!.positions.length).toBe(24);
  });

  it('a truncated PLY and invalid JSON each name their file', async () => {
    const files = bopFixture();
    files.set('lmfix/models/obj_000002.ply', files.get('lmfix/models/obj_000002.ply')!.slice(0, 300));
    files.set('lmfix/test/000001/scene_camera.json', enc('{"0": {"cam_K": [1, 2'));
    const { ds, lines } = await load(files);
    expect(lines).toContain('lmfix/models/obj_000002.ply: element face 2: file ends early (truncated PLY); model not loaded');
    expect(lines.some((l) => l.startsWith('lmfix/test/000001/scene_camera.json: JSON: not valid JSON'))).toBe(true);
    expect(ds.objects[1].mesh).toBeUndefined();
    expect(ds.images.every((i) => i.split === 'train')).toBe(true);
  });

  it('instances of an object with no model are counted in one line naming the scene_gt entries', async () => {
    const files = bopFixture();
    editJson(files, 'lmfix/train/000000/scene_gt.json', (j) => { for (const k of Object.keys(j)) j[k][1].obj_id = 7; });
    editJson(files, 'lmfix/test/000001/scene_gt.json', (j) => { j['1'][0].obj_id = 9; });
    const { lines } = await load(files);
    expect(lines.sort()).toEqual([
      'lmfix/test/000001/scene_gt.json: "1"[0].obj_id: obj_id 9 is not in models/; left out: the instance at "1"[0] ("im_id"[index])',
      'lmfix/train/000000/scene_gt.json: "0"[1].obj_id: obj_id 7 is not in models/; left out: 3 instances at "0"[1], "1"[1], "2"[1] ("im_id"[index])',
    ]);
  });

  it('PVNet: a bad pose .npy and a missing pose name their files', async () => {
    const files = pvnetFixture();
    files.set('LINEMOD/cat/pose/pose1.npy', enc('garbage'));
    files.delete('LINEMOD/glue/pose/pose3.npy');
    const { ds, lines } = await load(files);
    expect(lines).toEqual([
      'LINEMOD/cat/pose/pose1.npy: npy: not a .npy file (bad magic); instance left out',
      'LINEMOD/glue/pose: no pose<i>.npy for images 3; left out',
    ]);
    expect(ds.images.find((i) => i.key === 'cat/1')!.instances).toEqual([]);
  });

  it('repeats of one problem in one file are capped with a count', async () => {
    const files = bopFixture();
    editJson(files, 'lmfix/train/000000/scene_gt.json', (j) => {
      for (let i = 10; i < 40; i++) j[i] = [{ obj_id: 1, cam_R_m2c: [2, 0, 0, 0, 1, 0, 0, 0, 1], cam_t_m2c: [0, 0, 500] }];
    });
    // rgb files for them too, so they are real images
    for (let i = 10; i < 40; i++) files.set(`lmfix/train/000000/rgb/0000${i}.png`, encodePng({ width: 160, height: 120, data: new Uint8Array(160 * 120 * 3), channels: 3 }));
    editJson(files, 'lmfix/train/000000/scene_camera.json', (j) => { for (let i = 10; i < 40; i++) j[i] = j['0']; });
    const { lines } = await load(files);
    expect(lines.filter((l) => l.includes('.cam_R_m2c: is not'))).toHaveLength(20);
    expect(lines).toContain('lmfix/train/000000/scene_gt.json: 10 more like "cam_R_m2c: not a rotation" not listed');
  });

  it("a path with '..' is left out with a line naming it (zip entry, URL manifest); the rest loads", async () => {
    const files = bopFixture();
    const zipped = zipSync({ ...Object.fromEntries(files), 'lmfix/../../etc/passwd': enc('x') });
    const fromZip = await loadDataset(await ZipSource.open('lm.zip', bytesAccess(zipped)));
    expect(fromZip.problems.map(problemLine)).toEqual(["lm.zip:lmfix/../../etc/passwd: path: path climbs out of its folder with '..'; entry left out"]);
    expect(fromZip.images).toHaveLength(5);

    const manifest = { name: 'fix', files: [...[...files].map(([p, b]) => ({ path: p, bytes: b.length })), { path: '../secret.json', bytes: 3 }] };
    const fakeFetch = (async (url: string | URL | Request) => {
      const path = String(url).replace('http://x/d/', '');
      if (path === 'manifest.json') return new Response(JSON.stringify(manifest));
      const b = files.get(decodeURIComponent(path));
      return b ? new Response(b as Uint8Array<ArrayBuffer>) : new Response('', { status: 404 });
    }) as typeof fetch;
    const fromUrl = await loadDataset(await UrlSource.open('http://x/d', fakeFetch));
    expect(fromUrl.problems.map(problemLine)).toEqual(["../secret.json: path: path climbs out of its folder with '..'; left out"]);
    expect(fromUrl.images).toHaveLength(5);
  });

  it('a zip entry over the size limit is left out with a line; an image lost that way is named too', async () => {
    const files = bopFixture();
    // Noise does not deflate, so only the per-entry size limit can stop it (not the ratio).
    const rng = new Rng(5);
    const noise = Uint8Array.from({ length: 300_000 }, () => rng.int(256));
    files.set('lmfix/extra/noise.bin', noise);
    files.set('lmfix/test/000001/rgb/000001.png', noise);
    const limits = { ...kDefaultZipLimits, maxEntryBytes: 200_000 };
    const ds = await loadDataset(await ZipSource.open('lm.zip', bytesAccess(zipSync(Object.fromEntries(files))), limits));
    expect(ds.problems.map(problemLine)).toEqual([
      // in the zip's entry order: the replaced rgb keeps its place, the new file comes last
      'lmfix/test/000001/rgb/000001.png: uncompressed size: 293.0 KiB is over the per-entry limit of 195.3 KiB; entry left out',
      'lmfix/extra/noise.bin: uncompressed size: 293.0 KiB is over the per-entry limit of 195.3 KiB; entry left out',
      'lmfix/test/000001/rgb: no image file for im_id 1 listed in scene_gt.json; left out',
    ]);
    expect(ds.images.map((i) => i.key)).toEqual(['test/000001/0', 'train/000000/0', 'train/000000/1', 'train/000000/2']);
  });

  it('a zip over the entry-count, total-size or ratio limits is refused with a message that says which', async () => {
    const zipped = zipSync({ ...Object.fromEntries(bopFixture()), 'lmfix/zeros.bin': new Uint8Array(3 << 20) });
    await expect(ZipSource.open('lm.zip', bytesAccess(zipped), { ...kDefaultZipLimits, maxEntries: 10 })).rejects.toThrow(
      /^lm\.zip: 31 entries, over the limit of 10; refusing it/,
    );
    // The ratio check is off here: it would leave zeros.bin out first, and refused entries do not count.
    await expect(ZipSource.open('lm.zip', bytesAccess(zipped), { ...kDefaultZipLimits, maxRatio: 1e9, maxTotalBytes: 2 << 20 })).rejects.toThrow(
      /^lm\.zip: would expand to 3\.\d MiB, over the limit of 2\.0 MiB; refusing it/,
    );
    const z = await ZipSource.open('lm.zip', bytesAccess(zipped));
    expect(z.problems.map((p) => `${p.file}: ${p.field}`)).toEqual(['lmfix/zeros.bin: compression ratio']);
    expect(z.paths).toHaveLength(30);
  });
});
