/**
 * bench/keypoints.ts's scoring: exact keypoints give every pose (the crop K, projection, solve and
 * metrics agree with each other), and noise costs ADD monotonically.
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { noisyKeypointScores } from '../../bench/keypoints';
import { decodePure } from '../../src/data/decode/pure';
import { loadDataset } from '../../src/data/load';
import { openNodePath } from '../../src/data/source/node';
import { useCpuBackend } from '../../src/kernels/setup';
import { makeConfig } from '../../src/train/config';
import { datasetTrainingData } from '../../src/train/datasetTrainingData';

beforeAll(async () => {
  await useCpuBackend();
});

describe('bench:keypoints', () => {
  it('the ground-truth keypoints of oracle crops give every pose; noise of a few crop px loses ADD, more noise more', async () => {
    const ds = await loadDataset(await openNodePath(join(__dirname, '..', '..', 'public', 'datasets', 'poselab-toy')));
    const data = datasetTrainingData(ds, makeConfig('small'), { decode: decodePure, objId: 1 });
    const samples = await Promise.all(Array.from({ length: 20 }, (_, i) => data.test(i)));
    const exact = noisyKeypointScores(data.object, samples, 0, 1, 1);
    expect(exact.add01d).toBe(1);
    expect(exact.cm5deg5).toBe(1);
    expect(exact.medianTransMm).toBeLessThan(1e-3); // the keypoints pass through float32
    const some = noisyKeypointScores(data.object, samples, 3, 3, 1);
    const more = noisyKeypointScores(data.object, samples, 8, 3, 1);
    expect(some.add01d).toBeLessThan(1);
    expect(more.add01d).toBeLessThan(some.add01d);
    expect(more.medianTransMm).toBeGreaterThan(some.medianTransMm);
  });
});
