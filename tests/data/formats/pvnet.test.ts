import { describe, expect, it } from 'vitest';
import { countBySplit } from '../../../src/data/dataset';
import { loadDataset } from '../../../src/data/load';
import { kLinemodK } from '../../../src/data/formats/pvnet';
import { MemorySource } from '../../../src/data/source/source';
import { pvnetFixture, rotationOf } from '../fixtures';

describe('PVNet LINEMOD loader', () => {
  it('reads .npy poses (metres to mm), metre meshes, LINEMOD ids, symmetry, splits and the LINEMOD camera', async () => {
    const ds = await loadDataset(new MemorySource('fixture', pvnetFixture()), { checkFiles: true });
    expect(ds.problems).toEqual([]);
    expect(ds.format).toBe('pvnet');
    expect(ds.objects.map((o) => [o.id, o.name, o.symmetric])).toEqual([[6, 'cat', false], [11, 'glue', true]]);
    expect(ds.objects[0].diameterMm).toBeCloseTo(Math.hypot(100, 80, 60), 3);
    expect(ds.objects[0].boundsMm.max[0]).toBeCloseTo(50, 4);
    expect(countBySplit(ds)).toEqual([
      { split: 'test', images: 4, instances: 4, masks: 0, masksVisib: 4 },
      { split: 'train', images: 4, instances: 4, masks: 0, masksVisib: 4 },
    ]);
    const im = ds.images.find((i) => i.key === 'cat/2')!;
    expect(Array.from(im.kPx)).toEqual(Array.from(kLinemodK));
    expect([im.widthPx, im.heightPx]).toEqual([640, 480]);
    const ins = im.instances[0];
    expect(Array.from(ins.rM2c)).toEqual(rotationOf(0.4, 0.1, -0.2));
    expect(ins.tM2cMm[0]).toBeCloseTo(20, 9);
    expect(ins.tM2cMm[2]).toBeCloseTo(450, 9);
    expect(ins.maskVisibPath).toBe('LINEMOD/cat/mask/0002.png');
  });

  it('uses a camera.json when one is given', async () => {
    const files = pvnetFixture();
    files.set('LINEMOD/camera.json', new TextEncoder().encode(JSON.stringify({ fx: 500, fy: 501, cx: 320, cy: 240 })));
    const ds = await loadDataset(new MemorySource('fixture', files));
    expect(Array.from(ds.images[0].kPx)).toEqual([500, 0, 320, 0, 501, 240, 0, 0, 1]);
  });
});
