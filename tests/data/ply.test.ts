import { describe, expect, it } from 'vitest';
import { parsePly, PlyError, writePly } from '../../src/data/ply';
import { boxMesh } from './fixtures';

const enc = (s: string) => new TextEncoder().encode(s);

describe('PLY', () => {
  it('reads ASCII with colours, fanning a quad into two triangles', () => {
    const text = `ply\nformat ascii 1.0\ncomment TextureFile tex.png\nelement vertex 4\nproperty float x\nproperty float y\nproperty float z\nproperty uchar red\nproperty uchar green\nproperty uchar blue\nelement face 1\nproperty list uchar int vertex_indices\nend_header\n0 0 0 255 0 0\n1 0 0 0 255 0\n1 1 0 0 0 255\n0 1 0 9 9 9\n4 0 1 2 3\n`;
    const { mesh, hasFaces } = parsePly(enc(text));
    expect(hasFaces).toBe(true);
    expect(Array.from(mesh.faces)).toEqual([0, 1, 2, 0, 2, 3]);
    expect(Array.from(mesh.colors!.subarray(0, 3))).toEqual([255, 0, 0]);
    expect(mesh.textureFile).toBe('tex.png');
  });

  it('round-trips binary little-endian, and reads big-endian', () => {
    const m = boxMesh(10, 20, 30);
    const back = parsePly(writePly({ ...m, uvs: new Float32Array(16).fill(0.5) })).mesh;
    expect(Array.from(back.positions)).toEqual(Array.from(m.positions));
    expect(Array.from(back.faces)).toEqual(Array.from(m.faces));
    expect(back.uvs![3]).toBe(0.5);

    const header = enc('ply\nformat binary_big_endian 1.0\nelement vertex 1\nproperty double x\nproperty double y\nproperty double z\nend_header\n');
    const body = new Uint8Array(24);
    const v = new DataView(body.buffer);
    [1.5, -2, 3].forEach((x, i) => v.setFloat64(8 * i, x, false));
    const bytes = new Uint8Array(header.length + 24);
    bytes.set(header);
    bytes.set(body, header.length);
    const r = parsePly(bytes);
    expect(Array.from(r.mesh.positions)).toEqual([1.5, -2, 3]);
    expect(r.hasFaces).toBe(false);
  });

  it('names the field of a broken file', () => {
    expect(() => parsePly(enc('hello'))).toThrow(PlyError);
    const bad = enc('ply\nformat ascii 1.0\nelement vertex 1\nproperty float x\nproperty float y\nproperty float z\nelement face 1\nproperty list uchar int vertex_indices\nend_header\n0 0 0\n3 0 1 2\n');
    try {
      parsePly(bad);
      expect.unreachable();
    } catch (e) {
      expect((e as PlyError).field).toBe('element face 0');
      expect((e as PlyError).message).toBe('vertex index 1 out of range (1 vertices)');
    }
  });
});
