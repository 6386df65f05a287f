/**
 * The BPnP pose-estimation toy (src/demos/poseEstimation) converges on both the cpu and the webgpu
 * backend (ISSUE 2 and ISSUE 6): a network's keypoints, through bpnp's implicit gradient, come to within
 * kTolPx of where the known structure projects under the target pose, within kIterations updates.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemo } from '../../src/demos/createDemo';
import { requireWebgpu } from '../helpers/webgpu';
import { describeRun, runDemo } from './runDemo';

/** Measured (seed 1): below 0.1 px from about iteration 115 on cpu and on webgpu. */
const kIterations = 140;
const kTolPx = 0.1;

for (const backend of ['cpu', 'webgpu'] as const) {
  describe(`BPnP pose-estimation toy on the ${backend} backend`, () => {
    beforeAll(async () => {
      if (backend === 'webgpu') await requireWebgpu();
      else await tf.setBackend('cpu');
    });
    afterAll(() => tf.disposeVariables());

    it(`converges: keypoint error below ${kTolPx} px within ${kIterations} iterations`, async () => {
      const run = await runDemo(() => createDemo('pose', { seed: 1 }), kIterations, kTolPx);
      console.log(describeRun('pose', backend, run));
      const first = run.steps[0];
      expect(first.error, 'the keypoints start far from the targets').toBeGreaterThan(20);
      expect(run.settledAt, `iteration from which the keypoint error stays below ${kTolPx} px`).not.toBeNull();
      expect(run.last.error).toBeLessThan(kTolPx);
      // The pose bpnp solves from the keypoints projects the structure onto the targets too.
      expect(run.last.projectedError, 'projected-point error, px').toBeLessThan(kTolPx);
      expect(run.last.loss).toBeLessThan(1e-3 * first.loss);
      expect(run.failedPnp, 'PnP problems that failed along the way').toBe(0);
      expect(run.leakedTensors, 'tensors left after dispose()').toBe(0);
    });
  });
}
