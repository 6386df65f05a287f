/**
 * What training and evaluation derive from samples, in one place: the batch's stacked arrays, the
 * ground-truth targets of a training batch (pose, projected keypoints, heatmaps), and the seeded picks
 * (data order, point subsets). Data flows one way: src/data yields images, crop K and poses; the
 * keypoints and everything computed from them are train/'s.
 */
import { hashSeed, Rng } from '../data/rng';
import { so3Log } from '../solver/so3';
import type { TrainingSample } from './trainingData';
import { projectModelPoints } from '../solver/projection';
import { gaussianTargets } from './heatmapTargets';

/** [B, side, side, 3] from B images of [side, side, 3]; throws naming the one of another size. */
export function stackImages(images: readonly Float32Array[], side: number, what: string): Float32Array {
  const px = side * side * 3;
  const out = new Float32Array(images.length * px);
  images.forEach((im, b) => {
    if (im.length !== px) throw new Error(`${what} ${b}: image has ${im.length} values, [${side}, ${side}, 3] expected`);
    out.set(im, b * px);
  });
  return out;
}

/** [B, 9] row-major crop intrinsics. */
export function stackK(samples: readonly Pick<TrainingSample, 'kCrop'>[]): Float32Array {
  const out = new Float32Array(samples.length * 9);
  samples.forEach((s, b) => out.set(s.kCrop, 9 * b));
  return out;
}

export interface KeypointTargets {
  /** [B, 6] axis-angle + t mm, model to camera */
  poseGt: Float32Array;
  /** [B, k, 2] crop px: the keypoints projected with the ground-truth pose and the crop's K */
  kpGtPx: Float32Array;
  /** [B, H, H, k] Gaussian heatmap targets (each channel sums to 1), H = the heatmap side */
  targets: Float32Array;
}

/** The ground truth a training batch is compared with. keypointsMm [k, 3], model frame. */
export function keypointTargets(samples: readonly TrainingSample[], keypointsMm: Float64Array, heatmapSide: number, stride: number, sigmaCells: number): KeypointTargets {
  const B = samples.length;
  const k = keypointsMm.length / 3;
  const poseGt = new Float32Array(B * 6);
  const kpGtPx = new Float32Array(B * k * 2);
  const r = new Float64Array(3);
  samples.forEach((s, b) => {
    so3Log(r, s.rM2c);
    poseGt.set(r, 6 * b);
    poseGt.set(s.tM2cMm, 6 * b + 3);
    kpGtPx.set(projectKeypoints(keypointsMm, s.rM2c, s.tM2cMm, s.kCrop), 2 * k * b);
  });
  return { poseGt, kpGtPx, targets: gaussianTargets(kpGtPx, B, k, heatmapSide, sigmaCells, stride) };
}

/** Project [k, 3] mm with R, t, K: [k, 2] px (the float64 projection, as float32 for the tensors). */
export function projectKeypoints(pts: Float64Array, R: ArrayLike<number>, t: ArrayLike<number>, K: ArrayLike<number>): Float32Array {
  return Float32Array.from(projectModelPoints(pts, R, t, K));
}

/** The order of n training items in epoch `epoch` of a run seeded `seed` (a seeded shuffle). */
export function epochOrder(seed: number, epoch: number, n: number): number[] {
  return new Rng(hashSeed(seed, 0x5eed, epoch)).shuffle(Array.from({ length: n }, (_, i) => i));
}

/** m rows of pts [n, 3] by a shuffle seeded with `seed` (all of pts when m >= n). */
export function pickRows(pts: Float64Array, m: number, seed: number): Float64Array {
  const n = pts.length / 3;
  if (m >= n) return pts;
  const idx = new Rng(seed).shuffle(Array.from({ length: n }, (_, i) => i)).slice(0, m);
  const out = new Float64Array(3 * m);
  idx.forEach((i, j) => out.set(pts.subarray(3 * i, 3 * i + 3), 3 * j));
  return out;
}
