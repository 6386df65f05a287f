import { describe, expect, it } from 'vitest';
import type { Dataset, DatasetImage } from '../../src/data/dataset';
import { MemorySource } from '../../src/data/source/source';
import { splitDataset } from '../../src/data/split';

function fakeDataset(splits: string[], perScene: number): Dataset {
  const images: DatasetImage[] = [];
  for (const split of splits) for (const scene of ['000001', '000002']) for (let i = 0; i < perScene; i++) {
    images.push({ key: `${split}/${scene}/${i}`, split, scene, imId: i, rgbPath: '', kPx: new Float64Array(9), widthPx: 640, heightPx: 480, instances: [] });
  }
  return { format: 'bop', name: 'x', objects: [], images, splits, problems: [], source: new MemorySource('m', new Map()) };
}

describe('train/test split', () => {
  it("uses the dataset's own split when it has train and test", () => {
    const s = splitDataset(fakeDataset(['train_pbr', 'test'], 10), { mode: 'auto' });
    expect(s.train).toHaveLength(20);
    expect(s.test).toHaveLength(20);
  });

  it('falls back to a seeded 15% per scene, repeatable, and configurable', () => {
    const ds = fakeDataset(['test'], 100);
    const a = splitDataset(ds, { mode: 'auto', seed: 5 });
    const b = splitDataset(ds, { mode: 'seeded', seed: 5 });
    expect(a.train).toEqual(b.train);
    expect(a.train).toHaveLength(30);
    expect(a.test).toHaveLength(170);
    expect(new Set([...a.train, ...a.test]).size).toBe(200);
    expect(a.train.filter((i) => i < 100)).toHaveLength(15);
    expect(splitDataset(ds, { mode: 'seeded', seed: 6 }).train).not.toEqual(a.train);
    expect(splitDataset(ds, { mode: 'seeded', trainFraction: 0.5 }).train).toHaveLength(100);
    // independent of listing order
    const rev = { ...ds, images: [...ds.images].reverse() };
    const r = splitDataset(rev, { mode: 'seeded', seed: 5 });
    expect(r.train.map((i) => rev.images[i].key).sort()).toEqual(a.train.map((i) => ds.images[i].key).sort());
  });
});
