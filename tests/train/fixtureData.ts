/**
 * The engine's data in the tests: the small BOP fixture of tests/data (a 100 mm cube, three training
 * and two test images) through the same adapter the command line uses, on the tiniest network.
 */
import { decodePure } from '../../src/data/decode/pure';
import { loadDataset } from '../../src/data/load';
import { MemorySource } from '../../src/data/source/source';
import { makeConfig, type ConfigOverrides, type TrainConfig } from '../../src/train/config';
import { datasetTrainingData, type DatasetTrainingData } from '../../src/train/datasetTrainingData';
import { bopFixture } from '../data/fixtures';

export async function fixtureData(config: TrainConfig): Promise<DatasetTrainingData> {
  const ds = await loadDataset(new MemorySource('fixture', bopFixture()));
  return datasetTrainingData(ds, config, { decode: decodePure, objId: 1 });
}

/** tiny, with the pose loss on early so a few steps exercise bpnp. */
export function tinyConfig(over: ConfigOverrides = {}): TrainConfig {
  return makeConfig('tiny', {
    ...over,
    loss: { warmupSteps: 2, betaRampSteps: 2, ...over.loss },
    optim: { steps: 8, ...over.optim },
  });
}
