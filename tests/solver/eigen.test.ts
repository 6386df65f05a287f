import { describe, expect, it } from 'vitest';
import { jacobiEigenSym, tridiagonalQlEigenSym } from '../../src/solver/eigen';
import { makeRng } from '../helpers/epnpProblems';

/** A = Q diag(lam) Q^T with Q a random orthogonal matrix (Gram-Schmidt of a random matrix). */
function constructed(d: number, lam: number[], rng: () => number): Float64Array {
  const Q = new Float64Array(d * d).map(() => rng() * 2 - 1);
  for (let j = 0; j < d; j++) {
    for (let k = 0; k < j; k++) {
      let dot = 0;
      for (let i = 0; i < d; i++) dot += Q[i * d + j] * Q[i * d + k];
      for (let i = 0; i < d; i++) Q[i * d + j] -= dot * Q[i * d + k];
    }
    let nrm = 0;
    for (let i = 0; i < d; i++) nrm += Q[i * d + j] ** 2;
    for (let i = 0; i < d; i++) Q[i * d + j] /= Math.sqrt(nrm);
  }
  const A = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) for (let k = 0; k < d; k++) A[i * d + j] += Q[i * d + k] * lam[k] * Q[j * d + k];
  return A;
}

for (const [name, eigen] of [['jacobiEigenSym', jacobiEigenSym], ['tridiagonalQlEigenSym', tridiagonalQlEigenSym]] as const) describe(name, () => {
  for (const d of [1, 2, 3, 4, 9, 10, 12]) {
    it(`d=${d}: ascending eigenvalues of a constructed matrix, orthonormal vectors, A v = lambda v`, () => {
      const rng = makeRng(d);
      const lam = Array.from({ length: d }, (_, k) => (k < Math.min(2, d - 1) ? 0 : (rng() - 0.3) * 10 ** (4 * rng() - 2)));
      const A = constructed(d, lam, rng);
      const A0 = A.slice();
      const values = new Float64Array(d);
      const vectors = new Float64Array(d * d);
      expect(eigen(A, d, values, vectors)).toBeGreaterThanOrEqual(0);
      expect(A).toEqual(A0);
      const sorted = [...lam].sort((a, b) => a - b);
      const scale = Math.max(...lam.map(Math.abs));
      for (let k = 0; k < d; k++) expect(Math.abs(values[k] - sorted[k])).toBeLessThan(1e-12 * scale);
      for (let j = 0; j < d; j++) {
        for (let k = 0; k < d; k++) {
          let dot = 0;
          for (let i = 0; i < d; i++) dot += vectors[i * d + j] * vectors[i * d + k];
          expect(Math.abs(dot - (j === k ? 1 : 0))).toBeLessThan(1e-12);
        }
        for (let i = 0; i < d; i++) {
          let av = 0;
          for (let k = 0; k < d; k++) av += A[i * d + k] * vectors[k * d + j];
          expect(Math.abs(av - values[j] * vectors[i * d + j])).toBeLessThan(1e-12 * scale);
        }
      }
    });
  }

  it('handles a diagonal matrix and repeated eigenvalues', () => {
    const values = new Float64Array(3);
    const vectors = new Float64Array(9);
    eigen([3, 0, 0, 0, 1, 0, 0, 0, 1], 3, values, vectors);
    expect(Array.from(values)).toEqual([1, 1, 3]);
    expect(Math.abs(vectors[2 * 3 + 2])).toBe(0);
    expect(Math.abs(vectors[0 * 3 + 2])).toBe(1);
  });
});
