import { convertIndexedToRgb, decode as decodePng } from 'fast-png';
import jpeg from 'jpeg-js';
import type { DecodeImage, RgbaImage } from '../image';

/**
 * Pure-JS decoding (fast-png, jpeg-js): what Node uses, and works in a browser worker too. PNGs of
 * any bit depth, palette and channel count come out as RGBA8 (16-bit keeps the high byte; grey is
 * replicated to R, G and B).
 */
export const decodePure: DecodeImage = async (bytes, kind) => {
  if (kind === 'jpeg') {
    const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 1024 });
    return { widthPx: img.width, heightPx: img.height, rgba: img.data };
  }
  const png = decodePng(bytes);
  const n = png.width * png.height;
  if (png.palette) {
    const rgb = convertIndexedToRgb(png);
    const ch = rgb.length / n;
    return expand(png.width, png.height, ch, (i, k) => rgb[i * ch + k]);
  }
  const ch = png.channels;
  if (png.depth < 8) {
    // fast-png leaves sub-byte greyscale packed, rows padded to whole bytes (PNG spec 7.2).
    const rowBytes = Math.ceil((png.width * png.depth) / 8);
    const perByte = 8 / png.depth;
    const max = (1 << png.depth) - 1;
    const data = png.data;
    return expand(png.width, png.height, 1, (i) => {
      const y = Math.floor(i / png.width);
      const x = i - y * png.width;
      const byte = data[y * rowBytes + Math.floor(x / perByte)];
      const shift = 8 - png.depth * ((x % perByte) + 1);
      return Math.round((((byte >> shift) & max) * 255) / max);
    });
  }
  const data = png.data;
  const shift = png.depth === 16 ? 8 : 0;
  return expand(png.width, png.height, ch, (i, k) => data[i * ch + k] >> shift);
};

function expand(widthPx: number, heightPx: number, channels: number, at: (i: number, k: number) => number): RgbaImage {
  const n = widthPx * heightPx;
  const rgba = new Uint8Array(n * 4);
  for (let i = 0; i < n; i++) {
    if (channels >= 3) {
      rgba[4 * i] = at(i, 0);
      rgba[4 * i + 1] = at(i, 1);
      rgba[4 * i + 2] = at(i, 2);
      rgba[4 * i + 3] = channels === 4 ? at(i, 3) : 255;
    } else {
      const g = at(i, 0);
      rgba[4 * i] = g;
      rgba[4 * i + 1] = g;
      rgba[4 * i + 2] = g;
      rgba[4 * i + 3] = channels === 2 ? at(i, 1) : 255;
    }
  }
  return { widthPx, heightPx, rgba };
}
