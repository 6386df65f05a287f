import { describe, expect, it } from 'vitest';
import {
  cropK, cropPoints, reduceImage, reducedWindow, reductionFor, resampleRgb, resampleView, viewWindow, type CropWindow,
} from '../../src/data/crop';
import { projectModelPoints } from '../../src/solver/projection';
import type { RgbaImage } from '../../src/data/image';
import { Rng } from '../../src/data/rng';
import { rotationOf } from './fixtures';

const K = [572.4114, 0, 325.2611, 0, 573.57043, 242.04899, 0, 0, 1];

describe('crop intrinsics', () => {
  it('projecting with the crop K equals cropping the projection', () => {
    const rng = new Rng(7);
    for (let trial = 0; trial < 20; trial++) {
      const r = rotationOf(rng.uniform(-2, 2), rng.uniform(-2, 2), rng.uniform(-2, 2));
      const t = [rng.uniform(-100, 100), rng.uniform(-100, 100), rng.uniform(400, 1200)];
      const pts = Float64Array.from({ length: 30 }, () => rng.uniform(-80, 80));
      const crop: CropWindow = { cxPx: rng.uniform(100, 500), cyPx: rng.uniform(100, 400), sidePx: rng.uniform(40, 300), outPx: 128 };
      const viaK = projectModelPoints(pts, r, t, cropK(K, crop));
      const viaCrop = cropPoints(projectModelPoints(pts, r, t, K), crop);
      for (let i = 0; i < viaK.length; i++) expect(viaK[i]).toBeCloseTo(viaCrop[i], 9);
      // Any 3x3 K, not only [fx s cx; 0 fy cy; 0 0 1]: a scaled K (a projective camera matrix is defined up
      // to scale) and one whose last row is not (0, 0, 1) give the same pixels through the crop.
      const Kg = K.map((v) => v * 2.5);
      Kg[6] = 1e-4; Kg[7] = -2e-4;
      const gK = projectModelPoints(pts, r, t, cropK(Kg, crop));
      const gCrop = cropPoints(projectModelPoints(pts, r, t, Kg), crop);
      for (let i = 0; i < gK.length; i++) expect(gK[i]).toBeCloseTo(gCrop[i], 8);
    }
  });


  it('the crop centre lands on the output centre and the side spans the output', () => {
    const crop: CropWindow = { cxPx: 300, cyPx: 200, sidePx: 64, outPx: 128 };
    const p = cropPoints([300, 200, 300 - 32, 200], crop);
    expect(p[0]).toBeCloseTo(63.5, 12);
    expect(p[1]).toBeCloseTo(63.5, 12);
    // the crop covers u in [cx - side/2, cx + side/2]; its left end is the output's left pixel edge, -0.5
    expect(p[2]).toBeCloseTo(-0.5, 12);
  });

  it('the resampled pixels agree: a bright dot at a projected point appears at its crop-K projection', () => {
    const w = 640, h = 480;
    const rng = new Rng(11);
    for (let trial = 0; trial < 6; trial++) {
      const r = rotationOf(rng.uniform(-1, 1), rng.uniform(-1, 1), rng.uniform(-1, 1));
      const t = [rng.uniform(-50, 50), rng.uniform(-50, 50), rng.uniform(500, 900)];
      const X = [rng.uniform(-40, 40), rng.uniform(-40, 40), rng.uniform(-40, 40)];
      const [u, v] = projectModelPoints(X, r, t, K);
      // Draw a Gaussian dot centred exactly at (u, v) (pixel centres at integers).
      const rgba = new Uint8Array(w * h * 4);
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
        const g = Math.exp(-((x - u) ** 2 + (y - v) ** 2) / (2 * 3 ** 2));
        rgba[4 * (y * w + x)] = Math.round(255 * g);
      }
      const img: RgbaImage = { widthPx: w, heightPx: h, rgba };
      const crop: CropWindow = { cxPx: u + rng.uniform(-20, 20), cyPx: v + rng.uniform(-20, 20), sidePx: rng.uniform(80, 160), outPx: 128 };
      const out = resampleRgb(img, crop);
      let sx = 0, sy = 0, sw = 0;
      for (let y = 0; y < 128; y++) for (let x = 0; x < 128; x++) {
        const val = out[3 * (y * 128 + x)];
        sx += val * x; sy += val * y; sw += val;
      }
      const [uc, vc] = projectModelPoints(X, r, t, cropK(K, crop));
      expect(Math.abs(sx / sw - uc)).toBeLessThan(0.05);
      expect(Math.abs(sy / sw - vc)).toBeLessThan(0.05);
    }
  });

  it('views resample through an area-averaged image: the same geometry, one tap a pixel', () => {
    // reduceImage by hand on a 4x2 image, f = 2: each output pixel is its 2x2 block's mean
    const tiny: RgbaImage = { widthPx: 4, heightPx: 2, rgba: Uint8Array.from([0, 0, 0, 0, 10, 0, 0, 0, 20, 0, 0, 0, 30, 0, 0, 0, 4, 0, 0, 0, 6, 0, 0, 0, 100, 0, 0, 0, 200, 0, 0, 0]) };
    expect(Array.from(reduceImage(tiny, 2).rgba.filter((_, i) => i % 4 === 0))).toEqual([5, 88]);
    expect(reductionFor(viewWindow(640, 480, 128))).toBe(2);
    expect(reductionFor(viewWindow(640, 480, 64))).toBe(4);
    expect(reductionFor(viewWindow(100, 80, 128))).toBe(1);
    // A Gaussian dot at a known place lands at the same view position through the reduction.
    const w = 640, h = 480, u = 401.3, v = 177.8;
    const rgba = new Uint8Array(w * h * 4);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) rgba[4 * (y * w + x)] = Math.round(255 * Math.exp(-((x - u) ** 2 + (y - v) ** 2) / (2 * 12 ** 2)));
    const img: RgbaImage = { widthPx: w, heightPx: h, rgba };
    const win = viewWindow(w, h, 128);
    const centroid = (out: Float32Array) => {
      let sx = 0, sy = 0, sw = 0;
      for (let y = 0; y < 128; y++) for (let x = 0; x < 128; x++) { const val = out[3 * (y * 128 + x)]; sx += val * x; sy += val * y; sw += val; }
      return [sx / sw, sy / sw];
    };
    const [ux, vy] = cropPoints([u, v], win);
    const [cx, cy] = centroid(resampleView(img, win));
    expect(Math.abs(cx - ux)).toBeLessThan(0.05);
    expect(Math.abs(cy - vy)).toBeLessThan(0.05);
    // the reduced window maps reduced pixel centres as the full one maps the originals
    const r = reducedWindow(win, 4);
    expect(cropPoints([(u - 1.5) / 4, (v - 1.5) / 4], r)[0]).toBeCloseTo(ux, 9);
    expect(cropPoints([(u - 1.5) / 4, (v - 1.5) / 4], r)[1]).toBeCloseTo(vy, 9);
  });
});

describe('crop resampling', () => {
  /** The mean of k x k bilinear sub-samples spread over output pixel (i, j)'s area, written pixel by pixel. */
  function directPixel(img: RgbaImage, c: CropWindow, i: number, j: number, ch: number): number {
    const s = c.outPx / c.sidePx;
    const k = s < 0.5 ? Math.min(4, Math.ceil(1 / s)) : 1;
    const at = (x: number, y: number) => (x < 0 || y < 0 || x >= img.widthPx || y >= img.heightPx ? 0 : img.rgba[4 * (y * img.widthPx + x) + ch]);
    let sum = 0;
    for (let sj = 0; sj < k; sj++) {
      for (let si = 0; si < k; si++) {
        // output px (ou, ov) -> image px: u = cx + (ou - (outPx - 1) / 2) / s
        const u = c.cxPx + (i + (si + 0.5) / k - 0.5 - (c.outPx - 1) / 2) / s;
        const v = c.cyPx + (j + (sj + 0.5) / k - 0.5 - (c.outPx - 1) / 2) / s;
        const x0 = Math.floor(u), y0 = Math.floor(v), fx = u - x0, fy = v - y0;
        sum += (1 - fy) * ((1 - fx) * at(x0, y0) + fx * at(x0 + 1, y0)) + fy * ((1 - fx) * at(x0, y0 + 1) + fx * at(x0 + 1, y0 + 1));
      }
    }
    return sum / (k * k);
  }

  it('every output pixel is the mean of its bilinear sub-samples, windows inside, across and outside the image edge', () => {
    const rng = new Rng(11);
    const W = 97, H = 61;
    const img: RgbaImage = { widthPx: W, heightPx: H, rgba: Uint8Array.from({ length: W * H * 4 }, () => rng.int(256)) };
    for (let trial = 0; trial < 24; trial++) {
      // Shrinks of 0.1 to 3 times (k = 1 to 4), centres from beyond the left/top edge to beyond the right/bottom.
      const c: CropWindow = { cxPx: rng.uniform(-20, W + 20), cyPx: rng.uniform(-20, H + 20), sidePx: rng.uniform(5, 120), outPx: [8, 16, 24][trial % 3] };
      const out = resampleRgb(img, c);
      for (let j = 0; j < c.outPx; j++) {
        for (let i = 0; i < c.outPx; i++) {
          for (let ch = 0; ch < 3; ch++) {
            expect(Math.abs(out[3 * (j * c.outPx + i) + ch] - directPixel(img, c, i, j, ch) / 255)).toBeLessThan(1e-6);
          }
        }
      }
    }
  });
});
