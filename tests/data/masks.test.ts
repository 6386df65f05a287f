import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { encode as encodePng } from 'fast-png';
import jpeg from 'jpeg-js';
import { describe, expect, it } from 'vitest';
import { kDefaultAugment } from '../../src/data/augment';
import { decodePure } from '../../src/data/decode/pure';
import { ImageStore } from '../../src/data/imageStore';
import type { DatasetReport } from '../../src/data/inspect';
import { loadDataset } from '../../src/data/load';
import { decodeMask } from '../../src/data/mask';
import { problemLine } from '../../src/data/problems';
import { listInstances, makeSample } from '../../src/data/samples';
import { MemorySource } from '../../src/data/source/source';
import { bopFixture, kH, kW, pvnetFixture, writeTree, type Files } from './fixtures';

/**
 * Issue 13, item 2: a mask's object pixels are its non-zero pixels in every common encoding (as the BOP
 * toolkit and PVNet read them); an empty mask of a visible instance is a problem line; BOP masks are
 * matched by the ids in their names; stray mask files are listed; inspect counts masks per split.
 */
const kRepo = fileURLToPath(new URL('../..', import.meta.url));

/** The object region of every test mask: a 6x4 block at (5, 3) in a 16x10 image. */
const W = 16, H = 10;
const inBox = (x: number, y: number) => x >= 5 && x < 11 && y >= 3 && y < 7;
function fill<T extends Uint8Array | Uint16Array>(arr: T, ch: number, on: number[], off: number[]): T {
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
    const v = inBox(x, y) ? on : off;
    for (let k = 0; k < ch; k++) arr[(y * W + x) * ch + k] = v[k];
  }
  return arr;
}
function pack(bits: number, values: number[]): Uint8Array {
  const rowBytes = Math.ceil((W * bits) / 8);
  const out = new Uint8Array(rowBytes * H);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
    const v = values[y * W + x];
    const bit = x * bits;
    out[y * rowBytes + (bit >> 3)] |= v << (8 - bits - (bit & 7));
  }
  return out;
}
const boxValues = (on: number) => Array.from({ length: W * H }, (_, i) => (inBox(i % W, Math.floor(i / W)) ? on : 0));

const encodings: [string, Uint8Array, 'png' | 'jpeg'][] = [
  ['8-bit grey 0/1 (a boolean saved as PNG)', encodePng({ width: W, height: H, channels: 1, depth: 8, data: fill(new Uint8Array(W * H), 1, [1], [0]) }), 'png'],
  ['8-bit grey 0/255', encodePng({ width: W, height: H, channels: 1, depth: 8, data: fill(new Uint8Array(W * H), 1, [255], [0]) }), 'png'],
  ['8-bit grey label 7', encodePng({ width: W, height: H, channels: 1, depth: 8, data: fill(new Uint8Array(W * H), 1, [7], [0]) }), 'png'],
  ['16-bit grey 0/1', encodePng({ width: W, height: H, channels: 1, depth: 16, data: fill(new Uint16Array(W * H), 1, [1], [0]) }), 'png'],
  ['16-bit grey 0/65535', encodePng({ width: W, height: H, channels: 1, depth: 16, data: fill(new Uint16Array(W * H), 1, [65535], [0]) }), 'png'],
  ['1-bit grey', encodePng({ width: W, height: H, channels: 1, depth: 1, data: pack(1, boxValues(1)) }), 'png'],
  ['8-bit palette, index 1 = red', encodePng({ width: W, height: H, channels: 1, depth: 8, palette: [[0, 0, 0], [255, 0, 0]], data: fill(new Uint8Array(W * H), 1, [1], [0]) }), 'png'],
  ['4-bit palette, index 3', encodePng({ width: W, height: H, channels: 1, depth: 4, palette: [[0, 0, 0], [9, 9, 9], [1, 2, 3], [0, 128, 0]], data: pack(4, boxValues(3)) }), 'png'],
  ['grey+alpha, white object on black', encodePng({ width: W, height: H, channels: 2, depth: 8, data: fill(new Uint8Array(W * H * 2), 2, [255, 255], [0, 255]) }), 'png'],
  ['grey+alpha, silhouette in alpha only', encodePng({ width: W, height: H, channels: 2, depth: 8, data: fill(new Uint8Array(W * H * 2), 2, [255, 255], [255, 0]) }), 'png'],
  ['RGB, object (0, 0, 1)', encodePng({ width: W, height: H, channels: 3, depth: 8, data: fill(new Uint8Array(W * H * 3), 3, [0, 0, 1], [0, 0, 0]) }), 'png'],
  ['RGBA, green object', encodePng({ width: W, height: H, channels: 4, depth: 8, data: fill(new Uint8Array(W * H * 4), 4, [0, 200, 0, 255], [0, 0, 0, 255]) }), 'png'],
  ['RGBA 16-bit, object 1', encodePng({ width: W, height: H, channels: 4, depth: 16, data: fill(new Uint16Array(W * H * 4), 4, [1, 0, 0, 65535], [0, 0, 0, 65535]) }), 'png'],
  ['JPEG 0/255', new Uint8Array(jpeg.encode({ width: W, height: H, data: fill(new Uint8Array(W * H * 4), 4, [255, 255, 255, 255], [0, 0, 0, 255]) }, 95).data), 'jpeg'],
];

describe('masks in every encoding', () => {
  it.each(encodings)('%s: the object is exactly the non-zero pixels', (_name, bytes, kind) => {
    const m = decodeMask(bytes, kind);
    expect([m.widthPx, m.heightPx]).toEqual([W, H]);
    const got: boolean[] = [];
    for (let i = 0; i < W * H; i++) got.push(m.rgba[4 * i] === 255);
    expect(got).toEqual(boxValues(1).map((v) => v === 1));
    expect(m.objectPixels).toBe(24);
    // The block's pixel areas: x 4.5 .. 10.5, y 2.5 .. 6.5.
    expect(m.boxPx).toEqual([4.5, 2.5, 6, 4]);
  });

  it('the mask box spans exactly the object pixels of a scattered mask, and an empty mask has none', () => {
    const values = new Uint8Array(W * H);
    const on = [[7, 1], [2, 5], [13, 8], [9, 4]];
    for (const [x, y] of on) values[y * W + x] = 255;
    const m = decodeMask(encodePng({ width: W, height: H, channels: 1, depth: 8, data: values }), 'png');
    // Leftmost x 2, rightmost 13, top y 1, bottom 8, each pixel's area included.
    expect(m.boxPx).toEqual([1.5, 0.5, 12, 8]);
    expect(m.objectPixels).toBe(4);
    expect(decodeMask(encodePng({ width: W, height: H, channels: 1, depth: 8, data: new Uint8Array(W * H) }), 'png').boxPx).toBeUndefined();
  });

  it('0/1 masks crop the object and keep it through background replacement (PVNet layout)', async () => {
    const files = pvnetFixture('LINEMOD/');
    for (const [p] of files) {
      if (!/\/mask\/\d+\.png$/.test(p)) continue;
      const d = new Uint8Array(640 * 480);
      for (let y = 200; y < 240; y++) for (let x = 300; x < 340; x++) d[y * 640 + x] = 1;
      files.set(p, encodePng({ width: 640, height: 480, channels: 1, depth: 8, data: d }));
    }
    const ds = await loadDataset(new MemorySource('m', files), { checkFiles: { decode: decodePure } });
    expect(ds.problems).toEqual([]);
    const store = new ImageStore(ds.source, decodePure);
    const ref = listInstances(ds)[0];
    const plain = await makeSample(ds, store, ref, { outPx: 32, padding: 0, cropFrom: 'mask', augment: false }, 0, 0);
    expect(plain.hasMask).toBe(true);
    // padding 0: the crop is the mask's box, so every crop pixel is object.
    expect(plain.mask.reduce((a, v) => a + v, 0)).toBeGreaterThan(0.9 * 32 * 32);
    const aug = await makeSample(ds, store, ref, {
      outPx: 32, padding: 0.5, cropFrom: 'mask',
      augment: { ...kDefaultAugment, backgroundProb: 1, brightness: 0, contrast: 0, saturation: 0, hue: 0, scaleJitter: 0, shiftJitter: 0 },
    }, 1, 0);
    const ref0 = await makeSample(ds, store, ref, { outPx: 32, padding: 0.5, cropFrom: 'mask', augment: false }, 1, 0);
    let kept = 0, object = 0;
    for (let i = 0; i < 32 * 32; i++) {
      if (aug.mask[i] < 0.5) continue;
      object++;
      if ([0, 1, 2].every((k) => aug.rgb[3 * i + k] === ref0.rgb[3 * i + k])) kept++;
    }
    expect(object).toBeGreaterThan(100);
    expect(kept).toBe(object);
  });

  it('an empty mask of a visible instance is a problem line and is not used; an empty one of a hidden instance is fine', async () => {
    const files = bopFixture('mydata/');
    const empty = encodePng({ width: kW, height: kH, channels: 1, depth: 8, data: new Uint8Array(kW * kH) });
    files.set('mydata/train/000000/mask_visib/000001_000000.png', empty);
    files.set('mydata/train/000000/mask_visib/000002_000000.png', empty);
    const info = JSON.parse(new TextDecoder().decode(files.get('mydata/train/000000/scene_gt_info.json')!)) as Record<string, { visib_fract: number }[]>;
    info['2'][0].visib_fract = 0;
    files.set('mydata/train/000000/scene_gt_info.json', new TextEncoder().encode(JSON.stringify(info)));
    const ds = await loadDataset(new MemorySource('m', files), { checkFiles: { decode: decodePure } });
    const lines = ds.problems.map(problemLine).filter((l) => !l.includes('symmetries'));
    expect(lines).toEqual(['mydata/train/000000/mask_visib/000001_000000.png: mask: empty: no non-zero pixel for a visible instance of obj_id 1 (visib_fract 1); mask not used']);
    const im1 = ds.images.find((im) => im.key === 'train/000000/1')!;
    expect(im1.instances[0].maskVisibPath).toBeUndefined();
    expect(im1.instances[0].maskPath).toBeDefined();
  });

  it('BOP masks are matched by the ids in their names (any padding or extension); unmatched and misnamed files are listed', async () => {
    const files = bopFixture('mydata/');
    const scene = 'mydata/test/000001';
    files.set(`${scene}/mask/1_0.png`, files.get(`${scene}/mask/000001_000000.png`)!);
    files.delete(`${scene}/mask/000001_000000.png`);
    files.set(`${scene}/mask_visib/0000_0000.PNG`, files.get(`${scene}/mask_visib/000000_000000.png`)!);
    files.delete(`${scene}/mask_visib/000000_000000.png`);
    files.set(`${scene}/mask/000000_000003.png`, files.get(`${scene}/mask/1_0.png`)!);
    files.set(`${scene}/mask/000009_000000.png`, files.get(`${scene}/mask/1_0.png`)!);
    files.set(`${scene}/mask_visib/notes.txt`, new TextEncoder().encode('x'));
    const ds = await loadDataset(new MemorySource('m', files));
    const test = ds.images.filter((im) => im.split === 'test');
    expect(test.map((im) => [im.instances[0].maskPath, im.instances[0].maskVisibPath])).toEqual([
      [`${scene}/mask/000000_000000.png`, `${scene}/mask_visib/0000_0000.PNG`],
      [`${scene}/mask/1_0.png`, `${scene}/mask_visib/000001_000000.png`],
    ]);
    const lines = ds.problems.map(problemLine);
    expect(lines).toContain(`${scene}/mask: 2 mask files match no ground-truth instance (<im_id>_<gt_id> not in scene_gt.json): 000000_000003.png, 000009_000000.png; not used`);
    expect(lines).toContain(`${scene}/mask_visib: not named <im_id>_<gt_id>.png: notes.txt; ignored`);
  });

  it('PVNet: a mask file that matches no image is listed', async () => {
    const files = pvnetFixture('LINEMOD/');
    files.set('LINEMOD/cat/mask/0042.png', files.get('LINEMOD/cat/mask/0000.png')!);
    const ds = await loadDataset(new MemorySource('m', files));
    expect(ds.problems.map(problemLine)).toContain('LINEMOD/cat/mask: masks 0042.png match no image and no pose; not used');
  });

  it('inspect --json reports masks and masksVisib per split', () => {
    const files: Files = bopFixture('mydata/');
    files.delete('mydata/train/000000/mask/000000_000001.png');
    for (const p of [...files.keys()]) if (p.startsWith('mydata/test/000001/mask_visib/')) files.delete(p);
    const r = spawnSync('npm', ['run', '--silent', 'dataset', '--', 'inspect', writeTree(files), '--json'], { cwd: kRepo, encoding: 'utf8', timeout: 120_000 });
    const report = JSON.parse(r.stdout) as DatasetReport;
    expect(report.splits).toEqual([
      { split: 'test', images: 2, instances: 2, masks: 2, masksVisib: 0 },
      { split: 'train', images: 3, instances: 6, masks: 5, masksVisib: 6 },
    ]);
  });
});
