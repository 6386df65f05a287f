/**
 * decodePure's JPEG path (src/data/decode/pure.ts, orientation.ts): EXIF orientation applied, as
 * browsers and OpenCV show the picture, checked against flips and quarter turns composed here; a JPEG
 * without its end marker decodes exactly as with it, a JPEG cut inside its scan still fails.
 */
import jpeg from 'jpeg-js';
import { describe, expect, it } from 'vitest';
import { decodePure } from '../../../src/data/decode/pure';
import type { RgbaImage } from '../../../src/data/image';
import { withExifOrientation } from '../../helpers/exif';

/** 32 x 16: a red 8 x 8 block at the top left, a blue one at the bottom right, a grey ramp elsewhere. */
function fixture(): Uint8Array {
  const W = 32, H = 16;
  const data = new Uint8Array(W * H * 4);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const i = 4 * (y * W + x);
      const g = 40 + 5 * x + 3 * y;
      const rgb = x < 8 && y < 8 ? [230, 20, 20] : x >= 24 && y >= 8 ? [20, 20, 230] : [g, g, g];
      data.set([...rgb, 255], i);
    }
  }
  return new Uint8Array(jpeg.encode({ data, width: W, height: H }, 100).data);
}

/** Pixel (x, y) of the result is pixel f(x, y) of img. */
function remap(img: RgbaImage, w: number, h: number, f: (x: number, y: number) => [number, number]): RgbaImage {
  const rgba = new Uint8Array(w * h * 4);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const [sx, sy] = f(x, y);
    rgba.set(img.rgba.subarray(4 * (sy * img.widthPx + sx), 4 * (sy * img.widthPx + sx) + 4), 4 * (y * w + x));
  }
  return { widthPx: w, heightPx: h, rgba };
}
const mirrorX = (a: RgbaImage) => remap(a, a.widthPx, a.heightPx, (x, y) => [a.widthPx - 1 - x, y]);
const mirrorY = (a: RgbaImage) => remap(a, a.widthPx, a.heightPx, (x, y) => [x, a.heightPx - 1 - y]);
/** A quarter turn clockwise: the top row becomes the right column. */
const turnCw = (a: RgbaImage) => remap(a, a.heightPx, a.widthPx, (x, y) => [y, a.heightPx - 1 - x]);

const kShown: Record<number, (a: RgbaImage) => RgbaImage> = {
  1: (a) => a,
  2: mirrorX,
  3: (a) => turnCw(turnCw(a)),
  4: mirrorY,
  5: (a) => mirrorX(turnCw(a)),
  6: turnCw,
  7: (a) => mirrorY(turnCw(a)),
  8: (a) => turnCw(turnCw(turnCw(a))),
};

function colourAt(img: RgbaImage, x: number, y: number): string {
  const i = 4 * (y * img.widthPx + x);
  const [r, g, b] = img.rgba.subarray(i, i + 3);
  return r > 150 && g < 90 && b < 90 ? 'red' : b > 150 && r < 90 && g < 90 ? 'blue' : 'other';
}

describe('decodePure, JPEG', () => {
  const plain = fixture();

  it('applies each EXIF orientation, 1 to 8, as the picture is shown', async () => {
    const stored = await decodePure(plain, 'jpeg');
    for (let o = 1; o <= 8; o++) {
      const shown = await decodePure(withExifOrientation(plain, o), 'jpeg');
      const want = kShown[o](stored);
      expect([shown.widthPx, shown.heightPx], `orientation ${o}`).toEqual([want.widthPx, want.heightPx]);
      expect(Buffer.from(shown.rgba).equals(Buffer.from(want.rgba)), `orientation ${o}: pixels`).toBe(true);
    }
    // What the tag means, by eye: 6 is a quarter turn clockwise, so the red top-left block goes to the top
    // right of a 16 x 32 picture; 8 the other way, to the bottom left.
    const six = await decodePure(withExifOrientation(plain, 6), 'jpeg');
    expect([six.widthPx, six.heightPx, colourAt(six, 12, 3), colourAt(six, 3, 28)]).toEqual([16, 32, 'red', 'blue']);
    const eight = await decodePure(withExifOrientation(plain, 8), 'jpeg');
    expect([colourAt(eight, 3, 28), colourAt(eight, 12, 3)]).toEqual(['red', 'blue']);
  });

  it('decodes a JPEG without its end marker as with it, and refuses one cut inside its scan', async () => {
    expect([plain[plain.length - 2], plain[plain.length - 1]]).toEqual([0xff, 0xd9]);
    const whole = await decodePure(plain, 'jpeg');
    const noEnd = await decodePure(plain.subarray(0, plain.length - 2), 'jpeg');
    expect(Buffer.from(noEnd.rgba).equals(Buffer.from(whole.rgba))).toBe(true);
    await expect(decodePure(plain.subarray(0, plain.length - 40), 'jpeg')).rejects.toThrow('the file ends inside its image data, without an end-of-image marker');
  });
});
