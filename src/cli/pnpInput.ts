/**
 * The JSON format of `npm run pnp`, parsed and checked: every complaint names the field and the shape it
 * expected and got, so a person can fix the file.
 *
 * {"pts2d": [B][n][2] px, "pts3d": [n][3] or [B][n][3], "K": [3][3] or [B][3][3],
 *  "grad"?: [B][6] finite, "weights"?: [B][n] finite (a negative one: that problem's status InvalidInput), "initPose"?: [B][6]}
 *
 * Numbers stay float64 (JSON's own precision): coordinates such as UTM metres need all of it, and only
 * the command line knows where it may centre them before any float32 step (centrePts3d).
 */

export interface PnpProblemsJson {
  B: number;
  n: number;
  /** [B*n*2] */
  pts2d: Float64Array;
  /** [n*3] or [B*n*3] */
  pts3d: Float64Array;
  sharedPts3d: boolean;
  /** [9] or [B*9] row-major */
  K: Float64Array;
  sharedK: boolean;
  grad?: Float64Array;
  weights?: Float64Array;
  initPose?: Float64Array;
}

export class PnpInputError extends Error {}

/** Shape of a nested array of numbers, or a description of why it is not one. */
function shapeOf(v: unknown, field: string): number[] {
  const shape: number[] = [];
  let level: unknown = v;
  while (Array.isArray(level)) {
    shape.push(level.length);
    if (level.length === 0) break;
    level = level[0];
  }
  if (shape.length === 0) throw new PnpInputError(`${field}: expected a nested array of numbers, got ${v === null ? 'null' : typeof v}`);
  return shape;
}

function flatten(v: unknown, shape: number[], field: string): Float64Array {
  const out = new Float64Array(shape.reduce((a, b) => a * b, 1));
  let k = 0;
  const walk = (x: unknown, depth: number, path: string) => {
    if (depth === shape.length) {
      // null stands for NaN (JSON has no NaN); the solver reports such problems as non-finite.
      if (x === null) {
        out[k++] = NaN;
        return;
      }
      if (typeof x !== 'number') throw new PnpInputError(`${field}${path}: expected a number, got ${JSON.stringify(x)}`);
      out[k++] = x;
      return;
    }
    if (Array.isArray(x) && x.length !== shape[depth]) {
      // The shape was read along the first entries: name that entry, the one that set the length.
      throw new PnpInputError(`${field}${path}: an array of ${x.length}, where ${field}${'[0]'.repeat(depth)} has ${shape[depth]}: every entry at one level must have the same length`);
    }
    if (!Array.isArray(x)) {
      throw new PnpInputError(`${field}${path}: expected an array of ${shape[depth]}, got ${JSON.stringify(x)}`);
    }
    x.forEach((y, i) => walk(y, depth + 1, `${path}[${i}]`));
  };
  walk(v, 0, '');
  return out;
}

function fmt(shape: number[]): string {
  return shape.map((s) => `[${s}]`).join('');
}

function expectShape(v: unknown, field: string, options: number[][]): { data: Float64Array; shape: number[] } {
  const got = shapeOf(v, field);
  const match = options.find((o) => o.length === got.length && o.every((s, i) => s < 0 || s === got[i]));
  if (!match) {
    const want = options.map((o) => o.map((s) => (s < 0 ? '[*]' : `[${s}]`)).join('')).join(' or ');
    throw new PnpInputError(`${field}: expected shape ${want}, got ${fmt(got)}`);
  }
  return { data: flatten(v, got, field), shape: got };
}

export function parsePnpProblems(json: unknown): PnpProblemsJson {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new PnpInputError('input: expected a JSON object with fields pts2d, pts3d, K');
  }
  const o = json as Record<string, unknown>;
  const known = new Set(['pts2d', 'pts3d', 'K', 'grad', 'weights', 'initPose']);
  for (const k of Object.keys(o)) if (!known.has(k)) throw new PnpInputError(`${k}: unknown field (expected ${[...known].join(', ')})`);
  for (const k of ['pts2d', 'pts3d', 'K']) if (!(k in o)) throw new PnpInputError(`${k}: missing`);
  if (Array.isArray(o.pts2d) && o.pts2d.length === 0) throw new PnpInputError('pts2d: expected at least one problem, got an empty array');
  const pts2d = expectShape(o.pts2d, 'pts2d', [[-1, -1, 2]]);
  const [B, n] = pts2d.shape;
  const pts3d = expectShape(o.pts3d, 'pts3d', [[n, 3], [B, n, 3]]);
  const K = expectShape(o.K, 'K', [[3, 3], [B, 3, 3]]);
  requirePinholeK(K.data, K.shape.length === 2);
  const out: PnpProblemsJson = {
    B, n,
    pts2d: pts2d.data,
    pts3d: pts3d.data,
    sharedPts3d: pts3d.shape.length === 2,
    K: K.data,
    sharedK: K.shape.length === 2,
  };
  if (o.grad !== undefined) {
    out.grad = expectShape(o.grad, 'grad', [[B, 6]]).data;
    // A non-finite upstream gradient would make every gradient of a shared pts3d or K NaN, not one problem's.
    requireFinite(out.grad, o.grad, 'grad', 6);
  }
  if (o.weights !== undefined) {
    out.weights = expectShape(o.weights, 'weights', [[B, n]]).data;
    // Any finite weight reaches the solver: a negative one is its problem's InvalidInput status, as in the op.
    requireFinite(out.weights, o.weights, 'weights', n);
  }
  if (o.initPose !== undefined) out.initPose = expectShape(o.initPose, 'initPose', [[B, 6]]).data;
  return out;
}

/**
 * Every K [3,3] or [B,3,3] must be a pinhole camera's, as OpenCV's K (and BOP's cam_K), up to a positive
 * scale (pi divides it out): [[fx, s, cx], [0, fy, cy], [0, 0, 1]] times lambda > 0, with fx, fy > 0. Any
 * other invertible matrix would still give the solver a problem, the wrong one: a transposed K, or a
 * negative focal length, places the object elsewhere, and the poses come back with a status and no sign of
 * the mistake. The zeros may be off by rounding (a K that went through arithmetic): within 1e-9 of
 * |fx| + |fy|. Non-finite entries are left to the solver (that problem's InvalidInput, named in status_why).
 */
function requirePinholeK(K: Float64Array, shared: boolean): void {
  for (let b = 0; b < K.length / 9; b++) {
    const k = K.subarray(9 * b, 9 * b + 9);
    const at = (j: number) => `K${shared ? '' : `[${b}]`}[${Math.floor(j / 3)}][${j % 3}]`;
    const form = "K is a pinhole camera's [[fx, s, cx], [0, fy, cy], [0, 0, 1]] px, up to a positive scale (OpenCV's, BOP's cam_K)";
    const got = (v: number) => (Object.is(v, -0) ? '-0' : String(v));
    const fail = (j: number, what: string, hint = '') => {
      throw new PnpInputError(`${at(j)}: ${what}, got ${got(k[j])}; ${form}${hint}`);
    };
    if (Number.isFinite(k[8]) && !(k[8] > 0)) fail(8, 'must be > 0');
    if (Number.isFinite(k[0]) && !(k[0] > 0)) fail(0, 'fx must be > 0');
    if (Number.isFinite(k[4]) && !(k[4] > 0)) fail(4, 'fy must be > 0');
    const scale = Math.abs(k[0]) + Math.abs(k[4]);
    if (!Number.isFinite(scale)) continue;
    for (const j of [3, 6, 7]) {
      if (!Number.isFinite(k[j]) || Math.abs(k[j]) <= 1e-9 * scale) continue;
      // A principal point's size where a zero belongs is the mark of a transposed K.
      fail(j, `must be 0 (within 1e-9 of |fx| + |fy| = ${scale})`, Math.abs(k[j]) > 0.01 * scale ? ': a transposed K?' : '');
    }
  }
}

/** Throws naming the first entry of field [B][m] that is not a finite number (JSON's null, or 1e999 read as Infinity). */
function requireFinite(data: Float64Array, raw: unknown, field: string, m: number): void {
  const bad = data.findIndex((v) => !Number.isFinite(v));
  if (bad < 0) return;
  const b = Math.floor(bad / m), i = bad % m;
  const given = (raw as unknown[][])[b][i];
  throw new PnpInputError(`${field}[${b}][${i}]: expected a finite number, got ${given === null ? 'null' : String(given)}`);
}

/**
 * pts3d moved to each problem's own centroid, in float64: returns the centred points [B,n,3] (per problem
 * even when pts3d is shared: problems may weight different points of it) and c [B,3] (centreRows). Any
 * constant c keeps the problem's optimum: for the centred points X - c the pose is (R, t + R c), and moving
 * back is t = t' - R c; dL/dX = dL/dX' (summed over the batch for a shared pts3d).
 */
export function centrePts3d(p: PnpProblemsJson): { pts3d: Float64Array; c: Float64Array } {
  const { B, n } = p;
  const rows = p.sharedPts3d ? new Float64Array(3 * n * B).map((_, j) => p.pts3d[j % (3 * n)]) : p.pts3d;
  const { centred, c } = centreRows(rows, p.weights, B, n, 3);
  return { pts3d: centred, c };
}

/**
 * rows [B,n,d] moved, each problem's to the mean of its finite rows with w > 0 (0 when there are none, so
 * that a NaN in a point that does not exist never spreads), in float64: the centred copy and c [B,d].
 */
function centreRows(rows: Float64Array, weights: Float64Array | undefined, B: number, n: number, d: number): { centred: Float64Array; c: Float64Array } {
  const centred = rows.slice();
  const c = new Float64Array(d * B);
  for (let b = 0; b < B; b++) {
    let m = 0;
    for (let i = 0; i < n; i++) {
      const row = centred.subarray(d * (n * b + i), d * (n * b + i + 1));
      if ((weights !== undefined && !(weights[n * b + i] > 0)) || !row.every(Number.isFinite)) continue;
      m++;
      for (let a = 0; a < d; a++) c[d * b + a] += row[a];
    }
    for (let a = 0; a < d; a++) c[d * b + a] = m > 0 ? c[d * b + a] / m : 0;
    for (let i = 0; i < n; i++) for (let a = 0; a < d; a++) centred[d * (n * b + i) + a] -= c[d * b + a];
  }
  return { centred, c };
}

/** [B, m] per-problem values summed over the batch into [m] when `shared`, else as they are. */
export function sumOverBatch(g: ArrayLike<number>, B: number, shared: boolean): Float64Array {
  if (!shared) return Float64Array.from(g);
  const m = g.length / B;
  const out = new Float64Array(m);
  for (let b = 0; b < B; b++) for (let j = 0; j < m; j++) out[j] += g[m * b + j];
  return out;
}

/**
 * pts2d moved to each problem's own centroid, in float64, and K moved with it so that the problem is the
 * same: x' = x - c and K' = T K with T = [[1, 0, -cx], [0, 1, -cy], [0, 0, 1]] project every point to
 * x - c, so the pose is unchanged. Returns pts2d' [B,n,2], K' [B,9] (per problem even when K is shared:
 * each problem has its own c) and c [B,2] (centreRows). Pixel coordinates far from the origin (a small patch of a large image) then keep their
 * spread in float32. dL/dK = T^T dL/dK' (centredGradK).
 */
export function centrePts2d(p: PnpProblemsJson): { pts2d: Float64Array; K: Float64Array; c: Float64Array } {
  const { B } = p;
  const { centred, c } = centreRows(p.pts2d, p.weights, B, p.n, 2);
  const K = new Float64Array(9 * B);
  for (let b = 0; b < B; b++) {
    const k = p.K.subarray(p.sharedK ? 0 : 9 * b, p.sharedK ? 9 : 9 * b + 9);
    const ux = c[2 * b], uy = c[2 * b + 1];
    K.set([k[0] - ux * k[6], k[1] - ux * k[7], k[2] - ux * k[8], k[3] - uy * k[6], k[4] - uy * k[7], k[5] - uy * k[8], k[6], k[7], k[8]], 9 * b);
  }
  return { pts2d: centred, K, c };
}

/**
 * dL/dK [B,9] from dL/dK' [B,9] of centrePts2d's K' = T K: dL/dK = T^T dL/dK' (rows 0 and 1 unchanged,
 * row 2 gains -cx row 0 - cy row 1); sumOverBatch gives a shared K's.
 */
export function centredGradK(gradKc: ArrayLike<number>, c: Float64Array, B: number): Float64Array {
  const out = new Float64Array(9 * B);
  for (let b = 0; b < B; b++) {
    for (let j = 0; j < 9; j++) {
      const col = j % 3;
      out[9 * b + j] = gradKc[9 * b + j] + (j >= 6 ? -c[2 * b] * gradKc[9 * b + col] - c[2 * b + 1] * gradKc[9 * b + 3 + col] : 0);
    }
  }
  return out;
}

/**
 * Each problem's weights times a power of two that brings the largest to [0.5, 1) (exact in float64; the pose
 * does not change with a common factor of the weights): float32 squares weights of 1e-20 to zero and those of
 * 1e20 to infinity, and the kernels' weighted sums lose them. Returns the scaled weights [B,n] and each
 * problem's factor [B]: dL/dw = factor dL/dw'. Problems without a finite positive weight keep factor 1.
 */
export function scaleWeights(weights: Float64Array, B: number, n: number): { weights: Float64Array; factor: Float64Array } {
  const out = weights.slice();
  const factor = new Float64Array(B).fill(1);
  for (let b = 0; b < B; b++) {
    let max = 0;
    for (let i = 0; i < n; i++) if (weights[n * b + i] > max) max = weights[n * b + i];
    if (!(max > 0) || !Number.isFinite(max)) continue;
    factor[b] = 2 ** -(Math.floor(Math.log2(max)) + 1);
    for (let i = 0; i < n; i++) out[n * b + i] *= factor[b];
  }
  return { weights: out, factor };
}
