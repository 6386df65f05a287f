import { convertIndexedToRgb, decode as decodePng } from 'fast-png';
import exifr from 'exifr';
import jpeg from 'jpeg-js';
import type { DecodeImage, RgbaImage } from '../image';
import { applyExifOrientation } from './orientation';

/**
 * Pure-JS decoding (fast-png, jpeg-js): what Node uses, and works in a browser worker too. PNGs of
 * any bit depth, palette and channel count come out as RGBA8 (16-bit keeps the high byte; grey is
 * replicated to R, G and B). JPEGs come out as shown, their EXIF orientation applied (orientation.ts), as
 * browsers and OpenCV's imread show them.
 */
export const decodePure: DecodeImage = async (bytes, kind) => {
  if (kind === 'jpeg') {
    const whole = withEndMarker(bytes);
    let img: { width: number; height: number; data: Uint8Array };
    try {
      img = jpeg.decode(whole, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 1024 });
    } catch (e) {
      // The decoder would name the end marker appended here, a byte the file does not have.
      if (whole !== bytes) throw new Error('the file ends inside its image data, without an end-of-image marker');
      throw e;
    }
    return applyExifOrientation({ widthPx: img.width, heightPx: img.height, rgba: img.data }, await exifOrientation(bytes));
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

/**
 * Some writers end a JPEG without its EOI marker (FFD9); browsers and libjpeg decode such files, jpeg-js
 * refuses them ("marker was not found"). Appending the marker lets a file whose scan is whole decode
 * exactly as with it; a file cut inside its scan still fails ("unexpected marker"), as it must.
 */
function withEndMarker(bytes: Uint8Array): Uint8Array {
  const n = bytes.length;
  if (n >= 2 && bytes[n - 2] === 0xff && bytes[n - 1] === 0xd9) return bytes;
  const out = new Uint8Array(n + 2);
  out.set(bytes);
  out[n] = 0xff;
  out[n + 1] = 0xd9;
  return out;
}

/**
 * The JPEG's EXIF orientation (1 when it has none). An EXIF block exifr cannot parse counts as none, as
 * browsers show such a file unturned.
 */
async function exifOrientation(bytes: Uint8Array): Promise<number> {
  try {
    return (await exifr.orientation(bytes)) ?? 1;
  } catch {
    return 1;
  }
}
