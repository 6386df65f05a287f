/**
 * Structure from motion through bpnp (src/demos/structureFromMotion) on both backends: from a random
 * blob, the learnt points come to within kTolMm RMS (0.5% of the structure's 100 mm radius) of the true
 * structure after similarity alignment, within kIterations updates, with the views' poses only ever
 * solved by bpnp.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemo } from '../../src/demos/createDemo';
import { requireWebgpu } from '../helpers/webgpu';
import { describeRun, runDemo } from './runDemo';

/** Measured (seed 1): about 0.09 mm at iteration 100 on cpu and on webgpu, 0.006 mm at 150. */
const kIterations = 100;
const kTolMm = 0.5;

for (const backend of ['cpu', 'webgpu'] as const) {
  describe(`structure-from-motion demo on the ${backend} backend`, () => {
    beforeAll(async () => {
      if (backend === 'webgpu') await requireWebgpu();
      else await tf.setBackend('cpu');
    });
    afterAll(() => tf.disposeVariables());

    it(`converges: structure error after similarity alignment below ${kTolMm} mm within ${kIterations} iterations`, async () => {
      const run = await runDemo(() => createDemo('sfm', { seed: 1 }), kIterations, kTolMm);
      console.log(describeRun('sfm', backend, run));
      expect(run.steps[0].error, 'the start knows nothing of the shape').toBeGreaterThan(50);
      expect(run.settledAt, `iteration from which the error stays below ${kTolMm} mm`).not.toBeNull();
      expect(run.last.error).toBeLessThan(kTolMm);
      expect(run.last.relativeError).toBeLessThan(0.005);
      // The aligned points the page draws are the ones measured.
      const { aligned } = run.last;
      expect(aligned.length).toBe(3 * 24);
      expect(run.leakedTensors, 'tensors left after dispose()').toBe(0);
    });
  });
}
