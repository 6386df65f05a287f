/**
 * Synthetic LINEMOD-like batched PnP problems (mm, px), shaped for solvePnpBatch: objects of up to 300 mm
 * diameter (random boxes, or planes when `planar`), with the model origin off the centroid, 400..1500 mm
 * in front of a LINEMOD camera, centred at a random pixel, with optional Gaussian pixel noise.
 * Poses are [rx, ry, rz, tx, ty, tz] (axis-angle, model to camera, mm); K row-major.
 * The tests and the benchmarks solve the same problems (bench:pnp), so they live here, not in tests/.
 */
import { Rng } from '../data/rng';
import { projectPoints } from '../solver/projection';
import { so3Exp, so3Log } from '../solver/so3';

/** A uniformly random rotation as axis-angle r [3] (|r| <= pi), from a uniform unit quaternion. */
export function randomRotation(rng: Rng): Float64Array {
  let q0 = rng.normal(), q1 = rng.normal(), q2 = rng.normal(), q3 = rng.normal();
  const qn = Math.hypot(q0, q1, q2, q3);
  q0 /= qn; q1 /= qn; q2 /= qn; q3 /= qn;
  if (q0 < 0) { q0 = -q0; q1 = -q1; q2 = -q2; q3 = -q3; }
  const vn = Math.hypot(q1, q2, q3);
  const angle = 2 * Math.atan2(vn, q0);
  const k = vn > 0 ? angle / vn : 2;
  return Float64Array.of(k * q1, k * q2, k * q3);
}

/** LINEMOD camera intrinsics, 3x3 row-major (px). */
export const kLinemodK: readonly number[] = [572.4114, 0, 325.2611, 0, 573.57043, 242.04899, 0, 0, 1];

export interface ProblemSpec {
  B: number;
  n: number;
  /** all model points on one plane (z = 0 in the model frame) */
  planar?: boolean;
  /** standard deviation of the Gaussian noise added to each pixel coordinate */
  noisePx?: number;
  seed: number;
  /** one model [n,3] for the batch (default true) */
  sharedPts3d?: boolean;
  /** one K [9] for the batch (default true); otherwise each problem's K is LINEMOD's jittered */
  sharedK?: boolean;
}

export interface Problems {
  B: number;
  n: number;
  sharedPts3d: boolean;
  sharedK: boolean;
  /** [B,n,2] px, noisy */
  pts2d: Float64Array;
  /** [B,n,2] px, exact projections of poseGT */
  pts2dClean: Float64Array;
  /** [n,3] mm (sharedPts3d) or [B,n,3] */
  pts3d: Float64Array;
  /** [9] (sharedK) or [B,9] */
  K: Float64Array;
  /** [B,6] ground truth */
  poseGT: Float64Array;
}

function makeObject(rng: Rng, n: number, planar: boolean, out: Float64Array, off: number): void {
  // Box extents 60..170 mm per axis: the diagonal stays below 300 mm.
  const ex = rng.uniform(60, 170), ey = rng.uniform(60, 170), ez = planar ? 0 : rng.uniform(60, 170);
  // The model origin is off the object's centre, as in CAD models.
  const ox = rng.uniform(-30, 30), oy = rng.uniform(-30, 30), oz = rng.uniform(-30, 30);
  for (let i = 0; i < n; i++) {
    out[off + 3 * i] = ox + rng.uniform(-0.5, 0.5) * ex;
    out[off + 3 * i + 1] = oy + rng.uniform(-0.5, 0.5) * ey;
    out[off + 3 * i + 2] = planar ? oz : oz + rng.uniform(-0.5, 0.5) * ez;
  }
}

/** B problems of n points each; deterministic in `seed`. */
export function makeProblems(spec: ProblemSpec): Problems {
  const { B, n, seed } = spec;
  const planar = spec.planar ?? false;
  const noisePx = spec.noisePx ?? 0;
  const sharedPts3d = spec.sharedPts3d ?? true;
  const sharedK = spec.sharedK ?? true;
  const rng = Rng.fromState(seed);
  const pts3d = new Float64Array(sharedPts3d ? n * 3 : B * n * 3);
  for (let b = 0; b < (sharedPts3d ? 1 : B); b++) makeObject(rng, n, planar, pts3d, 3 * n * b);
  const K = new Float64Array(sharedK ? 9 : B * 9);
  for (let b = 0; b < (sharedK ? 1 : B); b++) {
    K.set(kLinemodK, 9 * b);
    if (!sharedK) {
      K[9 * b] *= rng.uniform(0.95, 1.05);
      K[9 * b + 4] *= rng.uniform(0.95, 1.05);
      K[9 * b + 2] += rng.uniform(-20, 20);
      K[9 * b + 5] += rng.uniform(-20, 20);
    }
  }
  const poseGT = new Float64Array(B * 6);
  const R = new Float64Array(9);
  for (let b = 0; b < B; b++) {
    const r = randomRotation(rng);
    so3Exp(R, r);
    const po = sharedPts3d ? 0 : 3 * n * b;
    let cx = 0, cy = 0, cz = 0;
    for (let i = 0; i < n; i++) {
      cx += pts3d[po + 3 * i] / n; cy += pts3d[po + 3 * i + 1] / n; cz += pts3d[po + 3 * i + 2] / n;
    }
    // The centroid lands at depth z on the ray of pixel (u, v).
    const z = rng.uniform(400, 1500);
    const ko = sharedK ? 0 : 9 * b;
    const u = rng.uniform(150, 500), v = rng.uniform(120, 360);
    const ycam = ((v - K[ko + 5]) / K[ko + 4]) * z;
    const xcam = ((u - K[ko + 2] - K[ko + 1] * (ycam / z)) / K[ko]) * z;
    poseGT.set(r, 6 * b);
    poseGT[6 * b + 3] = xcam - (R[0] * cx + R[1] * cy + R[2] * cz);
    poseGT[6 * b + 4] = ycam - (R[3] * cx + R[4] * cy + R[5] * cz);
    poseGT[6 * b + 5] = z - (R[6] * cx + R[7] * cy + R[8] * cz);
  }
  const pts2dClean = projectPoints(new Float64Array(B * n * 2), pts3d, poseGT, K, B, n, sharedPts3d, sharedK);
  const pts2d = pts2dClean.slice();
  if (noisePx > 0) for (let j = 0; j < pts2d.length; j++) pts2d[j] += noisePx * rng.normal();
  return { B, n, sharedPts3d, sharedK, pts2d, pts2dClean, pts3d, K, poseGT };
}

/**
 * Perturbs poses [B,6]: rotation by a random axis-angle of `rotRad` radians (left), translation by a random
 * vector of `transMm` mm. Returns a new array.
 */
export function perturbPoses(poses: Float64Array, rotRad: number, transMm: number, seed: number): Float64Array {
  const rng = Rng.fromState(seed);
  const out = poses.slice();
  const R = new Float64Array(9), dR = new Float64Array(9), RR = new Float64Array(9);
  for (let b = 0; b < poses.length / 6; b++) {
    const ax = [rng.normal(), rng.normal(), rng.normal()];
    const an = Math.hypot(ax[0], ax[1], ax[2]);
    so3Exp(dR, ax.map((a) => (a / an) * rotRad));
    so3Exp(R, poses.subarray(6 * b, 6 * b + 3));
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) {
      RR[3 * i + j] = dR[3 * i] * R[j] + dR[3 * i + 1] * R[3 + j] + dR[3 * i + 2] * R[6 + j];
    }
    out.set(so3Log(new Float64Array(3), RR), 6 * b);
    const tx = [rng.normal(), rng.normal(), rng.normal()];
    const tnrm = Math.hypot(tx[0], tx[1], tx[2]);
    for (let a = 0; a < 3; a++) out[6 * b + 3 + a] += (tx[a] / tnrm) * transMm;
  }
  return out;
}

