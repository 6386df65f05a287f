import { describe, expect, it } from 'vitest';
import { cropK, cropPoints, projectPoints, resampleRgb, type CropWindow } from '../../src/data/crop';
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
      const viaK = projectPoints(pts, r, t, cropK(K, crop));
      const viaCrop = cropPoints(projectPoints(pts, r, t, K), crop);
      for (let i = 0; i < viaK.length; i++) expect(viaK[i]).toBeCloseTo(viaCrop[i], 9);
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
      const [u, v] = projectPoints(X, r, t, K);
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
      const [uc, vc] = projectPoints(X, r, t, cropK(K, crop));
      expect(Math.abs(sx / sw - uc)).toBeLessThan(0.05);
      expect(Math.abs(sy / sw - vc)).toBeLessThan(0.05);
    }
  });
});
