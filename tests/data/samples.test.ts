import { describe, expect, it } from 'vitest';
import { decodePure } from '../../src/data/decode/pure';
import { ImageStore } from '../../src/data/imageStore';
import { loadDataset } from '../../src/data/load';
import { kDefaultSampleOptions, listInstances, makeSample } from '../../src/data/samples';
import { MemorySource } from '../../src/data/source/source';
import { projectModelPoints } from '../../src/solver/projection';
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
    const centre = projectModelPoints([0, 0, 0], s.rM2c, s.tM2cMm, s.kCrop);
    expect(Math.abs(centre[0] - 63.5)).toBeLessThan(20);
    expect(Math.abs(centre[1] - 63.5)).toBeLessThan(20);
    for (const v of s.rgb) expect(v >= 0 && v <= 1).toBe(true);
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
