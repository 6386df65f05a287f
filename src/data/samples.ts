import { kDefaultAugment, colourJitter, pasteOccluder, randomBackground, replaceBackground, type AugmentOptions } from './augment';
import { projectModelPoints } from '../solver/projection';
import { cropAroundBox, cropK, reducedWindow, reductionFor, resampleMask, resampleRgb, viewWindow, type CropWindow } from './crop';
import type { Dataset, DatasetObject } from './dataset';
import type { ImageStore } from './imageStore';
import { boxCorners } from './mesh';
import { hashSeed, Rng } from './rng';
import { mat3Apply, mat3Inverse, mat3Mul, mat3Transpose } from '../solver/linalg';
import { so3Exp } from '../solver/so3';

/**
 * Training samples: one object instance, cropped square around the object and resized to the network
 * input, with the crop's own intrinsics and the instance's pose. Plain typed arrays; train/ owns what
 * is derived from them (keypoints, targets, batches) and turns them into tensors.
 */
export interface InstanceRef {
  image: number;
  instance: number;
}

export interface Sample {
  imageKey: string;
  objId: number;
  outPx: number;
  /** [outPx, outPx, 3] RGB in [0, 1], rows top to bottom */
  rgb: Float32Array;
  /** [outPx, outPx] 1 where the object is visible; all 0 when hasMask is false */
  mask: Float32Array;
  hasMask: boolean;
  /** [9] row-major intrinsics of the crop, px */
  kCrop: Float64Array;
  crop: CropWindow;
  /** [9] row-major, model to camera */
  rM2c: Float64Array;
  /** [3] mm */
  tM2cMm: Float64Array;
}

export interface SampleOptions {
  /** Network input side, px. */
  outPx: number;
  /** Crop side = longest side of the object's box x (1 + padding). */
  padding: number;
  /** 'mask': the visible mask's box (falls back to the model when there is no mask); 'model': the projected mesh. */
  cropFrom: 'mask' | 'model';
  /** Off for evaluation. */
  augment?: AugmentOptions | false;
  /** Background source for replacement; procedural clutter by default. */
  background?: (outPx: number, rng: Rng) => Float32Array;
  /**
   * [x, y, w, h] image px: crop around this box (a detector's) instead of the ground truth's; cropFrom
   * is then unused and the crop reads nothing of the instance's pose or mask.
   */
  boxPx?: ArrayLike<number>;
}

export const kDefaultSampleOptions: SampleOptions = { outPx: 128, padding: 0.15, cropFrom: 'model', augment: kDefaultAugment };

export interface ListOptions {
  /** Image indices to draw from (a split), all images by default. */
  images?: readonly number[];
  objIds?: readonly number[];
  /** Leave out instances less visible than this (BOP visib_fract), 0.1 by default. */
  minVisibFract?: number;
}

/** The instances a sampler draws from: visible enough, of the objects asked for. */
export function listInstances(ds: Dataset, opts: ListOptions = {}): InstanceRef[] {
  const out: InstanceRef[] = [];
  const minVisib = opts.minVisibFract ?? 0.1;
  const objs = opts.objIds ? new Set(opts.objIds) : undefined;
  const images = opts.images ?? ds.images.map((_, i) => i);
  for (const i of images) {
    ds.images[i].instances.forEach((ins, k) => {
      if (objs && !objs.has(ins.objId)) return;
      if (ins.visibFract !== undefined && ins.visibFract < minVisib) return;
      out.push({ image: i, instance: k });
    });
  }
  return out;
}

/**
 * Makes sample `index` of a run seeded `seed`: the same (seed, index) gives the same bytes whatever
 * order samples are made in.
 */
export async function makeSample(
  ds: Dataset,
  store: ImageStore,
  ref: InstanceRef,
  opts: SampleOptions = kDefaultSampleOptions,
  seed = 0,
  index = 0,
): Promise<Sample> {
  const im = ds.images[ref.image];
  const ins = im.instances[ref.instance];
  const obj = ds.objects.find((o) => o.id === ins.objId);
  if (!obj) throw new Error(`${im.key}: object ${ins.objId} has no entry in the dataset`);
  const rng = new Rng(hashSeed(seed, index, ref.image, ref.instance));
  const aug = opts.augment || undefined;

  const maskPath = ins.maskVisibPath ?? ins.maskPath;
  const [rgbImg, maskImg] = await Promise.all([store.get(im.rgbPath), maskPath ? store.getMask(maskPath) : Promise.resolve(undefined)]);
  if (rgbImg.widthPx !== im.widthPx || rgbImg.heightPx !== im.heightPx) {
    throw new Error(`${im.rgbPath}: decoded as ${rgbImg.widthPx}x${rgbImg.heightPx}, ${im.widthPx}x${im.heightPx} expected`);
  }
  const sized = maskImg && maskImg.widthPx === im.widthPx && maskImg.heightPx === im.heightPx ? maskImg : undefined;
  // An empty mask (validation reports it) is no mask: background replacement through it would paint over the object.
  const fullMaskBox = sized?.boxPx;
  const usableMask = fullMaskBox ? sized : undefined;

  let box: ArrayLike<number> | undefined = opts.boxPx;
  if (!box && opts.cropFrom === 'mask') box = fullMaskBox;
  box ??= modelBox(obj, ins.rM2c, ins.tM2cMm, im.kPx);
  const crop = cropAroundBox(box, opts.padding, opts.outPx);
  if (aug) {
    // No draw for the choice where there is none: runs without fine crops keep their streams.
    const fine = aug.fineShare > 0 && rng.next() < aug.fineShare;
    const scale = fine ? aug.fineScaleJitter : aug.scaleJitter;
    const shift = fine ? aug.fineShiftJitter : aug.shiftJitter;
    crop.sidePx *= rng.uniform(1 - scale, 1 + scale);
    crop.cxPx += crop.sidePx * rng.uniform(-shift, shift);
    crop.cyPx += crop.sidePx * rng.uniform(-shift, shift);
  }
  const turn = aug && aug.rotationDeg > 0 ? cameraTurn(im.kPx, crop, (rng.uniform(-aug.rotationDeg, aug.rotationDeg) * Math.PI) / 180) : undefined;
  const rgb = resampleRgb(rgbImg, crop, turn?.srcFromView);
  const mask = usableMask ? resampleMask(usableMask, crop, turn?.srcFromView) : new Float32Array(opts.outPx * opts.outPx);
  if (aug) {
    if (usableMask && rng.next() < aug.backgroundProb) {
      replaceBackground(rgb, mask, (opts.background ?? randomBackground)(opts.outPx, rng));
    }
    // No draw where occlusion is off: runs without it keep their streams. Before the colour jitter, which lights
    // the occluder as the rest of the crop.
    if (usableMask && aug.occlusionProb > 0 && rng.next() < aug.occlusionProb) pasteOccluder(rgb, mask, opts.outPx, rng);
    colourJitter(rgb, rng, aug);
  }
  const kCrop = cropK(im.kPx, crop);
  return {
    imageKey: im.key,
    objId: ins.objId,
    outPx: opts.outPx,
    rgb,
    mask,
    hasMask: !!usableMask,
    kCrop,
    crop,
    rM2c: turn ? mat3Mul(new Float64Array(9), turn.q, ins.rM2c) : ins.rM2c,
    tM2cMm: turn ? mat3Apply(new Float64Array(3), turn.q, ins.tM2cMm) : ins.tM2cMm,
  };
}

/**
 * The camera turned by `angleRad` about the ray through the crop's centre: its rotation q (row-major, old
 * camera frame to new; a pose R, t becomes q R, q t) and the homography K q^T K^-1 from the new image's px
 * to the old's. The crop's centre stays where it is, so the object stays in the crop; a pure rotation
 * about the camera's centre is exact for any scene (no depth needed).
 */
function cameraTurn(kPx: ArrayLike<number>, crop: CropWindow, angleRad: number): { q: Float64Array; srcFromView: Float64Array } {
  const kInv = mat3Inverse(new Float64Array(9), kPx);
  const ray = mat3Apply(new Float64Array(3), kInv, [crop.cxPx, crop.cyPx, 1]);
  const n = Math.hypot(ray[0], ray[1], ray[2]);
  const q = so3Exp(new Float64Array(9), [(angleRad * ray[0]) / n, (angleRad * ray[1]) / n, (angleRad * ray[2]) / n]);
  const kqT = mat3Mul(new Float64Array(9), kPx, mat3Transpose(new Float64Array(9), q));
  return { q, srcFromView: mat3Mul(new Float64Array(9), kqT, kInv) };
}

/**
 * The whole image of instance `ref`, letterboxed into a viewPx square (the localiser's input) and, for
 * training, augmented: the window scaled by U(0.8, 1.25) and shifted by up to 0.2 of its side (so the
 * object is seen at other places and sizes than the few a small dataset has), the background outside
 * the instance's visible mask replaced with probability backgroundProb (so the background cannot be
 * memorised), and colour jitter. Reads no pose; returns the window used (boxes map through it).
 */
export async function makeView(ds: Dataset, store: ImageStore, ref: InstanceRef, viewPx: number,
  augment: AugmentOptions | false, seed = 0, index = 0): Promise<{ rgb: Float32Array; window: CropWindow }> {
  const im = ds.images[ref.image];
  const ins = im.instances[ref.instance];
  const img = await store.get(im.rgbPath);
  if (img.widthPx !== im.widthPx || img.heightPx !== im.heightPx) {
    throw new Error(`${im.rgbPath}: decoded as ${img.widthPx}x${img.heightPx}, ${im.widthPx}x${im.heightPx} expected`);
  }
  const window = viewWindow(im.widthPx, im.heightPx, viewPx);
  // Through the reduced image (crop.ts resampleView), cached by the store.
  const view = async (w: CropWindow) => {
    const f = reductionFor(w);
    return resampleRgb(await store.getReduced(im.rgbPath, f), reducedWindow(w, f));
  };
  if (!augment) return { rgb: await view(window), window };
  const rng = new Rng(hashSeed(seed, index, ref.image, ref.instance, 0x71e3));
  window.sidePx *= Math.exp(rng.uniform(Math.log(0.8), Math.log(1.25)));
  window.cxPx += window.sidePx * rng.uniform(-0.2, 0.2);
  window.cyPx += window.sidePx * rng.uniform(-0.2, 0.2);
  const rgb = await view(window);
  const maskPath = ins.maskVisibPath ?? ins.maskPath;
  if (maskPath && rng.next() < augment.backgroundProb) {
    const m = await store.getMask(maskPath);
    if (m.widthPx === im.widthPx && m.heightPx === im.heightPx && m.boxPx) {
      // The mask through the same reduction: averaged values >= 128 are the pixels mostly object.
      const f = reductionFor(window);
      const objectMask = resampleMask(await store.getReduced(maskPath, f, true), reducedWindow(window, f));
      replaceBackground(rgb, objectMask, randomBackground(viewPx, rng));
    }
  }
  colourJitter(rgb, rng, augment);
  return { rgb, window };
}

/** [x, y, w, h] image px of the object's mesh (else its bounding box) projected with a pose. */
export function modelBox(obj: DatasetObject, r: Float64Array, tMm: Float64Array, kPx: Float64Array): [number, number, number, number] {
  return pointsBox(obj.mesh ? obj.mesh.positions : boxCorners(obj.boundsMm), r, tMm, kPx);
}

/** [x, y, w, h] image px: the box of pts [n, 3] (model frame, mm) projected with r [9] row-major, tMm [3] and kPx [9]. */
export function pointsBox(pts: ArrayLike<number>, r: ArrayLike<number>, tMm: ArrayLike<number>, kPx: ArrayLike<number>): [number, number, number, number] {
  const uv = projectModelPoints(pts, r, tMm, kPx);
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (let i = 0; i < uv.length; i += 2) {
    x0 = Math.min(x0, uv[i]); x1 = Math.max(x1, uv[i]);
    y0 = Math.min(y0, uv[i + 1]); y1 = Math.max(y1, uv[i + 1]);
  }
  return [x0, y0, x1 - x0, y1 - y0];
}
