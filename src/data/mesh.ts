/** A triangle mesh in the dataset's units (millimetres once loaded). */
export interface Mesh {
  /** [nVertices, 3] */
  positions: Float32Array;
  /** [nVertices, 3] when the file has them */
  normals?: Float32Array;
  /** [nVertices, 3] RGB8 vertex colours when the file has them */
  colors?: Uint8Array;
  /** [nVertices, 2] texture coordinates when the file has them */
  uvs?: Float32Array;
  /** [nTriangles, 3] vertex indices (polygons are fanned into triangles) */
  faces: Uint32Array;
  /** 'comment TextureFile x.png' from a PLY header */
  textureFile?: string;
}

export function vertexCount(m: Mesh): number {
  return m.positions.length / 3;
}

export function scaleMesh(m: Mesh, factor: number): Mesh {
  const positions = new Float32Array(m.positions.length);
  for (let i = 0; i < positions.length; i++) positions[i] = m.positions[i] * factor;
  return { ...m, positions };
}

export interface Box3 {
  min: [number, number, number];
  max: [number, number, number];
}

export function boundsOf(points: ArrayLike<number>): Box3 {
  const min: [number, number, number] = [Infinity, Infinity, Infinity];
  const max: [number, number, number] = [-Infinity, -Infinity, -Infinity];
  for (let i = 0; i + 2 < points.length; i += 3) {
    for (let k = 0; k < 3; k++) {
      const v = points[i + k];
      if (v < min[k]) min[k] = v;
      if (v > max[k]) max[k] = v;
    }
  }
  return { min, max };
}

/** The 8 corners of a box, [8, 3], x fastest (corner i has x = max when bit 0 of i is set). */
export function boxCorners(b: Box3): Float64Array {
  const out = new Float64Array(24);
  for (let i = 0; i < 8; i++) {
    out[3 * i] = i & 1 ? b.max[0] : b.min[0];
    out[3 * i + 1] = i & 2 ? b.max[1] : b.min[1];
    out[3 * i + 2] = i & 4 ? b.max[2] : b.min[2];
  }
  return out;
}

/**
 * Diameter: the largest distance between two vertices, as BOP defines it. The two ends of the diameter
 * are extreme points of the cloud along the line joining them, so only points that are extreme along
 * some direction are compared: 2 x 256 deterministic directions (a Fibonacci sphere) keep the exact
 * pairwise search small; below 3,000 vertices every pair is compared.
 */
export function diameterOf(points: ArrayLike<number>): number {
  const n = Math.floor(points.length / 3);
  let candidates: number[];
  if (n <= 3000) {
    candidates = Array.from({ length: n }, (_, i) => i);
  } else {
    const set = new Set<number>();
    const nDir = 256;
    for (let d = 0; d < nDir; d++) {
      const z = 1 - (2 * (d + 0.5)) / nDir;
      const r = Math.sqrt(1 - z * z);
      const phi = d * Math.PI * (3 - Math.sqrt(5));
      const dx = r * Math.cos(phi), dy = r * Math.sin(phi), dz = z;
      let lo = Infinity, hi = -Infinity, iLo = 0, iHi = 0;
      for (let i = 0; i < n; i++) {
        const s = points[3 * i] * dx + points[3 * i + 1] * dy + points[3 * i + 2] * dz;
        if (s < lo) { lo = s; iLo = i; }
        if (s > hi) { hi = s; iHi = i; }
      }
      set.add(iLo);
      set.add(iHi);
    }
    candidates = [...set];
  }
  let best = 0;
  for (let a = 0; a < candidates.length; a++) {
    const i = candidates[a];
    for (let b = a + 1; b < candidates.length; b++) {
      const j = candidates[b];
      const dx = points[3 * i] - points[3 * j];
      const dy = points[3 * i + 1] - points[3 * j + 1];
      const dz = points[3 * i + 2] - points[3 * j + 2];
      const d2 = dx * dx + dy * dy + dz * dz;
      if (d2 > best) best = d2;
    }
  }
  return Math.sqrt(best);
}
