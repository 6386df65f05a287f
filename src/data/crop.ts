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

/** A box [x, y, w, h] from view px to image px (the inverse of the window's affine map). */
export function boxViewToImage(box: ArrayLike<number>, w: CropWindow): Float64Array {
  const { s, tx, ty } = cropAffine(w);
  // Box edges and pixel centres share one coordinate system: the affine map takes the centre, and
  // scales the size.
  const cx = (box[0] + box[2] / 2 - tx) / s;
  const cy = (box[1] + box[3] / 2 - ty) / s;
  return Float64Array.from([cx - box[2] / s / 2, cy - box[3] / s / 2, box[2] / s, box[3] / s]);
}

/** A box [x, y, w, h] from image px to view px. */
export function boxImageToView(box: ArrayLike<number>, w: CropWindow): Float64Array {
  const { s, tx, ty } = cropAffine(w);
  const cx = s * (box[0] + box[2] / 2) + tx;
  const cy = s * (box[1] + box[3] / 2) + ty;
  return Float64Array.from([cx - (s * box[2]) / 2, cy - (s * box[3]) / 2, s * box[2], s * box[3]]);
}

/**
 * Whole-image views shrink images 4 to 10 times. Resampled from the image area-averaged by f (a power
 * of two, at most 8, leaving at least a 2x shrink so that resampleRgb still takes its k x k sub-samples
 * and edges stay sharp), each output pixel reads far fewer source pixels and still averages every
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
 * Resamples the window from an RGBA image: bilinear, with k x k sub-samples spread over each output
 * pixel when shrinking by more than 2x (k = ceil(1 / s), at most 4) so small objects in large crops do
 * not alias; outside the image reads as 0. resampleRgb gives RGB [outPx, outPx, 3] in [0, 1],
 * resampleMask a mask's R channel thresholded at 128, [outPx, outPx] (1 inside).
 *
 * The window's RGB in [0, 1]. With `srcFromView` (3x3 row-major homography), the window is cut from a
 * virtual image whose px x' map to img's px as x ~ srcFromView x' (a camera rotated about its centre:
 * srcFromView = K Q^T K^-1, samples.ts).
 */
export function resampleRgb(img: RgbaImage, c: CropWindow, srcFromView?: ArrayLike<number>): Float32Array {
  return resample(img, c, 3, srcFromView);
}

export function resampleMask(img: RgbaImage, c: CropWindow, srcFromView?: ArrayLike<number>): Float32Array {
  return resample(img, c, 1, srcFromView);
}

/**
 * RGB in [0, 1] (channels 3) or the R channel thresholded at 128 (channels 1). Every training crop and
 * view passes here, so the loops are written for speed: without a homography u depends on the column
 * alone and v on the row alone, and the sum separates into two passes (resampleSeparable).
 */
function resample(img: RgbaImage, c: CropWindow, channels: 1 | 3, hom?: ArrayLike<number>): Float32Array {
  const { s, tx, ty } = cropAffine(c);
  const n = c.outPx;
  const k = s < 0.5 ? Math.min(4, Math.ceil(1 / s)) : 1;
  // Sub-sample positions spread evenly over each output pixel's area: column i's k positions, row j's.
  const us = new Float64Array(n * k), vs = new Float64Array(n * k);
  for (let i = 0; i < n; i++) {
    for (let q = 0; q < k; q++) {
      us[i * k + q] = (i + (q + 0.5) / k - 0.5 - tx) / s;
      vs[i * k + q] = (i + (q + 0.5) / k - 0.5 - ty) / s;
    }
  }
  return hom ? resampleHomography(img, n, k, us, vs, channels, hom) : resampleSeparable(img, n, k, us, vs, channels);
}

/**
 * One axis of a separable resampling: for each output index o, the source indices its k sub-samples'
 * bilinear taps read and their summed weights (CSR: entries start[o] .. start[o + 1] - 1), taps outside
 * 0 .. size - 1 left out (they read as 0). Neighbouring sub-samples share taps, so an output index
 * reads about k + 1 source indices instead of 2 k.
 */
function axisFilter(pos: Float64Array, n: number, k: number, size: number): { start: Int32Array; index: Int32Array; weight: Float64Array } {
  const start = new Int32Array(n + 1), index = new Int32Array(2 * n * k), weight = new Float64Array(2 * n * k);
  let e = 0;
  for (let o = 0; o < n; o++) {
    start[o] = e;
    for (let q = o * k; q < (o + 1) * k; q++) {
      const x0 = Math.floor(pos[q]), f = pos[q] - x0;
      for (let d = 0; d < 2; d++) {
        const x = x0 + d, w = d ? f : 1 - f;
        if (x < 0 || x >= size || w === 0) continue;
        // Sub-sample positions increase with q, so a shared tap is the last one written.
        if (e > start[o] && index[e - 1] === x) weight[e - 1] += w;
        else { index[e] = x; weight[e] = w; e++; }
      }
    }
  }
  start[n] = e;
  return { start, index, weight };
}

/**
 * The k x k bilinear sub-samples of every output pixel, summed as two passes: each source row the
 * crop reads is filtered along x once, then the rows are combined along y. The same weights as
 * sub-sampling pixel by pixel (sums in another order), at a fraction of the reads.
 */
function resampleSeparable(img: RgbaImage, n: number, k: number, us: Float64Array, vs: Float64Array, channels: 1 | 3): Float32Array {
  const w = img.widthPx, src = img.rgba, kk = k * k;
  const out = new Float32Array(n * n * channels);
  const fx = axisFilter(us, n, k, w), fy = axisFilter(vs, n, k, img.heightPx);
  if (fy.start[n] === 0) return out;
  // Sub-sample positions increase with the output row, so the rows read run from the first tap to the last.
  const yMin = fy.index[0], yMax = fy.index[fy.start[n] - 1];
  // rows[(y - yMin) n + i]: source row y filtered along x for output column i, per channel.
  const rows = new Float64Array((yMax - yMin + 1) * n * channels);
  for (let y = yMin; y <= yMax; y++) {
    const base = 4 * y * w, r0 = (y - yMin) * n * channels;
    for (let i = 0; i < n; i++) {
      let a0 = 0, a1 = 0, a2 = 0;
      for (let e = fx.start[i]; e < fx.start[i + 1]; e++) {
        const p = base + 4 * fx.index[e], wt = fx.weight[e];
        a0 += wt * src[p];
        if (channels === 3) { a1 += wt * src[p + 1]; a2 += wt * src[p + 2]; }
      }
      const r = r0 + i * channels;
      rows[r] = a0;
      if (channels === 3) { rows[r + 1] = a1; rows[r + 2] = a2; }
    }
  }
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < n; i++) {
      let a0 = 0, a1 = 0, a2 = 0;
      for (let e = fy.start[j]; e < fy.start[j + 1]; e++) {
        const r = ((fy.index[e] - yMin) * n + i) * channels, wt = fy.weight[e];
        a0 += wt * rows[r];
        if (channels === 3) { a1 += wt * rows[r + 1]; a2 += wt * rows[r + 2]; }
      }
      finishPixel(out, j * n + i, channels, kk, a0, a1, a2);
    }
  }
  return out;
}

function resampleHomography(img: RgbaImage, n: number, k: number, us: Float64Array, vs: Float64Array, channels: 1 | 3, hom: ArrayLike<number>): Float32Array {
  const w = img.widthPx, h = img.heightPx, src = img.rgba, kk = k * k;
  const out = new Float32Array(n * n * channels);
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < n; i++) {
      let a0 = 0, a1 = 0, a2 = 0;
      for (let sj = 0; sj < k; sj++) {
        for (let si = 0; si < k; si++) {
          const u0 = us[i * k + si], v0 = vs[j * k + sj];
          const wh = hom[6] * u0 + hom[7] * v0 + hom[8];
          const u = (hom[0] * u0 + hom[1] * v0 + hom[2]) / wh, v = (hom[3] * u0 + hom[4] * v0 + hom[5]) / wh;
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
              const p = 4 * (y * w + x);
              a0 += wgt * src[p];
              if (channels === 3) { a1 += wgt * src[p + 1]; a2 += wgt * src[p + 2]; }
            }
          }
        }
      }
      finishPixel(out, j * n + i, channels, kk, a0, a1, a2);
    }
  }
  return out;
}

/** Output pixel o: the k x k sub-samples' mean, as RGB in [0, 1] or as a mask bit (>= 128). */
function finishPixel(out: Float32Array, o: number, channels: 1 | 3, kk: number, a0: number, a1: number, a2: number): void {
  if (channels === 3) {
    out[3 * o] = a0 / kk / 255;
    out[3 * o + 1] = a1 / kk / 255;
    out[3 * o + 2] = a2 / kk / 255;
  } else {
    out[o] = a0 / kk >= 128 ? 1 : 0;
  }
}
