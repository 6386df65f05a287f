import * as THREE from 'three';
import { mergeGeometries } from 'three/examples/jsm/utils/BufferGeometryUtils.js';
import type { Mesh } from '../../src/data/mesh';
import { Rng } from '../../src/data/rng';

/**
 * The bundled dataset's object, made here (so it is ours to license): a "watering can" about 150 mm
 * across: a lathed body, a handle on one side, a spout on the other and an off-centre lid knob, so no
 * rotation maps it onto itself. One texture atlas, each part using its own quarter. Millimetres,
 * centred on its bounding box.
 */
export function toyMesh(): Mesh {
  const profile = [
    [0, 0], [38, 0], [44, 6], [46, 30], [44, 62], [36, 84], [24, 94], [22, 100], [0, 100],
  ].map(([r, y]) => new THREE.Vector2(r, y));
  const body = new THREE.LatheGeometry(profile, 48);
  atlas(body, 0, 0.5, 1, 1);

  const handle = new THREE.TorusGeometry(26, 6, 12, 32, Math.PI * 1.1);
  handle.rotateZ(-Math.PI * 0.55);
  handle.translate(-40, 55, 0);
  atlas(handle, 0, 0, 0.5, 0.5);

  const spout = new THREE.CylinderGeometry(5, 9, 70, 20, 1, false);
  spout.rotateZ(-Math.PI / 3.2);
  spout.translate(62, 52, 0);
  atlas(spout, 0.5, 0, 1, 0.5);

  const knob = new THREE.SphereGeometry(9, 20, 12);
  knob.translate(8, 104, 10);
  atlas(knob, 0.5, 0, 1, 0.5);

  const merged = mergeGeometries([body, handle, spout, knob].map((g) => g.toNonIndexed()), false);
  if (!merged) throw new Error('toyMesh: mergeGeometries failed');
  merged.computeBoundingBox();
  const c = new THREE.Vector3();
  merged.boundingBox!.getCenter(c);
  merged.translate(-c.x, -c.y, -c.z);
  const geo = indexed(merged);
  return {
    positions: Float32Array.from(geo.getAttribute('position').array),
    normals: Float32Array.from(geo.getAttribute('normal').array),
    uvs: Float32Array.from(geo.getAttribute('uv').array),
    faces: Uint32Array.from(geo.getIndex()!.array),
    textureFile: 'obj_000001.png',
  };
}

/** Welds identical vertices (position, normal, uv) back into an indexed mesh. */
function indexed(g: THREE.BufferGeometry): THREE.BufferGeometry {
  const pos = g.getAttribute('position'), nor = g.getAttribute('normal'), uv = g.getAttribute('uv');
  const key = new Map<string, number>();
  const p: number[] = [], n: number[] = [], t: number[] = [], idx: number[] = [];
  for (let i = 0; i < pos.count; i++) {
    const k = [pos.getX(i), pos.getY(i), pos.getZ(i), nor.getX(i), nor.getY(i), nor.getZ(i), uv.getX(i), uv.getY(i)].map((v) => v.toFixed(4)).join(',');
    let at = key.get(k);
    if (at === undefined) {
      at = p.length / 3;
      key.set(k, at);
      p.push(pos.getX(i), pos.getY(i), pos.getZ(i));
      n.push(nor.getX(i), nor.getY(i), nor.getZ(i));
      t.push(uv.getX(i), uv.getY(i));
    }
    idx.push(at);
  }
  const out = new THREE.BufferGeometry();
  out.setAttribute('position', new THREE.Float32BufferAttribute(p, 3));
  out.setAttribute('normal', new THREE.Float32BufferAttribute(n, 3));
  out.setAttribute('uv', new THREE.Float32BufferAttribute(t, 2));
  out.setIndex(idx);
  return out;
}

function atlas(g: THREE.BufferGeometry, u0: number, v0: number, u1: number, v1: number): void {
  const uv = g.getAttribute('uv');
  for (let i = 0; i < uv.count; i++) uv.setXY(i, u0 + (u1 - u0) * uv.getX(i), v0 + (v1 - v0) * uv.getY(i));
}

/**
 * The texture atlas, RGB [size, size, 3], row 0 at the top (PNG order; uv v = 1 is the top row).
 * Top half (body): bands of colour with dots and a zigzag, different all round, so the body's spin is
 * visible. Bottom-left (handle): stripes. Bottom-right (spout, knob): checks.
 */
export function toyTexture(size = 512): Uint8Array {
  const rgb = new Uint8Array(size * size * 3);
  const rng = new Rng(2024);
  const dots = Array.from({ length: 40 }, () => ({ x: rng.uniform(0, size), y: rng.uniform(0, size / 2), r: rng.uniform(6, 18), c: [rng.int(256), rng.int(256), rng.int(256)] }));
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let c: number[];
      if (y < size / 2) {
        const band = Math.floor((y / (size / 2)) * 6);
        const hue = (x / size + band * 0.17) % 1;
        c = hsv(hue, 0.55, 0.85);
        const zig = Math.abs(((x / 32) % 2) - 1) * 24 + 100;
        if (Math.abs(y - zig) < 5) c = [30, 30, 40];
        for (const d of dots) if ((x - d.x) ** 2 + (y - d.y) ** 2 < d.r * d.r) c = d.c;
      } else if (x < size / 2) {
        c = Math.floor(x / 24) % 2 ? [200, 60, 40] : [240, 220, 180];
      } else {
        c = (Math.floor(x / 32) + Math.floor(y / 32)) % 2 ? [40, 90, 170] : [250, 200, 60];
      }
      rgb.set(c, 3 * (y * size + x));
    }
  }
  return rgb;
}

function hsv(h: number, s: number, v: number): number[] {
  const i = Math.floor(h * 6), f = h * 6 - i;
  const p = v * (1 - s), q = v * (1 - f * s), t = v * (1 - (1 - f) * s);
  const [r, g, b] = [[v, t, p], [q, v, p], [p, v, t], [p, q, v], [t, p, v], [v, p, q]][i % 6];
  return [r * 255, g * 255, b * 255].map(Math.round);
}
