import { describe, expect, it } from 'vitest';
import {
  cholesky, cholSolve6, cross3, lowerSolve4, upperSolve4, mat3Apply, mat3ApplyT, mat3Inverse, mat3Mul, mat3Transpose, skew,
} from '../../src/solver/linalg';
import { makeRng } from '../helpers/rng';

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

function randomMat(seed: number, d: number): Float64Array {
  const rng = makeRng(seed);
  return Float64Array.from({ length: d * d }, () => rng.normal());
}

describe('mat3 helpers', () => {
  const A = randomMat(1, 3), B = randomMat(2, 3);

  it('mat3Mul, mat3Transpose, mat3Apply(T) agree with the index definitions', () => {
    const AB = mat3Mul(new Float64Array(9), A, B);
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) {
      const e = A[3 * i] * B[j] + A[3 * i + 1] * B[3 + j] + A[3 * i + 2] * B[6 + j];
      expect(Math.abs(AB[3 * i + j] - e), `(AB)[${i}][${j}] vs sum_k A[i][k] B[k][j]`).toBeLessThan(1e-15);
    }
    const At = mat3Transpose(new Float64Array(9), A);
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) expect(At[3 * i + j], `A^T[${i}][${j}] vs A[${j}][${i}]`).toBe(A[3 * j + i]);
    const v = Float64Array.of(0.5, -1, 2);
    const Av = mat3Apply(new Float64Array(3), A, v);
    const Atv = mat3ApplyT(new Float64Array(3), A, v);
    const Atv2 = mat3Apply(new Float64Array(3), At, v);
    expect(maxAbsDiff(Atv, Atv2), 'mat3ApplyT(A, v) vs mat3Apply(A^T, v)').toBe(0);
    const vOff = Float64Array.of(9, 9, 0.5, -1, 2);
    expect(maxAbsDiff(mat3Apply(new Float64Array(3), A, vOff, 2), Av), 'mat3Apply at an offset vs at 0').toBe(0);
  });

  it('out may alias an input', () => {
    const expected = mat3Mul(new Float64Array(9), A, B);
    const a = A.slice();
    expect(maxAbsDiff(mat3Mul(a, a, B), expected), 'mat3Mul with out = a').toBe(0);
    const b = B.slice();
    expect(maxAbsDiff(mat3Mul(b, A, b), expected), 'mat3Mul with out = b').toBe(0);
    const t = A.slice();
    expect(maxAbsDiff(mat3Transpose(t, t), mat3Transpose(new Float64Array(9), A)), 'mat3Transpose in place').toBe(0);
  });

  it('mat3Inverse inverts, skew and cross3 agree', () => {
    const I = mat3Mul(new Float64Array(9), A, mat3Inverse(new Float64Array(9), A));
    expect(maxAbsDiff(I, [1, 0, 0, 0, 1, 0, 0, 0, 1]), 'max |A A^-1 - I|').toBeLessThan(1e-13);
    const u = Float64Array.of(1, 2, 3), v = Float64Array.of(-2, 0.5, 4);
    const viaSkew = mat3Apply(new Float64Array(3), skew(new Float64Array(9), u), v);
    expect(maxAbsDiff(viaSkew, cross3(new Float64Array(3), u, v)), '[u]x v vs u x v').toBe(0);
  });
});

describe('cholSolve6', () => {
  it('solves a constructed SPD system with known x', () => {
    for (let seed = 1; seed <= 10; seed++) {
      const M = randomMat(100 + seed, 6);
      // A = M M^T + 0.1 I: SPD, condition number in the hundreds to thousands.
      const A = new Float64Array(36);
      for (let i = 0; i < 6; i++) for (let j = 0; j < 6; j++) {
        let v = i === j ? 0.1 : 0;
        for (let k = 0; k < 6; k++) v += M[6 * i + k] * M[6 * j + k];
        A[6 * i + j] = v;
      }
      const rng = makeRng(seed);
      const x = Float64Array.from({ length: 6 }, () => rng.normal());
      const b = new Float64Array(6);
      for (let i = 0; i < 6; i++) for (let j = 0; j < 6; j++) b[i] += A[6 * i + j] * x[j];
      const ACopy = A.slice(), bCopy = b.slice();
      const out = new Float64Array(6);
      expect(cholSolve6(out, A, b), `cholSolve6 reports success on SPD system (seed ${seed})`).toBe(true);
      expect(maxAbsDiff(out, x), `max |x_solved - x_known| (seed ${seed})`).toBeLessThan(1e-10);
      expect(Array.from(A), 'A untouched').toEqual(Array.from(ACopy));
      expect(Array.from(b), 'b untouched').toEqual(Array.from(bCopy));
      // out aliasing b
      const bb = b.slice();
      cholSolve6(bb, A, bb);
      expect(maxAbsDiff(bb, out), 'cholSolve6 with out = b vs separate out').toBe(0);
    }
  });

  it('returns false and leaves out alone for indefinite, singular and NaN matrices', () => {
    const indefinite = new Float64Array(36);
    for (let i = 0; i < 6; i++) indefinite[7 * i] = i === 3 ? -1 : 2;
    indefinite[1] = indefinite[6] = 0.5;
    const singular = new Float64Array(36);
    for (let i = 0; i < 5; i++) singular[7 * i] = 1;
    const withNaN = new Float64Array(36);
    for (let i = 0; i < 6; i++) withNaN[7 * i] = 1;
    withNaN[7 * 4] = NaN;
    for (const [name, A] of [['indefinite', indefinite], ['singular', singular], ['NaN', withNaN]] as const) {
      const out = Float64Array.of(7, 7, 7, 7, 7, 7);
      expect(cholSolve6(out, A, [1, 1, 1, 1, 1, 1]), `cholSolve6 on a ${name} matrix`).toBe(false);
      expect(Array.from(out), `out after failing on a ${name} matrix`).toEqual([7, 7, 7, 7, 7, 7]);
    }
  });
});

describe('cholesky (d = 4), lowerSolve4, upperSolve4', () => {
  it('L L^T = A, L^-1 B and L^-T B solve their systems, and a matrix that is not positive definite is refused', () => {
    for (let seed = 1; seed <= 10; seed++) {
      const M = randomMat(200 + seed, 4);
      const A = new Float64Array(16);
      for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) {
        let v = i === j ? 0.1 : 0;
        for (let k = 0; k < 4; k++) v += M[4 * i + k] * M[4 * j + k];
        A[4 * i + j] = v;
      }
      const L = new Float64Array(16);
      // Only the lower triangle is read: garbage above it changes nothing.
      const Agarbage = A.map((v, i) => (i % 4 > Math.floor(i / 4) ? NaN : v));
      expect(cholesky(L, Agarbage, 4)).toBe(true);
      const LLt = new Float64Array(16);
      for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) {
        for (let k = 0; k < 4; k++) LLt[4 * i + j] += L[4 * i + k] * L[4 * j + k];
        if (j > i) expect(L[4 * i + j], 'zero above the diagonal').toBe(0);
      }
      expect(maxAbsDiff(LLt, A)).toBeLessThan(1e-12);
      const B = randomMat(300 + seed, 4);
      const X = lowerSolve4(new Float64Array(16), L, B);
      const Y = upperSolve4(new Float64Array(16), L, B);
      const LX = new Float64Array(16), LtY = new Float64Array(16);
      for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) for (let k = 0; k < 4; k++) {
        LX[4 * i + j] += L[4 * i + k] * X[4 * k + j];
        LtY[4 * i + j] += L[4 * k + i] * Y[4 * k + j];
      }
      expect(maxAbsDiff(LX, B), 'L (L^-1 B) = B').toBeLessThan(1e-12);
      expect(maxAbsDiff(LtY, B), 'L^T (L^-T B) = B').toBeLessThan(1e-12);
      // In place (out = B) gives the same.
      const Bl = B.slice();
      expect(maxAbsDiff(lowerSolve4(Bl, L, Bl), X)).toBe(0);
      const Bu = B.slice();
      expect(maxAbsDiff(upperSolve4(Bu, L, Bu), Y)).toBe(0);
    }
    const indefinite = Float64Array.from([1, 2, 0, 0, 2, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]);
    expect(cholesky(new Float64Array(16), indefinite, 4)).toBe(false);
    expect(() => cholesky(new Float64Array(16), indefinite, 0)).toThrow(/d must be a positive integer, got 0/);
    expect(cholesky(new Float64Array(16), Float64Array.from({ length: 16 }, (_, i) => (i % 5 === 0 ? NaN : 0)), 4)).toBe(false);
  });
});
