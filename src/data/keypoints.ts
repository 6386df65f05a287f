import type { Dataset, DatasetObject } from './dataset';
import { boxCorners, type Mesh } from './mesh';
import { Rng } from './rng';

/**
 * Object keypoints, in the model frame (mm), centre last, as PVNet uses them (Peng et al., CVPR 2019,
 * section 3.1): 'fps' picks count points on the mesh surface by farthest point sampling, starting from
 * the object's centre (so the first pick is the surface point farthest from it); 'bbox' takes the 8
 * corners of the model's bounding box. The centre is the bounding box's centre. Deterministic: the
 * surface samples come from a seeded generator and ties break on the lowest index.
 */
export type KeypointKind = 'fps' | 'bbox';

export interface KeypointOptions {
  kind: KeypointKind;
  /** Surface points for 'fps' (the centre comes on top); 8 by default. */
  count?: number;
  /** Points sampled on the surface, area-weighted, before FPS picks among them. */
  surfaceSamples?: number;
  seed?: number;
}

export interface ObjectKeypoints {
  objId: number;
  kind: KeypointKind;
  /** [n, 3] mm, model frame; the last row is the centre */
  pointsMm: Float64Array;
}

export const kDefaultKeypoints: KeypointOptions = { kind: 'fps', count: 8, surfaceSamples: 10_000, seed: 0 };

export function keypointsOf(obj: DatasetObject, opts: KeypointOptions = kDefaultKeypoints): ObjectKeypoints {
  const b = obj.boundsMm;
  const centre = [0, 1, 2].map((k) => (b.min[k] + b.max[k]) / 2);
  let surface: Float64Array;
  if (opts.kind === 'bbox') {
    surface = boxCorners(b);
  } else {
    if (!obj.mesh) throw new Error(`object ${obj.id} (${obj.name}) has no mesh: FPS keypoints need one; use kind 'bbox'`);
    const candidates = obj.mesh.faces.length > 0
      ? sampleSurface(obj.mesh, opts.surfaceSamples ?? 10_000, new Rng(opts.seed ?? 0))
      : Float64Array.from(obj.mesh.positions);
    const idx = farthestPointSampling(candidates, opts.count ?? 8, centre);
    surface = new Float64Array(idx.length * 3);
    idx.forEach((i, k) => surface.set(candidates.subarray(3 * i, 3 * i + 3), 3 * k));
  }
  const pointsMm = new Float64Array(surface.length + 3);
  pointsMm.set(surface);
  pointsMm.set(centre, surface.length);
  return { objId: obj.id, kind: opts.kind, pointsMm };
}

/**
 * The points of points [n, 3] that lie furthest along each of `directions` unit vectors spread evenly
 * over the sphere (a Fibonacci lattice), each point once, in the order first found: the object's outline
 * in few points (220 of the bundled object's 1,225 vertices). Under a perspective view the extreme
 * vertex along an image axis is extreme along a direction that depends on where the object is, so the
 * box of their projection can fall short of the whole mesh's; with 512 directions, by at most 0.4% of
 * the box's side over 200 views of the bundled object (tests/data/keypoints.test.ts; 1.3% with 256),
 * small against the 25% scale jitter of training crops. So a crop can be placed from a pose without the mesh.
 */
export function extremePoints(points: ArrayLike<number>, directions = 512): Float64Array {
  const n = Math.floor(points.length / 3);
  const picked: number[] = [];
  const seen = new Set<number>();
  const golden = Math.PI * (3 - Math.sqrt(5));
  for (let d = 0; d < directions && n > 0; d++) {
    const z = 1 - (2 * d + 1) / directions;
    const r = Math.sqrt(1 - z * z);
    const dx = r * Math.cos(golden * d), dy = r * Math.sin(golden * d);
    let best = 0, bestDot = -Infinity;
    for (let i = 0; i < n; i++) {
      const dot = dx * points[3 * i] + dy * points[3 * i + 1] + z * points[3 * i + 2];
      if (dot > bestDot) { bestDot = dot; best = i; }
    }
    if (!seen.has(best)) { seen.add(best); picked.push(best); }
  }
  const out = new Float64Array(3 * picked.length);
  picked.forEach((i, j) => { out[3 * j] = points[3 * i]; out[3 * j + 1] = points[3 * i + 1]; out[3 * j + 2] = points[3 * i + 2]; });
  return out;
}

/**
 * Farthest point sampling over points [n, 3]: each pick maximises the distance to everything picked so
 * far; the first maximises the distance to `start` (the centre). Returns the picked indices in order.
 */
export function farthestPointSampling(points: ArrayLike<number>, count: number, start: ArrayLike<number>): Uint32Array {
  const n = Math.floor(points.length / 3);
  if (count > n) throw new Error(`farthestPointSampling: ${count} points asked of ${n}`);
  const d2 = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const dx = points[3 * i] - start[0], dy = points[3 * i + 1] - start[1], dz = points[3 * i + 2] - start[2];
    d2[i] = dx * dx + dy * dy + dz * dz;
  }
  const out = new Uint32Array(count);
  for (let k = 0; k < count; k++) {
    let best = 0;
    for (let i = 1; i < n; i++) if (d2[i] > d2[best]) best = i;
    out[k] = best;
    const px = points[3 * best], py = points[3 * best + 1], pz = points[3 * best + 2];
    for (let i = 0; i < n; i++) {
      const dx = points[3 * i] - px, dy = points[3 * i + 1] - py, dz = points[3 * i + 2] - pz;
      const d = dx * dx + dy * dy + dz * dz;
      if (d < d2[i]) d2[i] = d;
    }
  }
  return out;
}

/** n points on the mesh surface, [n, 3]: triangles chosen in proportion to area, uniform inside each. */
export function sampleSurface(mesh: Mesh, n: number, rng: Rng): Float64Array {
  const p = mesh.positions;
  const f = mesh.faces;
  const nTri = f.length / 3;
  const cum = new Float64Array(nTri);
  let total = 0;
  for (let t = 0; t < nTri; t++) {
    const a = 3 * f[3 * t], b = 3 * f[3 * t + 1], c = 3 * f[3 * t + 2];
    const ux = p[b] - p[a], uy = p[b + 1] - p[a + 1], uz = p[b + 2] - p[a + 2];
    const vx = p[c] - p[a], vy = p[c + 1] - p[a + 1], vz = p[c + 2] - p[a + 2];
    total += 0.5 * Math.hypot(uy * vz - uz * vy, uz * vx - ux * vz, ux * vy - uy * vx);
    cum[t] = total;
  }
  const out = new Float64Array(3 * n);
  for (let i = 0; i < n; i++) {
    const r = rng.next() * total;
    let lo = 0, hi = nTri - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cum[mid] < r) lo = mid + 1;
      else hi = mid;
    }
    // Uniform barycentric point (Osada et al. 2002, shape distributions, eq. 1).
    let r1 = rng.next(), r2 = rng.next();
    if (r1 + r2 > 1) { r1 = 1 - r1; r2 = 1 - r2; }
    const a = 3 * f[3 * lo], b = 3 * f[3 * lo + 1], c = 3 * f[3 * lo + 2];
    for (let k = 0; k < 3; k++) out[3 * i + k] = p[a + k] + r1 * (p[b + k] - p[a + k]) + r2 * (p[c + k] - p[a + k]);
  }
  return out;
}
