import { describe, expect, it } from 'vitest';
import { countBySplit, isUsable } from '../../../src/data/dataset';
import { loadDataset } from '../../../src/data/load';
import { MemorySource } from '../../../src/data/source/source';
import { bopFixture, bopPoses, kFixtureK, kH, kW } from '../fixtures';

describe('BOP loader', () => {
  it('loads objects, scenes, splits, K and poses exactly as written', async () => {
    const ds = await loadDataset(new MemorySource('fixture', bopFixture()), { checkFiles: true });
    expect(ds.problems).toEqual([]);
    expect(ds.format).toBe('bop');
    expect(ds.name).toBe('lmfix');
    expect(ds.objects.map((o) => [o.id, o.mesh!.positions.length / 3, o.mesh!.faces.length / 3, o.symmetric])).toEqual([
      [1, 8, 12, false],
      [2, 8, 12, true],
    ]);
    expect(ds.objects[0].diameterMm).toBeCloseTo(Math.hypot(100, 100, 100), 6);
    expect(ds.splits).toEqual(['test', 'train']);
    expect(countBySplit(ds)).toEqual([
      { split: 'test', images: 2, instances: 2, masks: 2, masksVisib: 2 },
      { split: 'train', images: 3, instances: 6, masks: 6, masksVisib: 6 },
    ]);
    expect(isUsable(ds)).toBe(true);
    const gt = bopPoses();
    for (const im of ds.images) {
      expect(Array.from(im.kPx)).toEqual(kFixtureK);
      expect([im.widthPx, im.heightPx]).toEqual([kW, kH]);
      const poses = gt.get(`${im.split}/${im.scene}`)!.get(im.imId)!;
      expect(im.instances.map((i) => i.objId)).toEqual(poses.map((p) => p.objId));
      im.instances.forEach((ins, k) => {
        expect(Array.from(ins.rM2c)).toEqual(poses[k].r);
        expect(Array.from(ins.tM2cMm)).toEqual(poses[k].tMm);
        expect(ins.maskPath).toBe(`lmfix/${im.split}/${im.scene}/mask/${String(im.imId).padStart(6, '0')}_${String(k).padStart(6, '0')}.png`);
        expect(ins.visibFract).toBe(1);
      });
    }
  });
});
