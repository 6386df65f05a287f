/** BOP's paths (src/data/bopNames.ts): the ids a BOP results line gives its image. */
import { describe, expect, it } from 'vitest';
import { bopIdsOf } from '../../src/data/bopNames';

describe('bopIdsOf', () => {
  it('reads scene and image ids from BOP image paths only', () => {
    expect(bopIdsOf('lm/test/000002/rgb/000123.png')).toEqual({ sceneId: 2, imId: 123 });
    expect(bopIdsOf('itodd/val/000001/gray/000004.JPG')).toEqual({ sceneId: 1, imId: 4 });
    expect(bopIdsOf('000002/rgb/000007.jpeg')).toEqual({ sceneId: 2, imId: 7 });
    // Numbers around any other folder are not BOP ids (a holiday folder is not scene 2024).
    for (const p of ['photos/2024/trip/0001.jpg', '000002/mask/000007.png', '000002/rgb/IMG_7.jpg', 'x/000002/rgb/000007.tif']) expect(bopIdsOf(p), p).toBeUndefined();
  });
});
