import { describe, expect, it } from 'vitest';
import { normalizedImagePoints, normalizePoints } from '../../src/solver/normalize';
import { kLinemodK, makeProblems } from '../../src/synthetic/pnpProblems';

describe('normalizePoints', () => {
  it('weighted centroid to zero and weighted rms radius to one, over the points with w > 0', () => {
    const pr = makeProblems({ B: 1, n: 12, seed: 3 });
    const w = Float64Array.from({ length: 12 }, (_, i) => (i % 4 === 0 ? 0 : 0.5 + i / 10));
    // A point with w = 0 may hold anything, even NaN.
    const X = pr.pts3d.slice();
    X[0] = NaN;
    const xn = new Float64Array(36), cs = new Float64Array(4);
    const Xcopy = X.slice();
    expect(normalizePoints(xn, cs, X, w, 12), 'normalizePoints returns xn').toBe(xn);
    expect(Array.from(X), 'pts3d untouched').toEqual(Array.from(Xcopy));
    let sw = 0;
    const m = [0, 0, 0];
    let r2 = 0;
    for (let i = 0; i < 12; i++) {
      if (w[i] === 0) continue;
      sw += w[i];
      for (let a = 0; a < 3; a++) m[a] += w[i] * xn[3 * i + a];
      r2 += w[i] * (xn[3 * i] ** 2 + xn[3 * i + 1] ** 2 + xn[3 * i + 2] ** 2);
    }
    for (let a = 0; a < 3; a++) expect(Math.abs(m[a] / sw), `weighted mean of xn[${a}]`).toBeLessThan(1e-15);
    expect(Math.abs(r2 / sw - 1), 'weighted mean |xn|^2 - 1').toBeLessThan(1e-14);
    for (let i = 1; i < 12; i++) {
      for (let a = 0; a < 3; a++) {
        expect(Math.abs(xn[3 * i + a] * cs[3] + cs[a] - X[3 * i + a]), `X = s xn + c at point ${i} axis ${a}`).toBeLessThan(1e-12);
      }
    }
  });

  it('null weights are all ones', () => {
    const pr = makeProblems({ B: 1, n: 6, seed: 5 });
    const a = new Float64Array(18), ca = new Float64Array(4);
    const b = new Float64Array(18), cb = new Float64Array(4);
    normalizePoints(a, ca, pr.pts3d, null, 6);
    normalizePoints(b, cb, pr.pts3d, new Float64Array(6).fill(1), 6);
    expect(Array.from(a), 'xn with null weights vs ones').toEqual(Array.from(b));
    expect(Array.from(ca), 'c, s with null weights vs ones').toEqual(Array.from(cb));
  });
});

describe('normalizedImagePoints', () => {
  it('K [m, 1] reproduces the pixel', () => {
    const K = Float64Array.of(572.4, 1.5, 325.3, 0.2, 573.6, 242.0, 1e-4, -2e-4, 1.02);
    for (const Kc of [Float64Array.from(kLinemodK), K]) {
      const x = Float64Array.of(10, 20, 320, 240, 600, 470);
      const m = normalizedImagePoints(new Float64Array(6), x, Kc, 3);
      for (let i = 0; i < 3; i++) {
        const h = [m[2 * i], m[2 * i + 1], 1];
        const z = Kc[6] * h[0] + Kc[7] * h[1] + Kc[8];
        const u = (Kc[0] * h[0] + Kc[1] * h[1] + Kc[2]) / z;
        const v = (Kc[3] * h[0] + Kc[4] * h[1] + Kc[5]) / z;
        expect(Math.abs(u - x[2 * i]), `u of dehom(K [m,1]) vs pixel ${i}`).toBeLessThan(1e-10);
        expect(Math.abs(v - x[2 * i + 1]), `v of dehom(K [m,1]) vs pixel ${i}`).toBeLessThan(1e-10);
      }
    }
  });
});
