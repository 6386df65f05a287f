import { decode as decodePng } from 'fast-png';
import jpeg from 'jpeg-js';
import type { ImageKind, RgbaImage } from './image';

/**
 * Masks in every common encoding, read as the BOP toolkit and PVNet read them: a pixel is the object's
 * when its value is non-zero (bop_toolkit inout.load_im then `mask > 0`; clean-pvnet read_linemod_mask
 * `(mask != 0)`). So 0/1 masks (a boolean saved as PNG), 0/255 masks, 16-bit masks and label images
 * all work, which a ">= 128" test on a decoded RGBA image gets wrong (0/1 reads as empty, and a 16-bit
 * value of 1..255 keeps a high byte of 0).
 *   grey (1, 2, 4, 8, 16 bit)  value != 0
 *   palette                    index != 0 (the index is the label, as np.array(PIL.Image.open(...)) gives it)
 *   RGB                        any channel != 0
 *   grey+alpha, RGBA           colour != 0 and alpha != 0; where the colour is the same over the whole image
 *                              (a silhouette drawn only in alpha), alpha != 0
 *   JPEG                       max channel >= 128: lossy compression rings around edges, so "non-zero" would
 *                              grow the mask by the ringing
 * The result is an RgbaImage holding 255 (object) or 0 in R, G and B, alpha 255, so that everything that
 * reads masks (crop resampling, overlays) keeps a plain >= 128 test, with the object's pixel count and box.
 */
export function decodeMask(bytes: Uint8Array, kind: ImageKind): Mask {
  if (kind === 'jpeg') {
    const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 1024 });
    const n = img.width * img.height;
    return fromPredicate(img.width, img.height, (i) => Math.max(img.data[4 * i], img.data[4 * i + 1], img.data[4 * i + 2]) >= 128, n);
  }
  const png = decodePng(bytes);
  const w = png.width, h = png.height, n = w * h;
  const data = png.data;
  const depth = png.depth;
  if (depth < 8) {
    // Sub-byte samples stay packed, rows padded to whole bytes (PNG spec 7.2); palette or grey alike, one sample a pixel.
    const rowBytes = Math.ceil((w * depth * (png.palette ? 1 : png.channels)) / 8);
    const perByte = 8 / depth;
    const max = (1 << depth) - 1;
    return fromPredicate(w, h, (i) => {
      const y = Math.floor(i / w);
      const x = i - y * w;
      const byte = data[y * rowBytes + Math.floor(x / perByte)];
      const shift = 8 - depth * ((x % perByte) + 1);
      return ((byte >> shift) & max) !== 0;
    }, n);
  }
  if (png.palette) return fromPredicate(w, h, (i) => data[i] !== 0, n);
  const ch = png.channels;
  if (ch === 1 || ch === 3) {
    return fromPredicate(w, h, (i) => {
      for (let k = 0; k < ch; k++) if (data[i * ch + k] !== 0) return true;
      return false;
    }, n);
  }
  // With alpha: is the colour one value everywhere (a silhouette drawn in alpha alone)?
  const colours = ch - 1;
  let uniform = true;
  for (let i = 1; i < n && uniform; i++) {
    for (let k = 0; k < colours; k++) if (data[i * ch + k] !== data[k]) { uniform = false; break; }
  }
  return fromPredicate(w, h, (i) => {
    if (data[i * ch + colours] === 0) return false;
    if (uniform) return true;
    for (let k = 0; k < colours; k++) if (data[i * ch + k] !== 0) return true;
    return false;
  }, n);
}

export interface Mask extends RgbaImage {
  objectPixels: number;
  /** [x, y, w, h] px of the object's pixels, pixel areas included (OpenCV convention); undefined when empty. */
  boxPx: [number, number, number, number] | undefined;
}

function fromPredicate(widthPx: number, heightPx: number, isObject: (i: number) => boolean, n: number): Mask {
  const rgba = new Uint8Array(4 * n);
  let objectPixels = 0;
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = isObject(i) ? 255 : 0;
    if (v) {
      objectPixels++;
      const y = Math.floor(i / widthPx), x = i - y * widthPx;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      y1 = y;
    }
    rgba[4 * i] = v;
    rgba[4 * i + 1] = v;
    rgba[4 * i + 2] = v;
    rgba[4 * i + 3] = 255;
  }
  const boxPx: Mask['boxPx'] = objectPixels > 0 ? [x0 - 0.5, y0 - 0.5, x1 - x0 + 1, y1 - y0 + 1] : undefined;
  return { widthPx, heightPx, rgba, objectPixels, boxPx };
}
