import { describe, expect, it } from 'vitest';
import { decodePure } from '../../src/data/decode/pure';
import { ImageStore } from '../../src/data/image-store';
import { loadDataset } from '../../src/data/load';
import { kDefaultSampleOptions, listInstances, makeSample } from '../../src/data/samples';
import { MemorySource } from '../../src/data/source/source';
import { projectPoints } from '../../src/data/crop';
import { decodeMask } from '../../src/data/mask';
import { bopFixture } from './fixtures';

async function setup() {
  const ds = await loadDataset(new MemorySource('fixture', bopFixture()));
  return { ds, store: new ImageStore(ds.source, decodePure) };
}

describe('samples', () => {
  it('are Float32Arrays of the network size, with the crop K and the pose (no keypoints: train/ derives those)', async () => {
    const { ds, store } = await setup();
    const refs = listInstances(ds);
    expect(refs).toHaveLength(8);
    const s = await makeSample(ds, store, refs[0], { ...kDefaultSampleOptions, augment: false });
    expect(s.rgb).toBeInstanceOf(Float32Array);
    expect(s.rgb.length).toBe(128 * 128 * 3);
    expect(s.mask.length).toBe(128 * 128);
    expect(s.hasMask).toBe(true);
    expect(Object.keys(s)).not.toContain('keypointsPx');
    // the object's origin, projected with the crop's K, is near the middle of an unjittered crop
    const centre = projectPoints([0, 0, 0], s.rM2c, s.tM2cMm, s.kCrop);
    expect(Math.abs(centre[0] - 63.5)).toBeLessThan(20);
    expect(Math.abs(centre[1] - 63.5)).toBeLessThan(20);
    for (const v of s.rgb) expect(v >= 0 && v <= 1).toBe(true);
  });

  it('the crop K carries the crop\'s own pixels: K_crop K^-1 maps the image mask\'s centroid onto the crop mask\'s, jittered or not', async () => {
    const { ds, store } = await setup();
    const aug = { brightness: 0, contrast: 0, saturation: 0, hue: 0, scaleJitter: 0.1, shiftJitter: 0.05, backgroundProb: 0 };
    let worst = 0, checked = 0;
    const mean = [0, 0];
    for (const ref of listInstances(ds)) {
      const ins = ds.images[ref.image].instances[ref.instance];
      const path = ins.maskVisibPath ?? ins.maskPath;
      if (!path) continue;
      const m = decodeMask(await ds.source.read(path), 'png');
      // The image mask's centroid, px (pixel centres at integers, as OpenCV).
      let su = 0, sv = 0, n = 0;
      for (let i = 0; i < m.widthPx * m.heightPx; i++) if (m.rgba[4 * i + 3] > 0 && m.rgba[4 * i] > 0) { su += i % m.widthPx; sv += Math.floor(i / m.widthPx); n++; }
      expect(n, `${path}: object pixels`).toBeGreaterThan(0);
      const K = ds.images[ref.image].kPx;
      for (const [opts, index] of [[{ ...kDefaultSampleOptions, augment: false }, 0], [{ ...kDefaultSampleOptions, augment: aug }, 3]] as const) {
        const s = await makeSample(ds, store, ref, opts, 7, index);
        let cu = 0, cv = 0, cn = 0;
        for (let i = 0; i < s.outPx * s.outPx; i++) { cu += s.mask[i] * (i % s.outPx); cv += s.mask[i] * Math.floor(i / s.outPx); cn += s.mask[i]; }
        // A = K_crop K^-1 (an axis-aligned scale and shift for a zero-skew K): the image point in crop px.
        const [fx, cx, fy, cy] = [K[0], K[2], K[4], K[5]];
        const a = [s.kCrop[0] / fx, s.kCrop[2] - (s.kCrop[0] / fx) * cx, s.kCrop[4] / fy, s.kCrop[5] - (s.kCrop[4] / fy) * cy];
        const du = a[0] * (su / n) + a[1] - cu / cn, dv = a[2] * (sv / n) + a[3] - cv / cn;
        worst = Math.max(worst, Math.hypot(du, dv));
        mean[0] += du;
        mean[1] += dv;
        checked++;
      }
    }
    mean[0] /= checked;
    mean[1] /= checked;
    console.log(`[samples] mask centroid through K_crop K^-1 against the crop's, over ${checked} crops: mean (${mean[0].toFixed(3)}, ${mean[1].toFixed(3)}) px, worst ${worst.toFixed(3)} px`);
    expect(checked).toBeGreaterThanOrEqual(16);
    // The crop's mask is thresholded after bilinear sampling: each crop's centroid moves by up to a few tenths
    // of a pixel, either way (measured: worst 0.60 px, mean (-0.05, 0.01) px over the 16 crops). An error in
    // K_crop moves all of them alike: the mean is bounded at 0.2 px (a half-pixel error in K is 0.5), each
    // crop at 1 px.
    expect(Math.abs(mean[0]), 'mean u offset, px').toBeLessThan(0.2);
    expect(Math.abs(mean[1]), 'mean v offset, px').toBeLessThan(0.2);
    expect(worst).toBeLessThan(1);
  });

  it('augmentation is seeded and repeatable, and differs between seeds', async () => {
    const { ds, store } = await setup();
    const ref = listInstances(ds)[3];
    const a = await makeSample(ds, store, ref, kDefaultSampleOptions, 42, 5);
    const b = await makeSample(ds, store, ref, kDefaultSampleOptions, 42, 5);
    const c = await makeSample(ds, store, ref, kDefaultSampleOptions, 43, 5);
    expect(Array.from(a.rgb)).toEqual(Array.from(b.rgb));
    expect(Array.from(a.kCrop)).toEqual(Array.from(b.kCrop));
    expect(Array.from(a.rgb)).not.toEqual(Array.from(c.rgb));
    expect(Array.from(a.kCrop)).not.toEqual(Array.from(c.kCrop));
  });

  it('background replacement changes only pixels outside the mask', async () => {
    const { ds, store } = await setup();
    const ref = listInstances(ds)[0];
    const aug = { brightness: 0, contrast: 0, saturation: 0, hue: 0, scaleJitter: 0, shiftJitter: 0, backgroundProb: 1 };
    const plain = await makeSample(ds, store, ref, { ...kDefaultSampleOptions, augment: false });
    const repl = await makeSample(ds, store, ref, { ...kDefaultSampleOptions, augment: aug }, 1, 0);
    let changedOutside = 0;
    for (let i = 0; i < plain.mask.length; i++) {
      const same = [0, 1, 2].every((k) => Math.abs(plain.rgb[3 * i + k] - repl.rgb[3 * i + k]) < 1e-6);
      if (plain.mask[i] === 1) expect(same).toBe(true);
      else if (!same) changedOutside++;
    }
    expect(changedOutside).toBeGreaterThan(1000);
  });
});
