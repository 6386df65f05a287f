/**
 * Camera calibration through bpnp (src/demos/calibration) on both backends: from a guess with one focal
 * length up to 30% off and the principal point at the image centre, fx, fy, cx and cy each come to within
 * kTolRel of the truth within kIterations updates, the views' poses only ever solved by bpnp.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemo } from '../../src/demos/createDemo';
import { requireWebgpu } from '../helpers/webgpu';
import { describeRun, runDemo } from './runDemo';

/** Measured (seed 1): largest relative error about 1e-3 at iteration 100 on cpu and on webgpu. */
const kIterations = 100;
const kTolRel = 0.005;

for (const backend of ['cpu', 'webgpu'] as const) {
  describe(`camera-calibration demo on the ${backend} backend`, () => {
    beforeAll(async () => {
      if (backend === 'webgpu') await requireWebgpu();
      else await tf.setBackend('cpu');
    });
    afterAll(() => tf.disposeVariables());

    it(`converges: every intrinsic within ${100 * kTolRel}% of the truth within ${kIterations} iterations`, async () => {
      const run = await runDemo(() => createDemo('calib', { seed: 1 }), kIterations, kTolRel);
      console.log(describeRun('calib', backend, run));
      expect(run.steps[0].error, 'the guess is far off').toBeGreaterThan(0.1);
      expect(run.settledAt, `iteration from which every intrinsic stays within ${kTolRel}`).not.toBeNull();
      for (const e of run.last.relativeErrors) expect(e).toBeLessThan(kTolRel);
      expect(run.failedPnp, 'PnP problems that failed along the way').toBe(0);
      expect(run.leakedTensors, 'tensors left after dispose()').toBe(0);
    });
  });
}
