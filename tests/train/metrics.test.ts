/**
 * Pose metrics against cases worked out by hand: distances of a few points under poses whose effect is
 * obvious (a shift, a half turn), a pinhole projection with round numbers, and the aggregate counts.
 */
import { describe, expect, it } from 'vitest';
import { so3Exp } from '../../src/solver/so3';
import {
  metricsLine,
  addErrorMm, addsErrorMm, instanceErrors, projection2dErrorPx, rotationErrorDeg, summarise,
  translationErrorMm, median, type InstanceErrors,
} from '../../src/train/metrics';

const I = [1, 0, 0, 0, 1, 0, 0, 0, 1];
/** Half a turn about z: (x, y, z) -> (-x, -y, z). */
const Rz180 = [-1, 0, 0, 0, -1, 0, 0, 0, 1];
/** A quarter turn about z: (x, y, z) -> (-y, x, z). */
const Rz90 = [0, -1, 0, 1, 0, 0, 0, 0, 1];
const pts = [100, 0, 0, -100, 0, 0];

describe('ADD and ADD-S', () => {
  it('a shift of (3, 4, 0) mm moves every point 5 mm', () => {
    expect(addErrorMm({ R: I, t: [3, 4, 500] }, { R: I, t: [0, 0, 500] }, pts)).toBeCloseTo(5, 12);
    expect(addsErrorMm({ R: I, t: [3, 4, 500] }, { R: I, t: [0, 0, 500] }, pts)).toBeCloseTo(5, 12);
  });

  it('a half turn swaps two opposite points: ADD 200 mm, ADD-S 0', () => {
    const est = { R: Rz180, t: [0, 0, 500] };
    const gt = { R: I, t: [0, 0, 500] };
    expect(addErrorMm(est, gt, pts)).toBeCloseTo(200, 12);
    expect(addsErrorMm(est, gt, pts)).toBeCloseTo(0, 12);
  });

  it('a quarter turn of (100, 0, 0): the point moves sqrt(2) x 100 mm', () => {
    expect(addErrorMm({ R: Rz90, t: [0, 0, 0] }, { R: I, t: [0, 0, 0] }, [100, 0, 0])).toBeCloseTo(100 * Math.SQRT2, 10);
  });
});

describe('2D projection error', () => {
  const K = [100, 0, 0, 0, 100, 0, 0, 0, 1];
  it('10 mm sideways at 1 m with f = 100 px is 1 px', () => {
    const e = projection2dErrorPx({ R: I, t: [10, 0, 1000] }, { R: I, t: [0, 0, 1000] }, [0, 0, 0, 0, 50, 0], K);
    // the second point: u = 0 in both, v = 100 x 50 / 1000 = 5 px in both; only u shifts by 1 px
    expect(e).toBeCloseTo(1, 12);
  });
  it('a point behind the camera counts infinitely wrong', () => {
    expect(projection2dErrorPx({ R: I, t: [0, 0, -10] }, { R: I, t: [0, 0, 1000] }, [0, 0, 0], K)).toBe(Infinity);
  });
});

describe('rotation and translation errors', () => {
  it('angles of known rotations, degrees', () => {
    expect(rotationErrorDeg(I, I)).toBe(0);
    expect(rotationErrorDeg(Rz90, I)).toBeCloseTo(90, 10);
    expect(rotationErrorDeg(Rz180, I)).toBeCloseTo(180, 10);
    expect(rotationErrorDeg(so3Exp(new Float64Array(9), [0, 0.1, 0]), so3Exp(new Float64Array(9), [0, -0.05, 0]))).toBeCloseTo((0.15 * 180) / Math.PI, 9);
  });
  it('Rodrigues gives the hand-written quarter turn', () => {
    const R = so3Exp(new Float64Array(9), [0, 0, Math.PI / 2]);
    R.forEach((v, i) => expect(v).toBeCloseTo(Rz90[i], 12));
  });
  it('translation error is the Euclidean distance, mm', () => {
    expect(translationErrorMm([1, 2, 3], [4, 6, 3])).toBe(5);
  });
});

describe('instanceErrors and summarise', () => {
  it('uses ADD-S for symmetric objects only', () => {
    const K = [100, 0, 0, 0, 100, 0, 0, 0, 1];
    const est = { R: Rz180, t: [0, 0, 500] };
    const gt = { R: I, t: [0, 0, 500] };
    expect(instanceErrors(est, gt, pts, K, false).addMm).toBeCloseTo(200, 10);
    expect(instanceErrors(est, gt, pts, K, true).addMm).toBeCloseTo(0, 10);
  });

  it('counts fractions over all instances, failures as wrong, means over converged ones', () => {
    const e = (addMm: number, proj2dPx: number, rotDeg: number, transMm: number, status = 0): InstanceErrors =>
      ({ addMm, proj2dPx, rotDeg, transMm, status, iou: NaN, detected: true });
    // diameter 100 mm: ADD threshold 10 mm
    const errs = [
      e(5, 2, 1, 10), //      ADD ok, 2D ok, 5cm5deg ok
      e(15, 4.9, 4.9, 49.9), // 2D ok, 5cm5deg ok
      e(9.99, 6, 6, 10), //    ADD ok
      e(1, 1, 1, 1, 3), //     PnP failed: wrong everywhere, not in the means
    ];
    const m = summarise(errs, 100, false, 2.5);
    expect(m.instances).toBe(4);
    expect(m.add01d).toBe(2 / 4);
    expect(m.proj5px).toBe(2 / 4);
    expect(m.cm5deg5).toBe(2 / 4);
    expect(m.meanRotDeg).toBeCloseTo((1 + 4.9 + 6) / 3, 12);
    expect(m.meanTransMm).toBeCloseTo((10 + 49.9 + 10) / 3, 12);
    // medians over the same three converged instances: the failure's 1 deg / 1 mm is not among them
    expect(m.medianRotDeg).toBe(4.9);
    expect(m.medianTransMm).toBe(10);
    expect(metricsLine(m)).toContain('rot mean 3.97 / median 4.90 deg  trans mean 23.3 / median 10.0 mm');
    expect(m.pnpFailures).toBe(1);
    expect(m.msPerImage).toBe(2.5);
  });

  it('with detected crops: a miss is wrong everywhere and out of the means; recall counts IoU >= 0.5 detections', () => {
    const e = (addMm: number, iou: number, detected: boolean, status = 0): InstanceErrors =>
      ({ addMm, proj2dPx: 1, rotDeg: 1, transMm: 10, status, iou, detected });
    const errs = [
      e(5, 0.9, true), //       found, ADD ok
      e(5, 0.49, true), //      ADD ok, but the box is under IoU 0.5: not in the recall
      e(5, 0.8, false), //      scored below minScore: a miss, wrong everywhere
      e(50, 0.7, true, 3), //   found, PnP failed
    ];
    const m = summarise(errs, 100, false, 1, 'detected');
    expect(m.crops).toBe('detected');
    expect(m.detectionRecall).toBe(2 / 4);
    expect(m.missed).toBe(1);
    expect(m.pnpFailures).toBe(1);
    expect(m.add01d).toBe(2 / 4);
    expect(m.meanTransMm).toBe(10);
    expect(metricsLine(m)).toMatch(/^detected 50\.0% \(IoU >= 0\.5; 1 below the score threshold\)/);
    const o = summarise([e(5, NaN, true)], 100, false, 1, 'oracle');
    expect(o.detectionRecall).toBeNaN();
    expect(metricsLine(o)).toMatch(/^\[oracle crops\] /);
    // Nothing detected: no error to average, said in words rather than NaN.
    const none = summarise([e(5, 0.8, false), e(5, 0.1, false)], 100, false, 1, 'detected');
    expect(none.meanRotDeg).toBeNaN();
    expect(metricsLine(none)).toMatch(/ADD-0\.1d 0\.0%  2D-5px 0\.0%  5cm5deg 0\.0%  no pose estimated: no errors to average  PnP failures 0\/2/);
    expect(metricsLine(none)).not.toMatch(/NaN/);
  });

  it('every threshold is strict (ADD < 0.1 d, 2D < 5 px, < 5 cm and < 5 degrees): an error exactly at it fails; each of 5 cm and 5 degrees alone fails 5cm5deg', () => {
    const e = (addMm: number, proj2dPx: number, rotDeg: number, transMm: number, iou = 0.5): InstanceErrors =>
      ({ addMm, proj2dPx, rotDeg, transMm, status: 0, iou, detected: true });
    const at = summarise([e(10, 5, 5, 50)], 100, false, 1, 'detected');
    expect([at.add01d, at.proj5px, at.cm5deg5]).toEqual([0, 0, 0]);
    // IoU exactly 0.5 is a detection (IoU >= 0.5).
    expect(at.detectionRecall).toBe(1);
    const split = summarise([e(1, 1, 1, 60), e(1, 1, 6, 10), e(1, 1, 4.99, 49.99)], 100, false, 1);
    expect(split.cm5deg5).toBe(1 / 3);
  });

  it('an empty evaluation is all zeros with NaN means', () => {
    const m = summarise([], 100, true, 0);
    expect([m.add01d, m.proj5px, m.cm5deg5, m.pnpFailures]).toEqual([0, 0, 0, 0]);
    expect(m.meanRotDeg).toBeNaN();
    expect(m.medianTransMm).toBeNaN();
  });

  it('the median of an even count is the mean of the two middle values, whatever the order', () => {
    expect(median([7, 1, 100, 3])).toBe(5);
    expect(median([2])).toBe(2);
    expect(median([])).toBeNaN();
  });
});
