/**
 * The config's crop jitter reaches the training crops: with every crop fine and the fine jitter 0, each
 * training crop is the instance's unjittered crop (its K read against the oracle crop of the same instance);
 * with no fine share, none is.
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
});
