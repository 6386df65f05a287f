import { describe, expect, it } from 'vitest';
import { decodePure } from '../../src/data/decode/pure';
import { ImageStore } from '../../src/data/imageStore';
import { loadDataset } from '../../src/data/load';
import { MemorySource } from '../../src/data/source/source';
import { bopFixture, kFixtureK, maskPng, rgbPng, rotationOf } from './fixtures';

/**
 * The scale promise: a 20,000-image dataset indexes without reading its images (JSON and one
 * header per scene, which is what keeps it at seconds; the time is printed, not asserted, since a timed
 * test fails with the machine's load rather than with the code), and images are decoded lazily, once,
 * and kept within a byte budget.
 */
describe('scale and lazy decode', () => {
  it('indexes a 20,000-image BOP dataset reading one image header per scene and no image', async () => {
    const files = bopFixture();
    const enc = (s: string) => new TextEncoder().encode(s);
    const png = rgbPng(0);
    const mask = maskPng([60, 40, 40, 40]);
    const kScenes = 20;
    const kPerScene = 1000;
    for (let s = 0; s < kScenes; s++) {
      const dir = `lmfix/train_pbr/${String(s).padStart(6, '0')}`;
      const gt: Record<number, unknown> = {};
      const cam: Record<number, unknown> = {};
      for (let im = 0; im < kPerScene; im++) {
        gt[im] = [{ obj_id: 1 + (im % 2), cam_R_m2c: rotationOf(0.001 * im, 0.2, 0.1), cam_t_m2c: [0, 0, 600] }];
        cam[im] = { cam_K: kFixtureK, depth_scale: 1 };
        const name = String(im).padStart(6, '0');
        files.set(`${dir}/rgb/${name}.png`, png);
        files.set(`${dir}/mask_visib/${name}_000000.png`, mask);
      }
      files.set(`${dir}/scene_gt.json`, enc(JSON.stringify(gt)));
      files.set(`${dir}/scene_camera.json`, enc(JSON.stringify(cam)));
    }
    const source = new MemorySource('big', files);
    // paths of images and masks touched (MemorySource.readHead goes through read, so a set, not a count)
    const touched = new Set<string>();
    const read = source.read.bind(source);
    source.read = (p: string) => { if (/\/rgb\/|\/mask/.test(p)) touched.add(p); return read(p); };
    const readHead = source.readHead.bind(source);
    source.readHead = (p: string, n: number) => { if (/\/rgb\/|\/mask/.test(p)) touched.add(p); return readHead(p, n); };

    const t0 = performance.now();
    const ds = await loadDataset(source);
    const seconds = (performance.now() - t0) / 1000;
    expect(ds.images.filter((i) => i.split === 'train_pbr')).toHaveLength(kScenes * kPerScene);
    expect(ds.problems).toEqual([]);
    // one image header per scene (20 + the fixture's 2), no image or mask otherwise
    expect(touched.size).toBe(kScenes + 2);
    console.log(`[scale] 20,000 images indexed in ${seconds.toFixed(2)} s`);
  });

  it('decodes an image on first use only, shares concurrent requests, and keeps to its byte budget', async () => {
    const files = new Map([0, 1, 2, 3].map((i) => [`rgb/${i}.png`, rgbPng(i)] as [string, Uint8Array]));
    let decodes = 0;
    const counting: typeof decodePure = (bytes, kind) => { decodes++; return decodePure(bytes, kind); };
    const oneImageBytes = 160 * 120 * 4;
    const store = new ImageStore(new MemorySource('m', files), counting, 2 * oneImageBytes);
    const [a, b] = await Promise.all([store.get('rgb/0.png'), store.get('rgb/0.png')]);
    expect(a).toBe(b);
    expect(decodes).toBe(1);
    await store.get('rgb/0.png');
    expect(decodes).toBe(1);
    for (const i of [1, 2, 3]) await store.get(`rgb/${i}.png`);
    expect(store.bytesCached).toBeLessThanOrEqual(2 * oneImageBytes);
    // 0 was evicted (least recently used), so it is decoded again
    await store.get('rgb/0.png');
    expect(decodes).toBe(5);
  });
});
