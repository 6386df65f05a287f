import { Vector3 } from 'three';
import { describe, expect, it } from 'vitest';
import { debiasedEma } from '../../src/ui/charts/smoothing';
import { poseMatrix, projectionFromK } from '../../src/ui/three/projection';

const K = [572.4, 0.7, 325.3, 0, 573.6, 242.0, 0, 0, 1];
const W = 640, H = 480;
const R = [0.36, 0.48, -0.8, -0.8, 0.6, 0, 0.48, 0.64, 0.6]; // a rotation (rows orthonormal, det 1)
const t = [30, -20, 800];

/** OpenCV pinhole: the oracle the three.js path must agree with. */
function pinhole(X: number[]): [number, number] {
  const x = R[0] * X[0] + R[1] * X[1] + R[2] * X[2] + t[0];
  const y = R[3] * X[0] + R[4] * X[1] + R[5] * X[2] + t[1];
  const z = R[6] * X[0] + R[7] * X[1] + R[8] * X[2] + t[2];
  return [(K[0] * x + K[1] * y) / z + K[2], (K[4] * y) / z + K[5]];
}

describe('three.js camera from K', () => {
  it('puts model points on the pixels K gives (pixel centres at integers)', () => {
    const P = projectionFromK(K, W, H, 100, 2000);
    const M = poseMatrix(R, t);
    for (const X of [[0, 0, 0], [50, -30, 20], [-40, 60, -70]]) {
      const ndc = new Vector3(...X).applyMatrix4(M).applyMatrix4(P);
      const u = ((ndc.x + 1) / 2) * W - 0.5;
      const v = ((1 - ndc.y) / 2) * H - 0.5;
      const [u0, v0] = pinhole(X);
      expect(Math.abs(u - u0), `u of [${X}]`).toBeLessThan(1e-3);
      expect(Math.abs(v - v0), `v of [${X}]`).toBeLessThan(1e-3);
      expect(ndc.z, 'depth inside the near/far range').toBeGreaterThan(-1);
      expect(ndc.z).toBeLessThan(1);
    }
  });
});

describe('debiasedEma', () => {
  it('returns the first value unchanged and tends to a constant input', () => {
    const s = debiasedEma([5, 5, 5, 5], 0.9);
    for (const v of s) expect(v).toBeCloseTo(5, 12);
  });
  it('matches the recurrence by hand and skips NaN', () => {
    const w = 0.6;
    const s = debiasedEma([1, NaN, 3], w);
    const e1 = (1 - w) * 1;
    const e2 = w * e1 + (1 - w) * 3;
    expect(s[0]).toBeCloseTo(e1 / (1 - w), 12);
    expect(s[1]).toBeNaN();
    expect(s[2]).toBeCloseTo(e2 / (1 - w * w), 12);
  });
  it('weight 0 is no smoothing', () => {
    expect(debiasedEma([3, 1, 2], 0)).toEqual([3, 1, 2]);
  });
});
