/**
 * The tests `npm run test:mutation` (StrykerJS, stryker.config.json) runs against each mutant: the fast unit
 * tests of the modules it mutates (the float64 solver, the training maths, crops and keypoints), no
 * WebGPU, browser or command-line test, so that a mutant costs seconds on a two-core machine.
 */
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    environment: 'node',
    testTimeout: 120_000,
    include: [
      'tests/solver/{backward,lm,so3,projection,pnp}.test.ts',
      'tests/train/{metrics,loss,optimizer,bopCsv,evaluate,bopEval}.test.ts',
      'tests/data/{crop,keypoints,samples}.test.ts',
      'tests/ops/adam.test.ts',
    ],
  },
});
