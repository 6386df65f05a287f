/**
 * Drone-survey PnP problems (the kind of OpenDroneMap issue 713): ground control points spread over
 * about 150 x 120 m with +-10 m of relief, a nadir camera 110 m above them (f 2666.7 px, 4000 x 3000 px),
 * 0.5 px noise, in local metres; `offset` moves the world frame (UTM metres: easting ~316,600,
 * northing ~7,405,000). Everything float64. Poses: [r, t], model (world) to camera.
 */
import { projectPoints } from '../../src/solver/projection';
import { so3Exp, so3Log } from '../../src/solver/so3';
import { makeRng } from './rng';

export const kDroneK: readonly number[] = [2666.7, 0, 2000, 0, 2666.7, 1500, 0, 0, 1];
export const kUtmOffset: readonly number[] = [316622, 7405050, 929];

export interface GcpProblems {
  B: number;
  n: number;
  /** [B,n,2] px, noisy */
  pts2d: Float64Array;
  /** [B,n,3] m, local frame plus offset */
  pts3d: Float64Array;
  K: Float64Array;
  /** [B,6] ground truth, in the frame of pts3d */
  poseGT: Float64Array;
}

export function makeGcpProblems(B: number, n: number, seed: number, offset: readonly number[] = [0, 0, 0]): GcpProblems {
  const rng = makeRng(seed);
  const pts3d = new Float64Array(B * n * 3);
  const poseGT = new Float64Array(B * 6);
  const K = Float64Array.from(kDroneK);
  const R = new Float64Array(9);
  const r = new Float64Array(3);
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < n; i++) {
      pts3d[3 * (b * n + i)] = offset[0] + rng.uniform(-75, 75);
      pts3d[3 * (b * n + i) + 1] = offset[1] + rng.uniform(-60, 60);
      pts3d[3 * (b * n + i) + 2] = offset[2] + rng.uniform(-10, 10);
    }
    // Nadir: camera z along world -z (a turn by pi about x), then up to 3 degrees of tilt and any heading.
    const Rdown = new Float64Array(9);
    so3Exp(Rdown, [Math.PI, 0, 0]);
    const tilt = new Float64Array(9);
    so3Exp(tilt, [rng.uniform(-0.05, 0.05), rng.uniform(-0.05, 0.05), rng.uniform(-Math.PI, Math.PI)]);
    for (let a = 0; a < 3; a++) for (let c = 0; c < 3; c++) {
      R[3 * a + c] = tilt[3 * a] * Rdown[c] + tilt[3 * a + 1] * Rdown[3 + c] + tilt[3 * a + 2] * Rdown[6 + c];
    }
    so3Log(r, R);
    const C = [offset[0] + rng.uniform(-5, 5), offset[1] + rng.uniform(-5, 5), offset[2] + 110];
    poseGT.set(r, 6 * b);
    for (let a = 0; a < 3; a++) poseGT[6 * b + 3 + a] = -(R[3 * a] * C[0] + R[3 * a + 1] * C[1] + R[3 * a + 2] * C[2]);
  }
  const pts2d = projectPoints(new Float64Array(B * n * 2), pts3d, poseGT, K, B, n, false, true);
  for (let j = 0; j < pts2d.length; j++) pts2d[j] += 0.5 * rng.normal();
  return { B, n, pts2d, pts3d, K, poseGT };
}
