import type { RgbaImage } from '../image';

/**
 * EXIF orientation (the Orientation tag, 0x0112, of a JPEG's Exif APP1 segment; EXIF 2.32, 4.6.4 A):
 * how the stored pixels must be flipped and turned to show the picture upright, as phones store portrait
 * photos. Browsers (createImageBitmap's imageOrientation 'from-image') and OpenCV's imread apply it, so
 * PoseLab does too, everywhere: an image, its width and height, and any K given for it are the image as
 * shown, not as stored.
 *
 * Returns the image as shown: 1 (or any value outside 1..8) as it is; 2 mirrored left-right; 3 turned
 * 180 degrees; 4 mirrored top-bottom; 5 transposed; 6 turned 90 degrees clockwise; 7 transverse (the
 * anti-diagonal mirror); 8 turned 90 degrees anticlockwise. 5 to 8 swap width and height.
 */
export function applyExifOrientation(img: RgbaImage, orientation: number): RgbaImage {
  if (!(orientation >= 2 && orientation <= 8) || !Number.isInteger(orientation)) return img;
  const W = img.widthPx, H = img.heightPx;
  const swap = orientation >= 5;
  const outW = swap ? H : W, outH = swap ? W : H;
  const out = new Uint8Array(img.rgba.length);
  const rgba = img.rgba.byteOffset % 4 === 0 ? img.rgba : img.rgba.slice();
  const src = new Uint32Array(rgba.buffer, rgba.byteOffset, W * H);
  const dst = new Uint32Array(out.buffer);
  // Stored pixel (x, y) goes to (u, v) of the image as shown.
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      let u: number, v: number;
      switch (orientation) {
        case 2: u = W - 1 - x; v = y; break;
        case 3: u = W - 1 - x; v = H - 1 - y; break;
        case 4: u = x; v = H - 1 - y; break;
        case 5: u = y; v = x; break;
        case 6: u = H - 1 - y; v = x; break;
        case 7: u = H - 1 - y; v = W - 1 - x; break;
        default: u = y; v = W - 1 - x; break;
      }
      dst[v * outW + u] = src[y * W + x];
    }
  }
  return { widthPx: outW, heightPx: outH, rgba: out };
}
