import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { extremePoints, farthestPointSampling, keypointsOf, sampleSurface } from '../../src/data/keypoints';
import { parsePly } from '../../src/data/ply';
import { projectModelPoints } from '../../src/solver/projection';
import { so3Exp } from '../../src/solver/so3';
import { boundsOf } from '../../src/data/mesh';
import { Rng } from '../../src/data/rng';
import type { DatasetObject } from '../../src/data/dataset';
import { boxMesh } from './fixtures';

function cubeObject(): DatasetObject {
  const mesh = boxMesh(100, 60, 40);
  return { id: 1, name: 'box', mesh, diameterMm: Math.hypot(100, 60, 40), symmetric: false, boundsMm: boundsOf(mesh.positions) };
}

describe('keypoints', () => {
  it('FPS is deterministic: same seed, same points; count is configurable; centre comes last', () => {
    const obj = cubeObject();
    const a = keypointsOf(obj, { kind: 'fps', count: 8, seed: 3 });
    const b = keypointsOf(obj, { kind: 'fps', count: 8, seed: 3 });
    expect(Array.from(a.pointsMm)).toEqual(Array.from(b.pointsMm));
    expect(a.pointsMm.length).toBe(9 * 3);
    expect(Array.from(a.pointsMm.subarray(24))).toEqual([0, 0, 0]);
    expect(keypointsOf(obj, { kind: 'fps', count: 16 }).pointsMm.length).toBe(17 * 3);
    const c = keypointsOf(obj, { kind: 'fps', count: 8, seed: 4 });
    expect(Array.from(c.pointsMm)).not.toEqual(Array.from(a.pointsMm));
  });

  it('FPS points lie on the surface, the first at the point farthest from the centre (a corner), all well spread', () => {
    const kp = keypointsOf(cubeObject(), { kind: 'fps', count: 8, surfaceSamples: 20_000, seed: 0 });
    const p = (i: number) => Array.from(kp.pointsMm.subarray(3 * i, 3 * i + 3));
    for (let i = 0; i < 8; i++) {
      const [x, y, z] = p(i);
      const onFace = Math.abs(Math.abs(x) - 50) < 1e-3 || Math.abs(Math.abs(y) - 30) < 1e-3 || Math.abs(Math.abs(z) - 20) < 1e-3;
      expect(onFace).toBe(true);
    }
    const [x0, y0, z0] = p(0);
    expect(Math.hypot(x0, y0, z0)).toBeGreaterThan(0.98 * Math.hypot(50, 30, 20));
    let minD = Infinity;
    for (let i = 0; i < 8; i++) for (let j = i + 1; j < 8; j++) minD = Math.min(minD, Math.hypot(...p(i).map((v, k) => v - p(j)[k])));
    // 8 points on a 100 x 60 x 40 box: FPS keeps them at least ~the short side apart
    expect(minD).toBeGreaterThan(35);
  });

  it('farthestPointSampling matches a brute-force definition on random points', () => {
    const rng = new Rng(1);
    const pts = Float64Array.from({ length: 300 }, () => rng.uniform(-1, 1));
    const idx = farthestPointSampling(pts, 6, [0, 0, 0]);
    const chosen: number[] = [];
    const dist = (i: number, p: ArrayLike<number>) => Math.hypot(pts[3 * i] - p[0], pts[3 * i + 1] - p[1], pts[3 * i + 2] - p[2]);
    for (let k = 0; k < 6; k++) {
      let best = -1, bestD = -1;
      for (let i = 0; i < 100; i++) {
        // the start point (the centre) counts as already chosen, as in PVNet's fps_utils
        const d = Math.min(dist(i, [0, 0, 0]), ...chosen.map((c) => dist(i, pts.subarray(3 * c, 3 * c + 3))));
        if (d > bestD) { bestD = d; best = i; }
      }
      chosen.push(best);
    }
    expect(Array.from(idx)).toEqual(chosen);
  });

  it('surface samples are area-weighted', () => {
    // A 100 x 60 x 40 box: faces normal to x cover 60*40*2 of 2*(6000+4000+2400) mm^2.
    const pts = sampleSurface(boxMesh(100, 60, 40), 40_000, new Rng(0));
    let onX = 0;
    for (let i = 0; i < 40_000; i++) if (Math.abs(Math.abs(pts[3 * i]) - 50) < 1e-4) onX++;
    expect(onX / 40_000).toBeCloseTo(4800 / 24800, 2);
  });

  it('surface samples of a turned box are uniform over its faces: area-weighted, inside each face, evenly spread', () => {
    // Turned off the axes, so that no component of a face's cross product vanishes.
    const box = boxMesh(100, 60, 40);
    const c = Math.cos(0.7), s = Math.sin(0.7), c2 = Math.cos(0.4), s2 = Math.sin(0.4);
    const R = [c, -s * c2, s * s2, s, c * c2, -c * s2, 0, s2, c2]; // Rz(0.7) Rx(0.4)
    const turn = (q: ArrayLike<number>, T: number[]) => Float64Array.from({ length: q.length }, (_, i) => {
      const j = i - (i % 3), a = i % 3;
      return T[3 * a] * q[j] + T[3 * a + 1] * q[j + 1] + T[3 * a + 2] * q[j + 2];
    });
    const n = 40_000;
    const pts = sampleSurface({ ...box, positions: Float32Array.from(turn(box.positions, R)) }, n, new Rng(3));
    const back = turn(pts, [R[0], R[3], R[6], R[1], R[4], R[7], R[2], R[5], R[8]]); // R^T: the box's own frame
    let onX = 0, posY = 0, posZ = 0;
    for (let i = 0; i < n; i++) {
      const [x, y, z] = [back[3 * i], back[3 * i + 1], back[3 * i + 2]];
      // The mesh holds float32 positions: 1e-4 mm is some 30 times their rounding at 50 mm.
      expect(Math.abs(x) <= 50 + 1e-4 && Math.abs(y) <= 30 + 1e-4 && Math.abs(z) <= 20 + 1e-4, `sample ${i} inside the box`).toBe(true);
      if (Math.abs(Math.abs(x) - 50) < 1e-4) {
        onX++;
        if (y > 0) posY++;
        if (z > 0) posZ++;
      }
    }
    expect(onX / n).toBeCloseTo(4800 / 24800, 2);
    // Within the x faces, each half (split along either diagonal-free axis) gets half the samples.
    expect(posY / onX).toBeCloseTo(0.5, 1);
    expect(posZ / onX).toBeCloseTo(0.5, 1);
  });

  it("'bbox' gives the 8 corners and the centre", () => {
    const kp = keypointsOf(cubeObject(), { kind: 'bbox' });
    expect(kp.pointsMm.length).toBe(27);
    expect(Array.from(kp.pointsMm.subarray(0, 3))).toEqual([-50, -30, -20]);
    expect(Array.from(kp.pointsMm.subarray(21, 24))).toEqual([50, 30, 20]);
  });

  it('extreme points are vertices whose projected box is the whole mesh\'s within 1% of its side (the bundled object, 200 views)', () => {
    const ply = readFileSync(join(__dirname, '..', '..', 'public', 'datasets', 'poselab-toy', 'models', 'obj_000001.ply'));
    const pos = parsePly(new Uint8Array(ply)).mesh.positions;
    const ext = extremePoints(pos);
    const e = ext.length / 3;
    expect(e).toBeGreaterThan(8);
    expect(e).toBeLessThanOrEqual(512);
    const vertices = new Set<string>();
    for (let i = 0; i < pos.length; i += 3) vertices.add(`${pos[i]},${pos[i + 1]},${pos[i + 2]}`);
    for (let i = 0; i < e; i++) expect(vertices.has(`${ext[3 * i]},${ext[3 * i + 1]},${ext[3 * i + 2]}`)).toBe(true);
    const box = (uv: Float64Array) => {
      let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
      for (let i = 0; i < uv.length; i += 2) { x0 = Math.min(x0, uv[i]); x1 = Math.max(x1, uv[i]); y0 = Math.min(y0, uv[i + 1]); y1 = Math.max(y1, uv[i + 1]); }
      return [x0, y0, x1, y1];
    };
    const K = [572.4114, 0, 325.2611, 0, 573.57043, 242.04899, 0, 0, 1];
    const rng = new Rng(5);
    let worst = 0;
    for (let v = 0; v < 200; v++) {
      const R = so3Exp(new Float64Array(9), [rng.uniform(-Math.PI, Math.PI), rng.uniform(-Math.PI, Math.PI), rng.uniform(-Math.PI, Math.PI)]);
      const t = [rng.uniform(-150, 150), rng.uniform(-100, 100), rng.uniform(450, 1100)];
      const all = box(projectModelPoints(Float64Array.from(pos), R, t, K));
      const few = box(projectModelPoints(ext, R, t, K));
      const side = Math.max(all[2] - all[0], all[3] - all[1]);
      for (let k = 0; k < 4; k++) worst = Math.max(worst, Math.abs(all[k] - few[k]) / side);
      // Never outside the whole box: they are vertices.
      expect(few[0]).toBeGreaterThanOrEqual(all[0] - 1e-9);
      expect(few[2]).toBeLessThanOrEqual(all[2] + 1e-9);
    }
    expect(worst).toBeLessThan(0.01);
  });
});
