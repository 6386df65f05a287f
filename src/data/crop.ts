import type { RgbaImage } from './image';

/**
 * A square crop resized to the network input, and the intrinsics that go with it.
 *
 * Pixel convention (OpenCV): pixel (i, j) has its centre at (u, v) = (i, j); its area spans ±0.5.
 * A crop of side sidePx centred on (cxPx, cyPx), resized to outPx, maps an image point to the crop by
 *   u' = s (u - cxPx) + (outPx - 1) / 2,   s = outPx / sidePx        (and the same for v)
 * so output pixel centres 0 .. outPx-1 span exactly the crop's pixel area. Written as a matrix
 * A = [[s, 0, tx], [0, s, ty], [0, 0, 1]], the crop's intrinsics are kCrop = A K: projecting with kCrop
 * equals projecting with K and then cropping (tests/data/crop.test.ts checks both ways, and against
 * the resampled pixels).
 */
export interface CropWindow {
  /** Centre in image px (OpenCV convention). */
  cxPx: number;
  cyPx: number;
  sidePx: number;
  outPx: number;
}

/**
 * The square crop around a box [x, y, w, h] px: side = its longest side (at least 8 px) x (1 + padding),
 * centred on it. Training jitters this window; evaluation and prediction cut it as is.
 */
export function cropAroundBox(box: ArrayLike<number>, padding: number, outPx: number): CropWindow {
  return { cxPx: box[0] + box[2] / 2, cyPx: box[1] + box[3] / 2, sidePx: Math.max(box[2], box[3], 8) * (1 + padding), outPx };
}

/** The square window that letterboxes a whole W x H image into a viewPx square (pixel areas included). */
export function viewWindow(widthPx: number, heightPx: number, viewPx: number): CropWindow {
  return { cxPx: (widthPx - 1) / 2, cyPx: (heightPx - 1) / 2, sidePx: Math.max(widthPx, heightPx), outPx: viewPx };
}

export interface CropAffine {
  s: number;
  tx: number;
  ty: number;
}

export function cropAffine(c: CropWindow): CropAffine {
  const s = c.outPx / c.sidePx;
  return { s, tx: (c.outPx - 1) / 2 - s * c.cxPx, ty: (c.outPx - 1) / 2 - s * c.cyPx };
}

/** kCrop = A K, [9] row-major. */
export function cropK(kPx: ArrayLike<number>, c: CropWindow): Float64Array {
  const { s, tx, ty } = cropAffine(c);
  return Float64Array.from([
    s * kPx[0] + tx * kPx[6], s * kPx[1] + tx * kPx[7], s * kPx[2] + tx * kPx[8],
    s * kPx[3] + ty * kPx[6], s * kPx[4] + ty * kPx[7], s * kPx[5] + ty * kPx[8],
    kPx[6], kPx[7], kPx[8],
  ]);
}

/** Image points [n, 2] px to crop points [n, 2] px. */
export function cropPoints(ptsPx: ArrayLike<number>, c: CropWindow): Float64Array {
  const { s, tx, ty } = cropAffine(c);
  const out = new Float64Array(ptsPx.length);
  for (let i = 0; i + 1 < ptsPx.length; i += 2) {
    out[i] = s * ptsPx[i] + tx;
    out[i + 1] = s * ptsPx[i + 1] + ty;
  }
  return out;
}

/**
 * Resamples the crop from an RGBA image: bilinear, with k x k supersampling when shrinking by more than
 * 2x (k = ceil(1 / s), at most 4) so small objects in large crops do not alias. Outside the image reads
 * as 0. Returns RGB [outPx, outPx, 3] in [0, 1] and, when channel >= 0, that channel of a mask image
 * thresholded at 128 into [outPx, outPx] (1 inside).
 */
/**
 * Whole-image views shrink images 4 to 10 times. Resampled from the image area-averaged by f (a power
 * of two, at most 8, leaving at least a 2x shrink so that resampleRgb still takes its 2 x 2 sub-samples
 * and edges stay sharp), each output pixel costs 4 bilinear taps instead of 16 and still averages every
 * source pixel under it. reductionFor picks f, reduceImage makes the reduced image (callers may cache
 * it), reducedWindow maps the window into it.
 */
export function reductionFor(c: CropWindow): number {
  let f = 1;
  while (f < 8 && c.sidePx / c.outPx >= 4 * f) f *= 2;
  return f;
}

/** img area-averaged over f x f blocks: floor(W / f) x floor(H / f) (a last partial block is dropped). */
export function reduceImage(img: RgbaImage, f: number): RgbaImage {
  if (f === 1) return img;
  const w = Math.floor(img.widthPx / f), h = Math.floor(img.heightPx / f), W = img.widthPx;
  const out = new Uint8Array(w * h * 4);
  const inv = 1 / (f * f);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let r = 0, g = 0, b = 0, a = 0;
      for (let dy = 0; dy < f; dy++) {
        let p = 4 * ((y * f + dy) * W + x * f);
        for (let dx = 0; dx < f; dx++, p += 4) { r += img.rgba[p]; g += img.rgba[p + 1]; b += img.rgba[p + 2]; a += img.rgba[p + 3]; }
      }
      const o = 4 * (y * w + x);
      out[o] = Math.round(r * inv); out[o + 1] = Math.round(g * inv); out[o + 2] = Math.round(b * inv); out[o + 3] = Math.round(a * inv);
    }
  }
  return { widthPx: w, heightPx: h, rgba: out };
}

/** The window in the coordinates of the image reduced by f (reduced pixel j's centre is at f j + (f - 1) / 2). */
export function reducedWindow(c: CropWindow, f: number): CropWindow {
  return { cxPx: (c.cxPx - (f - 1) / 2) / f, cyPx: (c.cyPx - (f - 1) / 2) / f, sidePx: c.sidePx / f, outPx: c.outPx };
}

/** A view's RGB: the window resampled from `reduced`, img reduced by reductionFor(c) (made here when not given). */
export function resampleView(img: RgbaImage, c: CropWindow, reduced?: RgbaImage): Float32Array {
  const f = reductionFor(c);
  return resampleRgb(reduced ?? reduceImage(img, f), reducedWindow(c, f));
}

/**
 * The window's RGB in [0, 1]. With `srcFromView` (3x3 row-major homography), the window is cut from a
 * virtual image whose px x' map to img's px as x ~ srcFromView x' (a camera rotated about its centre:
 * srcFromView = K Q^T K^-1, samples.ts).
 */
export function resampleRgb(img: RgbaImage, c: CropWindow, srcFromView?: ArrayLike<number>): Float32Array {
  return resample(img, c, 3, (v) => v / 255, srcFromView);
}

export function resampleMask(img: RgbaImage, c: CropWindow, srcFromView?: ArrayLike<number>): Float32Array {
  return resample(img, c, 1, (v) => (v >= 128 ? 1 : 0), srcFromView);
}

function resample(img: RgbaImage, c: CropWindow, channels: 1 | 3, finish: (v: number) => number, hom?: ArrayLike<number>): Float32Array {
  const { s, tx, ty } = cropAffine(c);
  const out = new Float32Array(c.outPx * c.outPx * channels);
  const k = s < 0.5 ? Math.min(4, Math.ceil(1 / s)) : 1;
  const w = img.widthPx, h = img.heightPx, src = img.rgba;
  const acc = [0, 0, 0];
  for (let j = 0; j < c.outPx; j++) {
    for (let i = 0; i < c.outPx; i++) {
      acc[0] = acc[1] = acc[2] = 0;
      for (let sj = 0; sj < k; sj++) {
        for (let si = 0; si < k; si++) {
          // sub-sample positions spread evenly over the output pixel's area
          const ou = i + (si + 0.5) / k - 0.5;
          const ov = j + (sj + 0.5) / k - 0.5;
          let u = (ou - tx) / s;
          let v = (ov - ty) / s;
          if (hom) {
            const wh = hom[6] * u + hom[7] * v + hom[8];
            [u, v] = [(hom[0] * u + hom[1] * v + hom[2]) / wh, (hom[3] * u + hom[4] * v + hom[5]) / wh];
          }
          const x0 = Math.floor(u), y0 = Math.floor(v);
          const fx = u - x0, fy = v - y0;
          for (let dy = 0; dy < 2; dy++) {
            const y = y0 + dy;
            if (y < 0 || y >= h) continue;
            const wy = dy ? fy : 1 - fy;
            for (let dx = 0; dx < 2; dx++) {
              const x = x0 + dx;
              if (x < 0 || x >= w) continue;
              const wgt = wy * (dx ? fx : 1 - fx);
              if (wgt === 0) continue;
              const p = 4 * (y * w + x);
              for (let ch = 0; ch < channels; ch++) acc[ch] += wgt * src[p + ch];
            }
          }
        }
      }
      const o = channels * (j * c.outPx + i);
      for (let ch = 0; ch < channels; ch++) out[o + ch] = finish(acc[ch] / (k * k));
    }
  }
  return out;
}
