import { describe, expect, it } from 'vitest';
import { epnpInit } from '../../src/solver/epnp';
import { accumulateMoments, assembleMtM, chooseControlPoints, mtmNullSpace4, pointSpread } from '../../src/solver/epnpControlPoints';
import { tridiagonalQlEigenSym } from '../../src/solver/eigen';
import { betaProductIndex, findBetasRelin, kRelinConstraints, solveLeastSquares } from '../../src/solver/epnpBetas';
import {
  makeEpnpProblem,
  makeRng,
  refinePoseLm,
  relativeError,
  rotationAngle,
} from '../helpers/epnpProblems';

const kSizes = [4, 5, 6, 8, 9, 32, 256];

describe('epnpInit, noise-free LINEMOD-like problems (exact up to the choice of N)', () => {
  for (const planar of [false, true]) {
    for (const n of kSizes) {
      it(`${planar ? 'planar' : 'general'} n=${n}: R within 1e-6 rad, tn within 1e-6 relative on >= 99% of 500`, () => {
        const rng = makeRng(1000 * n + (planar ? 1 : 0));
        const trials = 500;
        let good = 0;
        let worstRot = 0;
        let worstT = 0;
        for (let k = 0; k < trials; k++) {
          const p = makeEpnpProblem(rng, n, planar, 0);
          const r = epnpInit(p.xn, p.m, null, n);
          const eR = rotationAngle(r.R, p.rGt);
          const eT = relativeError(r.t, p.tnGt);
          if (r.ok && eR < 1e-6 && eT < 1e-6) good++;
          else {
            worstRot = Math.max(worstRot, eR);
            worstT = Math.max(worstT, eT);
          }
        }
        console.log(`[epnp f64] ${planar ? 'planar' : 'general'} n=${n}: ${good}/${trials} exact (failures: worst rot ${worstRot.toExponential(2)} rad, t ${worstT.toExponential(2)})`);
        expect(good / trials, `exact fraction, worst failure rot ${worstRot} t ${worstT}`).toBeGreaterThanOrEqual(0.99);
      });
    }
  }
});

describe('epnpInit, 2 px noise: lands in the basin of the reprojection optimum', () => {
  // Small objects far away are ill-conditioned at 2 px, so the test holds EPnP against the optimum that an
  // independent LM finds from the ground truth, not against the ground truth itself: LM started from EPnP
  // must reach that optimum, or a lower minimum (planar targets have two minima; EPnP may find the better).
  const cases: [boolean, number, number][] = [
    [false, 4, 0.85], [false, 5, 0.9], [false, 6, 0.93], [false, 8, 0.95], [false, 9, 0.95], [false, 32, 0.97], [false, 256, 0.98],
    [true, 4, 0.9], [true, 5, 0.9], [true, 6, 0.9], [true, 8, 0.9], [true, 9, 0.9], [true, 32, 0.88], [true, 256, 0.88],
  ];
  for (const [planar, n, minRate] of cases) {
    it(`${planar ? 'planar' : 'general'} n=${n}: LM from EPnP reaches the optimum (or better) on >= ${minRate * 100}% of 200`, () => {
      const rng = makeRng(7000 + n + (planar ? 1 : 0));
      const trials = 200;
      let basin = 0;
      const degToOpt: number[] = [];
      for (let k = 0; k < trials; k++) {
        const p = makeEpnpProblem(rng, n, planar, 2);
        const r = epnpInit(p.xn, p.m, null, n);
        expect(r.ok).toBe(true);
        const opt = refinePoseLm(p.xn, p.m, n, p.rGt, p.tnGt);
        const fromEpnp = refinePoseLm(p.xn, p.m, n, r.R, r.t);
        if (fromEpnp.cost <= opt.cost * (1 + 1e-9)) basin++;
        degToOpt.push((rotationAngle(r.R, opt.R) * 180) / Math.PI);
      }
      degToOpt.sort((a, b) => a - b);
      const median = degToOpt[trials >> 1];
      console.log(`[epnp f64, 2 px] ${planar ? 'planar' : 'general'} n=${n}: basin ${basin}/${trials}, EPnP to optimum median ${median.toFixed(2)} deg, p90 ${degToOpt[Math.floor(trials * 0.9)].toFixed(2)} deg`);
      expect(basin / trials).toBeGreaterThanOrEqual(minRate);
      expect(median, 'median rotation from the optimum, deg').toBeLessThan(3);
    });
  }

  it('general n=256, objects of 200-300 mm: within 3 degrees of the ground truth on >= 99% of 200', () => {
    const rng = makeRng(4242);
    let good = 0;
    let tried = 0;
    while (tried < 200) {
      const p = makeEpnpProblem(rng, 256, false, 2);
      if (p.s < 70) continue; // RMS radius of a 200-300 mm object
      tried++;
      const r = epnpInit(p.xn, p.m, null, 256);
      if ((rotationAngle(r.R, p.rGt) * 180) / Math.PI < 3 && relativeError(r.t, p.tnGt) < 0.05) good++;
    }
    console.log(`[epnp f64, 2 px] large objects n=256: ${good}/${tried} within 3 deg and 5% of the ground truth`);
    expect(good / tried).toBeGreaterThanOrEqual(0.99);
  });
});

describe('epnpInit, weights and contracts', () => {
  it('ignores points with w = 0 (even non-finite ones) and leaves its inputs alone', () => {
    const rng = makeRng(5);
    const p = makeEpnpProblem(rng, 12, false, 0);
    const xn = new Float64Array(3 * 16);
    const m = new Float64Array(2 * 16);
    const w = new Float64Array(16);
    xn.set(p.xn);
    m.set(p.m);
    w.fill(1, 0, 12);
    for (let i = 12; i < 16; i++) {
      xn.set([NaN, 5, -3], 3 * i);
      m.set([0.3, Infinity], 2 * i);
    }
    const xnCopy = xn.slice();
    const mCopy = m.slice();
    const wCopy = w.slice();
    const r = epnpInit(xn, m, w, 16);
    expect(r.ok).toBe(true);
    expect(rotationAngle(r.R, p.rGt)).toBeLessThan(1e-7);
    expect(relativeError(r.t, p.tnGt)).toBeLessThan(1e-7);
    expect(xn).toEqual(xnCopy);
    expect(m).toEqual(mCopy);
    expect(w).toEqual(wCopy);
  });

  it('weights the rows of M: an outlier with a tiny weight barely moves the pose, with weight 1 it does', () => {
    const rng = makeRng(6);
    const p = makeEpnpProblem(rng, 20, false, 0);
    const m = p.m.slice();
    m[0] += 0.05; // a gross outlier (about 30 px)
    const w = new Float64Array(20).fill(1);
    const heavy = epnpInit(p.xn, m, w, 20);
    w[0] = 1e-8;
    const light = epnpInit(p.xn, m, w, 20);
    expect(rotationAngle(light.R, p.rGt)).toBeLessThan(1e-5);
    expect(rotationAngle(heavy.R, p.rGt)).toBeGreaterThan(1e-4);
  });

  it('integer weights equal duplicated points', () => {
    const rng = makeRng(7);
    const p = makeEpnpProblem(rng, 10, false, 2);
    const w = new Float64Array(10).fill(1);
    w[3] = 3;
    const xnDup = new Float64Array(3 * 12);
    const mDup = new Float64Array(2 * 12);
    xnDup.set(p.xn);
    mDup.set(p.m);
    for (let k = 0; k < 2; k++) {
      xnDup.set(p.xn.subarray(9, 12), 30 + 3 * k);
      mDup.set(p.m.subarray(6, 8), 20 + 2 * k);
    }
    const a = epnpInit(p.xn, p.m, w, 10);
    const b = epnpInit(xnDup, mDup, null, 12);
    expect(rotationAngle(a.R, b.R)).toBeLessThan(1e-9);
    expect(relativeError(a.t, b.t)).toBeLessThan(1e-9);
  });

  it('returns ok=false with a finite pose for collinear, coincident, weightless or non-finite points', () => {
    const n = 6;
    const line = new Float64Array(3 * n);
    for (let i = 0; i < n; i++) line.set([i - 2.5, 2 * (i - 2.5), 0], 3 * i);
    const m = new Float64Array(2 * n).fill(0.1);
    const cases: [string, Float64Array, Float64Array | null][] = [
      ['collinear', line, null],
      ['coincident', new Float64Array(3 * n), null],
      ['weightless', line.map((v, i) => v + (i % 3) * 0.7 + (i % 5)), new Float64Array(n)],
      ['non-finite', line.map((v, i) => (i === 4 ? NaN : v + (i % 3) * 0.7)), null],
    ];
    for (const [name, xn, w] of cases) {
      const r = epnpInit(xn, m, w, n);
      expect(r.ok, name).toBe(false);
      expect(Array.from(r.R).every(Number.isFinite) && Array.from(r.t).every(Number.isFinite), name).toBe(true);
    }
  });

  it('checks the shapes of its arguments', () => {
    expect(() => epnpInit(new Float64Array(9), new Float64Array(8), null, 4)).toThrow(/xn must be \[n,3\]/);
    expect(() => epnpInit(new Float64Array(12), new Float64Array(6), null, 4)).toThrow(/m must be \[n,2\]/);
    expect(() => epnpInit(new Float64Array(12), new Float64Array(8), new Float64Array(3), 4)).toThrow(/w must be \[n\]/);
  });
});

describe('epnp building blocks', () => {
  it('has the 20 relinearisation constraints, each two products of the same quartic monomial', () => {
    expect(kRelinConstraints.length).toBe(20);
    const pairOf = (p: number): [number, number] => {
      for (let j = 0; j < 4; j++) for (let i = 0; i <= j; i++) if (betaProductIndex(i, j) === p) return [i, j];
      throw new Error(`no product ${p}`);
    };
    for (const [X, Y, X2, Y2] of kRelinConstraints) {
      const a = [...pairOf(X), ...pairOf(Y)].sort().join();
      const b = [...pairOf(X2), ...pairOf(Y2)].sort().join();
      expect(a).toBe(b);
      expect(X === X2 && Y === Y2).toBe(false);
    }
  });

  it('relinearisation recovers betas from an exactly consistent L b = rho', () => {
    const rng = makeRng(11);
    for (let trial = 0; trial < 20; trial++) {
      const L = new Float64Array(60).map(() => rng() * 2 - 1);
      const beta = [0, 1, 2, 3].map(() => rng() * 2 - 1);
      const rho = new Float64Array(6);
      for (let q = 0; q < 6; q++) {
        for (let j = 0; j < 4; j++) for (let i = 0; i <= j; i++) rho[q] += L[q * 10 + betaProductIndex(i, j)] * beta[i] * beta[j];
      }
      const out = findBetasRelin(L, rho, 4, new Float64Array(4));
      const sgn = Math.sign(out[0] * beta[0]);
      for (let k = 0; k < 4; k++) expect(sgn * out[k]).toBeCloseTo(beta[k], 7);
    }
  });

  it('least squares by Householder QR matches the normal equations on an overdetermined system', () => {
    const rng = makeRng(12);
    const rows = 20;
    const cols = 14;
    const A = new Float64Array(rows * cols).map(() => rng() * 2 - 1);
    const b = new Float64Array(rows).map(() => rng() * 2 - 1);
    const x = solveLeastSquares(A.slice(), rows, cols, b.slice(), new Float64Array(cols));
    // Residual orthogonal to the columns: A^T (A x - b) = 0.
    for (let j = 0; j < cols; j++) {
      let s = 0;
      for (let i = 0; i < rows; i++) {
        let ax = 0;
        for (let k = 0; k < cols; k++) ax += A[i * cols + k] * x[k];
        s += A[i * cols + j] * (ax - b[i]);
      }
      expect(Math.abs(s)).toBeLessThan(1e-12);
    }
  });

  it('mtmNullSpace4: orthonormal vectors; noise-free the first spans the null space of M^T M; with 2 px noise the smallest eigenvector lies in their span', () => {
    const rng = makeRng(13);
    let worstNull = 0;
    let worstSpan = 0;
    for (const noisePx of [0, 2]) {
      for (let k = 0; k < 200; k++) {
        const n = [6, 8, 32][k % 3];
        const p = makeEpnpProblem(rng, n, false, noisePx);
        const c = new Float64Array(3), vars = new Float64Array(3), axes = new Float64Array(9);
        pointSpread(p.xn, null, n, c, vars, axes);
        const cw = new Float64Array(12), alphaMap = new Float64Array(12);
        chooseControlPoints(c, vars, axes, 4, cw, alphaMap);
        const mom = accumulateMoments(p.xn, p.m, null, n, alphaMap, 4, {
          s1: new Float64Array(10), su: new Float64Array(10), sv: new Float64Array(10), suv: new Float64Array(10), alphaSum: new Float64Array(4), wSum: 0,
        });
        const V = new Float64Array(144);
        expect(mtmNullSpace4(mom, V)).toBe(true);
        const Q = assembleMtM(mom, 4, new Float64Array(144));
        const vals = new Float64Array(12), E = new Float64Array(144);
        tridiagonalQlEigenSym(Q.slice(), 12, vals, E, 4);
        const col = (A: Float64Array, j: number) => Float64Array.from({ length: 12 }, (_, i) => A[12 * i + j]);
        const dot = (a: Float64Array, b: Float64Array) => a.reduce((t, ai, i) => t + ai * b[i], 0);
        const vs = [0, 1, 2, 3].map((j) => col(V, j));
        for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) expect(Math.abs(dot(vs[i], vs[j]) - (i === j ? 1 : 0))).toBeLessThan(1e-10);
        const quad = (v: Float64Array) => dot(v, Float64Array.from({ length: 12 }, (_, i) => dot(col(Q, i), v)));
        const scale = vals[11];
        if (noisePx === 0) {
          // One exact null vector from 6 points: the smallest Ritz vector, v^T M^T M v = 0 to rounding.
          worstNull = Math.max(worstNull, quad(vs[0]) / scale);
        } else {
          // Rayleigh-Ritz: each Ritz value bounds its eigenvalue from above. The smallest eigenvector (the
          // noise-free null space, perturbed) lies in the span, up to O(lambda / S1's smallest eigenvalue); the
          // other three eigenvalues need not be small, and those eigenvectors need not lie in W.
          for (let j = 0; j < 4; j++) expect(quad(vs[j]) / scale).toBeGreaterThanOrEqual(vals[j] / scale - 1e-12);
          for (let j = 0; j < 1; j++) {
            const u = col(E, j);
            const r = u.slice();
            for (const v of vs) {
              const cu = dot(v, u);
              for (let i = 0; i < 12; i++) r[i] -= cu * v[i];
            }
            worstSpan = Math.max(worstSpan, Math.hypot(...r));
          }
        }
      }
    }
    console.log(`[epnp f64] mtmNullSpace4: noise-free v^T M^T M v up to ${worstNull.toExponential(1)} |M^T M|; 2 px: QL's smallest eigenvector out of their span by sin up to ${worstSpan.toExponential(1)}`);
    expect(worstNull).toBeLessThan(1e-12);
    expect(worstSpan).toBeLessThan(1e-4);
  });

  it('mtmNullSpace4 refuses moments whose S1 or G is not positive definite, or that are not finite', () => {
    const rng = makeRng(14);
    const p = makeEpnpProblem(rng, 8, false, 0);
    const c = new Float64Array(3), vars = new Float64Array(3), axes = new Float64Array(9);
    pointSpread(p.xn, null, 8, c, vars, axes);
    const cw = new Float64Array(12), alphaMap = new Float64Array(12);
    chooseControlPoints(c, vars, axes, 4, cw, alphaMap);
    const fresh = () => accumulateMoments(p.xn, p.m, null, 8, alphaMap, 4, {
      s1: new Float64Array(10), su: new Float64Array(10), sv: new Float64Array(10), suv: new Float64Array(10), alphaSum: new Float64Array(4), wSum: 0,
    });
    const V = new Float64Array(144);
    expect(mtmNullSpace4(fresh(), V)).toBe(true);
    const indefinite = fresh();
    indefinite.s1[0] = -1;
    expect(mtmNullSpace4(indefinite, V)).toBe(false);
    for (const [field, index, value] of [['su', 3, NaN], ['suv', 5, Infinity], ['suv', 9, Infinity], ['sv', 0, -Infinity]] as const) {
      const mom = fresh();
      mom[field][index] = value;
      expect(mtmNullSpace4(mom, V), `${field}[${index}] = ${value}`).toBe(false);
    }
  });

  it('the 4x4 null space from 6 points with w > 0 (kNullSpaceMinPoints), counted as epnpInit counts them: 6 points, one of weight 0, solve as the 5 (by the 12x12) bit for bit', () => {
    const rng = makeRng(15);
    for (let k = 0; k < 50; k++) {
      const p = makeEpnpProblem(rng, 6, false, 1);
      const w = Float64Array.from([1, 1, 1, 1, 1, 0]);
      const five = epnpInit(p.xn.slice(0, 15), p.m.slice(0, 10), null, 5);
      const sixW = epnpInit(p.xn, p.m, w, 6);
      expect(Array.from(sixW.R)).toEqual(Array.from(five.R));
      expect(Array.from(sixW.t)).toEqual(Array.from(five.t));
    }
  });
});
