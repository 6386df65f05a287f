import { describe, expect, it } from 'vitest';
import { parseNpy, writeNpy, NpyError } from '../../src/data/npy';

/** A .npy as numpy writes it (format 1.0), for any dtype and order. */
function npy(descr: string, fortran: boolean, shape: number[], body: Uint8Array): Uint8Array {
  let header = `{'descr': '${descr}', 'fortran_order': ${fortran ? 'True' : 'False'}, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  header += ' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + body.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  out.set(body, 10 + header.length);
  return out;
}

describe('.npy', () => {
  it('round-trips float64 C order', () => {
    const a = parseNpy(writeNpy([3, 4], Array.from({ length: 12 }, (_, i) => i + 0.5)));
    expect(a.shape).toEqual([3, 4]);
    expect(a.data[5]).toBe(5.5);
  });

  it('reads big-endian float32 in Fortran order as C order', () => {
    // C-order matrix [[1,2,3,4],[5,6,7,8],[9,10,11,12]] stored column by column
    const cols = [1, 5, 9, 2, 6, 10, 3, 7, 11, 4, 8, 12];
    const body = new Uint8Array(48);
    cols.forEach((v, i) => new DataView(body.buffer).setFloat32(4 * i, v, false));
    const a = parseNpy(npy('>f4', true, [3, 4], body));
    expect(Array.from(a.data)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  });

  it('says what is wrong with a bad file', () => {
    expect(() => parseNpy(new Uint8Array([1, 2, 3]))).toThrow(NpyError);
    expect(() => parseNpy(npy('<f8', false, [3, 4], new Uint8Array(16)))).toThrow(/needs 96/);
    expect(() => parseNpy(npy('<c16', false, [1], new Uint8Array(16)))).toThrow(/not supported/);
  });
});
