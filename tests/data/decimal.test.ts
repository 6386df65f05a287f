import { describe, expect, it } from 'vitest';
import { cameraFromFxFyCxCy } from '../../src/data/camera';
import { decimal } from '../../src/data/decimal';

describe('decimal', () => {
  it('reads plain decimals with sign and exponent, and nothing Number() would also read', () => {
    expect(['1', '-2.5', '+.5', '3.', '1e3', '2.5E-2', ' 7 '].map(decimal)).toEqual([1, -2.5, 0.5, 3, 1000, 0.025, 7]);
    for (const s of ['', ' ', '0x10', '0b1', 'Infinity', '-Infinity', 'NaN', '1,5', '1e', '.', '--1', '1 2']) expect(decimal(s), JSON.stringify(s)).toBeNaN();
  });

  it('--K takes four plain decimals: an empty or hexadecimal field is not a focal length', () => {
    expect(cameraFromFxFyCxCy('572.4,573.6,325.3,242').kPx).toEqual([572.4, 0, 325.3, 0, 573.6, 242, 0, 0, 1]);
    expect(() => cameraFromFxFyCxCy(',573.6,325.3,242')).toThrow('--K ,573.6,325.3,242: expected four numbers fx,fy,cx,cy');
    expect(() => cameraFromFxFyCxCy('0x10,573.6,325.3,242')).toThrow('expected four numbers fx,fy,cx,cy');
  });
});
