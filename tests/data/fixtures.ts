import { encode as encodePng } from 'fast-png';
import jpeg from 'jpeg-js';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Mesh } from '../../src/data/mesh';
import { writeNpy } from '../../src/data/npy';
import { writePly } from '../../src/data/ply';
import { projectedBoxPx } from '../../src/data/validate';

/**
 * Small datasets made in memory for the tests, in both layouts: a cube and a box-shaped object, two
 * scenes (BOP) or two classes (PVNet), 160x120 px images with a known K and exact poses.
 */
export type Files = Map<string, Uint8Array>;

const enc = (s: string) => new TextEncoder().encode(s);

export function boxMesh(sx: number, sy: number, sz: number): Mesh {
  const positions = new Float32Array(24);
  for (let i = 0; i < 8; i++) {
    positions[3 * i] = (i & 1 ? 0.5 : -0.5) * sx;
    positions[3 * i + 1] = (i & 2 ? 0.5 : -0.5) * sy;
    positions[3 * i + 2] = (i & 4 ? 0.5 : -0.5) * sz;
  }
  // 6 faces x 2 triangles; corner index bits: x=1, y=2, z=4
  const quads = [[0, 2, 3, 1], [4, 5, 7, 6], [0, 1, 5, 4], [2, 6, 7, 3], [0, 4, 6, 2], [1, 3, 7, 5]];
  const faces = new Uint32Array(quads.flatMap(([a, b, c, d]) => [a, b, c, a, c, d]));
  return { positions, faces };
}

/** Rodrigues: axis-angle [3] (radians) to row-major R [9]. */
export function rotationOf(rx: number, ry: number, rz: number): number[] {
  const th = Math.hypot(rx, ry, rz);
  if (th < 1e-12) return [1, 0, 0, 0, 1, 0, 0, 0, 1];
  const [x, y, z] = [rx / th, ry / th, rz / th];
  const c = Math.cos(th), s = Math.sin(th), C = 1 - c;
  return [
    c + x * x * C, x * y * C - z * s, x * z * C + y * s,
    y * x * C + z * s, c + y * y * C, y * z * C - x * s,
    z * x * C - y * s, z * y * C + x * s, c + z * z * C,
  ];
}

export const kFixtureK = [150, 0, 79.5, 0, 150, 59.5, 0, 0, 1];
export const kW = 160;
export const kH = 120;

export function rgbPng(seed: number, w = kW, h = kH): Uint8Array {
  const data = new Uint8Array(w * h * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7 + seed * 31) & 0xff;
  return encodePng({ width: w, height: h, data, channels: 3, depth: 8 });
}

export function rgbJpeg(seed: number, w = kW, h = kH): Uint8Array {
  const data = new Uint8Array(w * h * 4);
  for (let i = 0; i < data.length; i++) data[i] = (i * 3 + seed * 17) & 0xff;
  return new Uint8Array(jpeg.encode({ width: w, height: h, data }, 90).data);
}

/** A greyscale mask, 255 inside the box [x, y, w, h]. */
export function maskPng(box: number[], w = kW, h = kH): Uint8Array {
  const data = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    if (x >= box[0] && x < box[0] + box[2] && y >= box[1] && y < box[1] + box[3]) data[y * w + x] = 255;
  }
  return encodePng({ width: w, height: h, data, channels: 1, depth: 8 });
}

const pad6 = (n: number) => String(n).padStart(6, '0');

export interface GtPose {
  objId: number;
  r: number[];
  tMm: number[];
}

/** Ground truth of the BOP fixture: scene -> im_id -> poses. */
export function bopPoses(): Map<string, Map<number, GtPose[]>> {
  const scenes = new Map<string, Map<number, GtPose[]>>();
  const train = new Map<number, GtPose[]>();
  for (let im = 0; im < 3; im++) {
    train.set(im, [
      { objId: 1, r: rotationOf(0.3 * im, 0.2, 0.1), tMm: [-60 + 10 * im, 0, 600] },
      { objId: 2, r: rotationOf(0.1, -0.4 * im, 0.3), tMm: [80, 20, 700] },
    ]);
  }
  scenes.set('train/000000', train);
  const test = new Map<number, GtPose[]>();
  for (let im = 0; im < 2; im++) test.set(im, [{ objId: 1, r: rotationOf(0, 0.5 * im, 0), tMm: [0, 10, 500] }]);
  scenes.set('test/000001', test);
  return scenes;
}

export const kObjSizesMm: Record<number, [number, number, number]> = { 1: [100, 100, 100], 2: [120, 60, 40] };

export function bopFixture(root = 'lmfix/'): Files {
  const files: Files = new Map();
  const info: Record<string, unknown> = {};
  for (const [id, s] of Object.entries(kObjSizesMm)) {
    files.set(`${root}models/obj_${pad6(Number(id))}.ply`, writePly(boxMesh(...s)));
    info[id] = {
      diameter: Math.hypot(...s),
      min_x: -s[0] / 2, min_y: -s[1] / 2, min_z: -s[2] / 2, size_x: s[0], size_y: s[1], size_z: s[2],
      ...(Number(id) === 2 ? { symmetries_discrete: [[-1, 0, 0, 0, 0, -1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]] } : {}),
    };
  }
  files.set(`${root}models/models_info.json`, enc(JSON.stringify(info)));
  for (const [scene, ims] of bopPoses()) {
    const gt: Record<string, unknown> = {};
    const cam: Record<string, unknown> = {};
    const gtInfo: Record<string, unknown> = {};
    for (const [im, poses] of ims) {
      gt[im] = poses.map((p) => ({ obj_id: p.objId, cam_R_m2c: p.r, cam_t_m2c: p.tMm }));
      cam[im] = { cam_K: kFixtureK, depth_scale: 1 };
      const boxes = poses.map((p) => {
        const s = kObjSizesMm[p.objId];
        return projectedBoxPx(writePlyCorners(s), p.r, p.tMm, kFixtureK)!.map(Math.round);
      });
      gtInfo[im] = boxes.map((b) => ({ bbox_obj: b, bbox_visib: b, visib_fract: 1 }));
      files.set(`${root}${scene}/rgb/${pad6(im)}.png`, rgbPng(im));
      boxes.forEach((b, gtId) => {
        files.set(`${root}${scene}/mask/${pad6(im)}_${pad6(gtId)}.png`, maskPng(b));
        files.set(`${root}${scene}/mask_visib/${pad6(im)}_${pad6(gtId)}.png`, maskPng(b));
      });
    }
    files.set(`${root}${scene}/scene_gt.json`, enc(JSON.stringify(gt)));
    files.set(`${root}${scene}/scene_camera.json`, enc(JSON.stringify(cam)));
    files.set(`${root}${scene}/scene_gt_info.json`, enc(JSON.stringify(gtInfo)));
  }
  return files;
}

function writePlyCorners(s: [number, number, number]): number[] {
  const out: number[] = [];
  for (let i = 0; i < 8; i++) out.push((i & 1 ? 0.5 : -0.5) * s[0], (i & 2 ? 0.5 : -0.5) * s[1], (i & 4 ? 0.5 : -0.5) * s[2]);
  return out;
}

/** PVNet LINEMOD layout: classes 'cat' (obj 6) and 'glue' (obj 11, symmetric), meshes in metres. */
export function pvnetFixture(root = 'LINEMOD/'): Files {
  const files: Files = new Map();
  const classes: [string, [number, number, number]][] = [['cat', [0.1, 0.08, 0.06]], ['glue', [0.04, 0.04, 0.12]]];
  for (const [cls, s] of classes) {
    files.set(`${root}${cls}/${cls}.ply`, writePly(boxMesh(...s)));
    for (let i = 0; i < 4; i++) {
      const r = rotationOf(0.2 * i, 0.1, -0.1 * i);
      const t = [0.01 * i, -0.02, 0.45];
      const pose = [r[0], r[1], r[2], t[0], r[3], r[4], r[5], t[1], r[6], r[7], r[8], t[2]];
      files.set(`${root}${cls}/pose/pose${i}.npy`, writeNpy([3, 4], pose));
      files.set(`${root}${cls}/JPEGImages/${pad6(i)}.jpg`, rgbJpeg(i, 640, 480));
      files.set(`${root}${cls}/mask/${String(i).padStart(4, '0')}.png`, maskPng([300, 200, 40, 40], 640, 480));
    }
    files.set(`${root}${cls}/train.txt`, enc('0.jpg\n1.jpg\n'));
    files.set(`${root}${cls}/test.txt`, enc(`${root}${cls}/JPEGImages/000002.jpg\n${root}${cls}/JPEGImages/000003.jpg\n`));
  }
  return files;
}

export function writeTree(files: Files, dir = mkdtempSync(join(tmpdir(), 'poselab-data-'))): string {
  for (const [p, b] of files) {
    const full = join(dir, ...p.split('/'));
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, b);
  }
  return dir;
}
