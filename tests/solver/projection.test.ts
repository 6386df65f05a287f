import { describe, expect, it } from 'vitest';
import { projectionDpi, projectionHpi, projectPoint, projectPoints } from '../../src/solver/projection';
import { so3Exp } from '../../src/solver/so3';
import { kLinemodK, makeProblems } from '../../src/synthetic/pnpProblems';

/** A general K (last row not [0, 0, 1], skew) so every term of the general-K form is exercised. */
const kGeneral = Float64Array.of(572.4, 1.5, 325.3, 0.2, 573.6, 242.0, 1e-4, -2e-4, 1.02);
const points = [Float64Array.of(30, -50, 700), Float64Array.of(-120, 80, 450), Float64Array.of(5, 5, 1400)];

describe('projectPoint', () => {
  it('matches the pinhole formula for a camera K', () => {
    const X = Float64Array.of(30, -50, 700);
    const p = projectPoint(new Float64Array(2), kLinemodK, X);
    expect(Math.abs(p[0] - (kLinemodK[0] * 30 / 700 + kLinemodK[2])), 'u vs fx X/Z + cx').toBeLessThan(1e-12);
    expect(Math.abs(p[1] - (kLinemodK[4] * -50 / 700 + kLinemodK[5])), 'v vs fy Y/Z + cy').toBeLessThan(1e-12);
  });

  it('projectPoints agrees with projectPoint on every problem and point', () => {
    const pr = makeProblems({ B: 3, n: 5, seed: 4, sharedPts3d: false, sharedK: false });
    const R = new Float64Array(9), Xc = new Float64Array(3), p = new Float64Array(2);
    for (let b = 0; b < 3; b++) {
      so3Exp(R, pr.poseGT, 6 * b);
      for (let i = 0; i < 5; i++) {
        const o = 15 * b + 3 * i;
        for (let a = 0; a < 3; a++) {
          Xc[a] = R[3 * a] * pr.pts3d[o] + R[3 * a + 1] * pr.pts3d[o + 1] + R[3 * a + 2] * pr.pts3d[o + 2] + pr.poseGT[6 * b + 3 + a];
        }
        projectPoint(p, pr.K.subarray(9 * b, 9 * b + 9), Xc);
        expect(Math.abs(p[0] - pr.pts2dClean[10 * b + 2 * i]), `u of problem ${b} point ${i}`).toBeLessThan(1e-9);
        expect(Math.abs(p[1] - pr.pts2dClean[10 * b + 2 * i + 1]), `v of problem ${b} point ${i}`).toBeLessThan(1e-9);
      }
    }
  });
});

describe('projectionDpi / projectionHpi against central differences', () => {
  for (const [name, K] of [['LINEMOD K', Float64Array.from(kLinemodK)], ['general K', kGeneral]] as const) {
    it(`Dpi with ${name}`, () => {
      for (const X of points) {
        const D = projectionDpi(new Float64Array(6), K, X);
        const h = 1e-3;
        for (let j = 0; j < 3; j++) {
          const xp = X.slice(); xp[j] += h;
          const xm = X.slice(); xm[j] -= h;
          const pp = projectPoint(new Float64Array(2), K, xp), pm = projectPoint(new Float64Array(2), K, xm);
          for (let k = 0; k < 2; k++) {
            const fd = (pp[k] - pm[k]) / (2 * h);
            expect(Math.abs(D[3 * k + j] - fd), `|Dpi[${k}][${j}] - central difference| at X = ${Array.from(X)}`)
              .toBeLessThan(1e-8 * Math.max(1, Math.abs(fd)));
          }
        }
      }
    });

    it(`Hpi_k with ${name}`, () => {
      for (const X of points) {
        const h = 1e-2;
        for (let k = 0; k < 2; k++) {
          const H = projectionHpi(new Float64Array(9), K, X, k);
          for (let a = 0; a < 3; a++) {
            expect(H[3 * a + (a + 1) % 3], `Hpi_${k} symmetric`).toBe(H[3 * ((a + 1) % 3) + a]);
            for (let b = 0; b < 3; b++) {
              // Second differences of pi_k.
              const f = (da: number, db: number): number => {
                const x = X.slice(); x[a] += da; x[b] += db;
                return projectPoint(new Float64Array(2), K, x)[k];
              };
              const fd = (f(h, h) - f(h, -h) - f(-h, h) + f(-h, -h)) / (4 * h * h);
              expect(Math.abs(H[3 * a + b] - fd), `|Hpi_${k}[${a}][${b}] - second central difference| at X = ${Array.from(X)}`)
                .toBeLessThan(1e-6 * Math.max(1e-3, Math.abs(H[3 * a + b])) + 1e-9);
            }
          }
        }
      }
    });
  }

  it('write out and return it, inputs untouched', () => {
    const X = points[0].slice();
    const out = new Float64Array(6);
    expect(projectionDpi(out, kGeneral, X), 'projectionDpi returns out').toBe(out);
    const H = new Float64Array(9);
    expect(projectionHpi(H, kGeneral, X, 1), 'projectionHpi returns out').toBe(H);
    const p = new Float64Array(2);
    expect(projectPoint(p, kGeneral, X), 'projectPoint returns out').toBe(p);
    expect(Array.from(X), 'X untouched').toEqual(Array.from(points[0]));
  });
});
