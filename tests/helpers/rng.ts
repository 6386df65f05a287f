/**
 * Seeded random numbers for tests: the project's generator (src/data/rng.ts) started from the seed itself,
 * reproducible across runs and machines, plus a random rotation.
 */
import { Rng as Generator } from '../../src/data/rng';
import { randomRotation } from '../../src/synthetic/pnpProblems';

export type Rng = Generator & {
  /** a uniformly random rotation as axis-angle r [3] (|r| <= pi), from a uniform unit quaternion */
  rotation(): Float64Array;
};

export function makeRng(seed: number): Rng {
  const g = Generator.fromState(seed);
  return Object.assign(g, { rotation: () => randomRotation(g) });
}
