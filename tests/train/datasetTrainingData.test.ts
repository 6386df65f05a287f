/**
 * The config's augmentation reaches the training crops. The crop jitter: with every crop fine and the fine jitter
 * 0, each training crop is the instance's unjittered crop (its K read against the oracle crop of the same
 * instance); with no fine share, none is. Background replacement and occluders: with the crop unjittered, a
 * training crop is its plain crop through the colour jitter (an affine map of RGB, fitted here) wherever nothing
 * was painted over it.
 */
import { describe, expect, it } from 'vitest';
import { decodePure } from '../../src/data/decode/pure';
import { loadDataset } from '../../src/data/load';
import { MemorySource } from '../../src/data/source/source';
import { datasetTrainingData } from '../../src/train/datasetTrainingData';
import { bopFixture } from '../data/fixtures';
import { tinyConfig } from './fixtureData';

describe('datasetTrainingData', () => {
  it('cuts training crops with the config\'s wide or fine jitter', async () => {
    const ds = await loadDataset(new MemorySource('fixture', bopFixture()));
    const crops = async (fineShare: number) => {
      const config = tinyConfig({ data: { scaleJitter: 0.5, shiftJitter: 0.4, fineShare, fineScaleJitter: 0, fineShiftJitter: 0 } });
      // evalSplit 'train': test(i) is training instance i's unjittered crop.
      const data = datasetTrainingData(ds, config, { decode: decodePure, objId: 1, evalSplit: 'train' });
      const same: boolean[] = [];
      for (let i = 0; i < data.trainCount; i++) {
        const plain = (await data.test(i)).kCrop;
        for (let s = 0; s < 4; s++) {
          const k = (await data.train(i, s, 3)).kCrop;
          same.push(k.every((v, j) => Math.abs(v - plain[j]) < 1e-9));
        }
      }
      return same;
    };
    const fine = await crops(1);
    expect(fine.length).toBeGreaterThanOrEqual(8);
    expect(fine.every(Boolean)).toBe(true);
    expect((await crops(0)).some(Boolean)).toBe(false);
  });

  it('replaces the background and paints occluders at the config\'s rates, 0 or 1, in the keypoint crops only', async () => {
    const ds = await loadDataset(new MemorySource('fixture', bopFixture()));
    // The share of a training crop's pixels off the affine map of RGB fitted from its plain crop by least squares.
    const offMap = (plain: Float32Array, aug: Float32Array): number => {
      const n = plain.length / 3;
      const ata = Array.from({ length: 4 }, () => new Float64Array(4));
      const atb = Array.from({ length: 3 }, () => new Float64Array(4));
      for (let i = 0; i < n; i++) {
        const x = [plain[3 * i], plain[3 * i + 1], plain[3 * i + 2], 1];
        for (let r = 0; r < 4; r++) {
          for (let c = 0; c < 4; c++) ata[r][c] += x[r] * x[c];
          for (let k = 0; k < 3; k++) atb[k][r] += x[r] * aug[3 * i + k];
        }
      }
      const coef = atb.map((b) => solve4(ata.map((row) => Array.from(row)), Array.from(b)));
      let off = 0;
      for (let i = 0; i < n; i++) {
        const x = [plain[3 * i], plain[3 * i + 1], plain[3 * i + 2], 1];
        const worst = Math.max(...[0, 1, 2].map((k) => Math.abs(coef[k].reduce((a, w, r) => a + w * x[r], 0) - aug[3 * i + k])));
        if (worst > 0.15) off++;
      }
      return off / n;
    };
    const shares = async (backgroundProb: number, occlusionProb: number) => {
      const config = tinyConfig({ data: { scaleJitter: 0, shiftJitter: 0, backgroundProb, occlusionProb } });
      const data = datasetTrainingData(ds, config, { decode: decodePure, objId: 1, evalSplit: 'train' });
      const out: number[] = [];
      for (let i = 0; i < data.trainCount; i++) {
        const plain = (await data.test(i)).image;
        for (let s = 0; s < 3; s++) out.push(offMap(plain, (await data.train(i, s, 5)).image));
      }
      return out;
    };
    const none = await shares(0, 0);
    expect(none.length).toBeGreaterThanOrEqual(6);
    // Colour jitter alone: on the map but for pixels it clips.
    expect(Math.max(...none)).toBeLessThan(0.05);
    // Every background replaced: a large part of each crop off the map.
    expect(Math.min(...(await shares(1, 0)))).toBeGreaterThan(0.2);
    // An occluder on every crop, the background kept: a part of each crop off the map.
    const occluded = await shares(0, 1);
    expect(Math.min(...occluded)).toBeGreaterThan(0.02);
    // The localiser's whole-image views keep the default rate whatever the keypoint crops' is: the same views.
    const views = async (backgroundProb: number) => {
      const data = datasetTrainingData(ds, tinyConfig({ data: { backgroundProb } }), { decode: decodePure, objId: 1, evalSplit: 'train' });
      return Promise.all(Array.from({ length: 6 }, (_, s) => data.trainView(0, s, 5).then((v) => Array.from(v.image))));
    };
    expect(await views(1)).toEqual(await views(0));
  });
});

/** x with a x = b for a 4 x 4 system (Gaussian elimination with partial pivoting). */
function solve4(a: number[][], b: number[]): number[] {
  for (let c = 0; c < 4; c++) {
    let p = c;
    for (let r = c + 1; r < 4; r++) if (Math.abs(a[r][c]) > Math.abs(a[p][c])) p = r;
    [a[c], a[p]] = [a[p], a[c]];
    [b[c], b[p]] = [b[p], b[c]];
    for (let r = c + 1; r < 4; r++) {
      const f = a[r][c] / a[c][c];
      for (let k = c; k < 4; k++) a[r][k] -= f * a[c][k];
      b[r] -= f * b[c];
    }
  }
  const x = [0, 0, 0, 0];
  for (let r = 3; r >= 0; r--) x[r] = (b[r] - a[r].slice(r + 1).reduce((acc, v, k) => acc + v * x[r + 1 + k], 0)) / a[r][r];
  return x;
}
