import { describe, expect, it } from 'vitest';
import { so3Exp, so3LeftJacobian, so3LeftJacobianInv, so3LeftUpdate, so3Log } from '../../src/solver/so3';
import { mat3Mul, mat3Transpose } from '../../src/solver/linalg';
import { makeRng } from '../helpers/rng';

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

/** Matrix exponential of [r]x by its Taylor series (an oracle independent of Rodrigues). */
function expSeries(r: ArrayLike<number>): Float64Array {
  const S = Float64Array.of(0, -r[2], r[1], r[2], 0, -r[0], -r[1], r[0], 0);
  const out = Float64Array.of(1, 0, 0, 0, 1, 0, 0, 0, 1);
  let term = Float64Array.of(1, 0, 0, 0, 1, 0, 0, 0, 1);
  for (let k = 1; k < 60; k++) {
    term = mat3Mul(new Float64Array(9), term, S).map((v) => v / k);
    for (let j = 0; j < 9; j++) out[j] += term[j];
  }
  return out;
}

function unitAxis(seed: number): Float64Array {
  const rng = makeRng(seed);
  const a = Float64Array.of(rng.normal(), rng.normal(), rng.normal());
  const n = Math.hypot(a[0], a[1], a[2]);
  return a.map((v) => v / n);
}

describe('so3Exp / so3Log', () => {
  const angles = [0, 1e-12, 1e-9, 1e-6, 1e-4, 0.05, 0.1, 1, 2, 2.4, 3, Math.PI - 1e-4, Math.PI - 1e-7, Math.PI - 1e-12];

  it('exp matches the Taylor series of the matrix exponential', () => {
    for (const t of [1e-9, 1e-4, 0.3, 1.7, 3.1]) {
      const r = unitAxis(7).map((v) => v * t);
      const err = maxAbsDiff(so3Exp(new Float64Array(9), r), expSeries(r));
      expect(err, `max |so3Exp - series exp| at angle ${t}`).toBeLessThan(1e-15);
    }
  });

  it('exp gives a rotation: R R^T = I, det R = 1', () => {
    for (const t of angles) {
      const R = so3Exp(new Float64Array(9), unitAxis(11).map((v) => v * t));
      const RRt = mat3Mul(new Float64Array(9), R, mat3Transpose(new Float64Array(9), R));
      expect(maxAbsDiff(RRt, [1, 0, 0, 0, 1, 0, 0, 0, 1]), `max |R R^T - I| at angle ${t}`).toBeLessThan(4e-15);
      const det = R[0] * (R[4] * R[8] - R[5] * R[7]) - R[1] * (R[3] * R[8] - R[5] * R[6]) + R[2] * (R[3] * R[7] - R[4] * R[6]);
      expect(Math.abs(det - 1), `|det R - 1| at angle ${t}`).toBeLessThan(4e-15);
    }
  });

  it('log(exp(r)) = r for angles from 0 to just below pi, on many axes', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const u = unitAxis(seed);
      for (const t of angles) {
        const r = u.map((v) => v * t);
        const back = so3Log(new Float64Array(3), so3Exp(new Float64Array(9), r));
        // Near pi the angle is recovered to ~1e-16 absolute; elsewhere to ~1e-16 relative.
        const tol = 4e-16 * Math.max(t, 1e-300) + (t > 3 ? 4e-15 : 0);
        expect(maxAbsDiff(back, r), `max |log(exp(r)) - r| at angle ${t}, axis seed ${seed}`).toBeLessThan(Math.max(tol, 1e-300));
      }
    }
  });

  it('log at exactly pi gives an axis-angle of norm pi whose exp is R', () => {
    for (let seed = 1; seed <= 10; seed++) {
      const r = unitAxis(seed).map((v) => v * Math.PI);
      const R = so3Exp(new Float64Array(9), r);
      const back = so3Log(new Float64Array(3), R);
      expect(Math.abs(Math.hypot(back[0], back[1], back[2]) - Math.PI), `| |log R| - pi |, axis seed ${seed}`).toBeLessThan(1e-15);
      expect(maxAbsDiff(so3Exp(new Float64Array(9), back), R), `max |exp(log R) - R| at pi, axis seed ${seed}`).toBeLessThan(1e-15);
      // Either sign is right at pi.
      const err = Math.min(maxAbsDiff(back, r), maxAbsDiff(back, r.map((v) => -v)));
      expect(err, `max |log R -(+/-) r| at pi, axis seed ${seed}`).toBeLessThan(1e-15);
    }
  });

  it('log of the identity is exactly zero', () => {
    const r = so3Log(new Float64Array(3), [1, 0, 0, 0, 1, 0, 0, 0, 1]);
    expect(Array.from(r), 'log(I)').toEqual([0, 0, 0]);
  });
});

/** vee(log(A B^T)) for rotations A, B. */
function logDiff(A: Float64Array, B: Float64Array): Float64Array {
  return so3Log(new Float64Array(3), mat3Mul(new Float64Array(9), A, mat3Transpose(new Float64Array(9), B)));
}

describe('so3LeftJacobian / so3LeftJacobianInv', () => {
  // 0.1 +- 1e-12 straddles the switch from series to closed form.
  const angles = [0, 1e-9, 1e-4, 0.05, 0.0999, 0.1 - 1e-12, 0.1 + 1e-12, 0.1001, 0.5, 1.5, 2.5, 3.0, Math.PI - 1e-3];

  it('Jl(r) matches central differences of exp(r + d) exp(r)^T = exp(Jl d)', () => {
    for (const t of angles) {
      const r = unitAxis(3).map((v) => v * t);
      const J = so3LeftJacobian(new Float64Array(9), r);
      const h = 1e-6;
      for (let j = 0; j < 3; j++) {
        const rp = r.slice(); rp[j] += h;
        const rm = r.slice(); rm[j] -= h;
        const R = so3Exp(new Float64Array(9), r);
        const dp = logDiff(so3Exp(new Float64Array(9), rp), R);
        const dm = logDiff(so3Exp(new Float64Array(9), rm), R);
        for (let i = 0; i < 3; i++) {
          const fd = (dp[i] - dm[i]) / (2 * h);
          expect(Math.abs(J[3 * i + j] - fd), `|Jl[${i}][${j}] - central difference| at angle ${t}`).toBeLessThan(1e-9);
        }
      }
    }
  });

  it('Jl^-1(r) matches central differences of log(exp(d) exp(r)) and inverts Jl', () => {
    for (const t of angles) {
      const r = unitAxis(5).map((v) => v * t);
      const Ji = so3LeftJacobianInv(new Float64Array(9), r);
      const J = so3LeftJacobian(new Float64Array(9), r);
      const P = mat3Mul(new Float64Array(9), Ji, J);
      expect(maxAbsDiff(P, [1, 0, 0, 0, 1, 0, 0, 0, 1]), `max |Jl^-1 Jl - I| at angle ${t}`).toBeLessThan(1e-14);
      const R = so3Exp(new Float64Array(9), r);
      const h = 1e-6;
      for (let j = 0; j < 3; j++) {
        const d = new Float64Array(3); d[j] = h;
        const rp = so3Log(new Float64Array(3), so3LeftUpdate(new Float64Array(9), d, R));
        d[j] = -h;
        const rm = so3Log(new Float64Array(3), so3LeftUpdate(new Float64Array(9), d, R));
        for (let i = 0; i < 3; i++) {
          const fd = (rp[i] - rm[i]) / (2 * h);
          expect(Math.abs(Ji[3 * i + j] - fd), `|Jl^-1[${i}][${j}] - central difference| at angle ${t}`).toBeLessThan(1e-8);
        }
      }
    }
  });
});

describe('so3 pure-function habits', () => {
  it('writes out, returns it, leaves inputs alone and tolerates aliasing', () => {
    const r = Float64Array.of(0.3, -0.2, 0.9);
    const rCopy = r.slice();
    const R = new Float64Array(9);
    expect(so3Exp(R, r), 'so3Exp returns out').toBe(R);
    expect(Array.from(r), 'so3Exp leaves r alone').toEqual(Array.from(rCopy));
    const RCopy = R.slice();
    const back = new Float64Array(3);
    expect(so3Log(back, R), 'so3Log returns out').toBe(back);
    expect(Array.from(R), 'so3Log leaves R alone').toEqual(Array.from(RCopy));
    const J = new Float64Array(9);
    expect(so3LeftJacobian(J, r), 'so3LeftJacobian returns out').toBe(J);
    expect(so3LeftJacobianInv(J, r), 'so3LeftJacobianInv returns out').toBe(J);
    const expected = so3LeftUpdate(new Float64Array(9), [0.1, 0.2, -0.1], R);
    const aliased = R.slice();
    so3LeftUpdate(aliased, [0.1, 0.2, -0.1], aliased);
    expect(maxAbsDiff(aliased, expected), 'so3LeftUpdate with out aliasing R').toBe(0);
  });
});
