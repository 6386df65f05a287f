import { describe, expect, it } from 'vitest';
import { jacobiEigenSym, topEigenvector4, tridiagonalQlEigenSym } from '../../src/solver/eigen';
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

describe('tridiagonalQlEigenSym, the smallest eigenvectors only (count < d)', () => {
  /** Largest entry of V_c V_c^T - W_c W_c^T over the first c columns: 0 when both span the same subspace. */
  function projectorGap(V: Float64Array, W: Float64Array, d: number, c: number): number {
    let gap = 0;
    for (let i = 0; i < d; i++) for (let k = 0; k < d; k++) {
      let pv = 0, pw = 0;
      for (let j = 0; j < c; j++) { pv += V[i * d + j] * V[k * d + j]; pw += W[i * d + j] * W[k * d + j]; }
      gap = Math.max(gap, Math.abs(pv - pw));
    }
    return gap;
  }

  it('gives the eigenpairs of Jacobi on 400 constructed matrices, clusters of zero and 1e-9 eigenvalues included', () => {
    const rng = makeRng(77);
    let worstResidual = 0, worstOrth = 0, worstSpan = 0;
    for (let t = 0; t < 400; t++) {
      const d = [3, 9, 10, 12][t % 4];
      const count = Math.min(d, 1 + ((t >> 2) % 4));
      const tiny = (t >> 4) % 5; // that many eigenvalues at (or near) zero: the null space EPnP reads
      const lam = Array.from({ length: d }, (_, k) => (k < tiny ? (t % 3 === 0 ? 0 : 1e-9 * rng()) : 10 ** (4 * rng() - 2)));
      const A = constructed(d, lam, rng);
      const values = new Float64Array(d), vectors = new Float64Array(d * d).fill(7);
      tridiagonalQlEigenSym(A, d, values, vectors, count);
      const jv = new Float64Array(d), jV = new Float64Array(d * d);
      jacobiEigenSym(A, d, jv, jV);
      const scale = Math.max(...lam, 1e-300);
      for (let k = 0; k < d; k++) expect(Math.abs(values[k] - jv[k]), `t=${t} eigenvalue ${k}`).toBeLessThanOrEqual(1e-12 * scale);
      for (let j = 0; j < count; j++) {
        for (let i = 0; i < d; i++) {
          let av = -values[j] * vectors[i * d + j];
          for (let k = 0; k < d; k++) av += A[i * d + k] * vectors[k * d + j];
          worstResidual = Math.max(worstResidual, Math.abs(av) / scale);
        }
        for (let q = 0; q <= j; q++) {
          let dot = 0;
          for (let i = 0; i < d; i++) dot += vectors[i * d + j] * vectors[i * d + q];
          worstOrth = Math.max(worstOrth, Math.abs(dot - (q === j ? 1 : 0)));
        }
      }
      for (let i = 0; i < d; i++) for (let j = count; j < d; j++) expect(vectors[i * d + j], 'columns past count untouched').toBe(7);
      // Where a gap separates the first `count` from the rest, both give the same subspace.
      if (count < d && jv[count] - jv[count - 1] > 1e-3 * scale) worstSpan = Math.max(worstSpan, projectorGap(vectors, jV, d, count));
    }
    console.log(`[eigen] smallest vectors from the replayed rotations: residual ${worstResidual.toExponential(1)} |A|, orthonormality ${worstOrth.toExponential(1)}, subspace vs Jacobi ${worstSpan.toExponential(1)}`);
    expect(worstResidual).toBeLessThan(1e-13);
    expect(worstOrth).toBeLessThan(1e-13);
    expect(worstSpan).toBeLessThan(1e-12);
  });

  it('gives unit vectors for the zero matrix and sees repeated eigenvalues as orthonormal vectors', () => {
    const values = new Float64Array(3), vectors = new Float64Array(9);
    tridiagonalQlEigenSym(new Float64Array(9), 3, values, vectors, 2);
    expect(Array.from(values)).toEqual([0, 0, 0]);
    expect(Array.from(vectors)).toEqual([1, 0, 0, 0, 1, 0, 0, 0, 0]);
    tridiagonalQlEigenSym([3, 0, 0, 0, 1, 0, 0, 0, 1], 3, values, vectors, 2);
    expect(Array.from(values)).toEqual([1, 1, 3]);
    // Both vectors lie in the plane of e_2, e_3 and are orthonormal.
    for (const j of [0, 1]) expect(vectors[0 * 3 + j], `vector ${j} has no e_1 part`).toBeCloseTo(0, 14);
    expect(vectors[3] * vectors[4] + vectors[6] * vectors[7], 'orthogonal').toBeCloseTo(0, 14);
    expect(vectors[3] ** 2 + vectors[6] ** 2, 'unit').toBeCloseTo(1, 14);
  });
  it('returns -1 with NaN outputs for a NaN below the subdiagonal of the first column (once dropped as reduced)', () => {
    const d = 12;
    const a = new Float64Array(d * d);
    for (let i = 0; i < d; i++) a[i * d + i] = i + 1;
    a[1] = a[d] = 0.5;
    a[3 * d] = a[3] = NaN;
    const values = new Float64Array(d), vectors = new Float64Array(d * d);
    expect(tridiagonalQlEigenSym(a, d, values, vectors, 4)).toBe(-1);
    expect(Array.from(values).every(Number.isNaN)).toBe(true);
    for (let i = 0; i < d; i++) for (let j = 0; j < 4; j++) expect(vectors[i * d + j]).toBeNaN();
  });
});

describe('topEigenvector4 (QCP: Newton on the characteristic polynomial, an adjugate column)', () => {
  it('gives Jacobi\'s top eigenvector on 500 constructed 4x4 matrices, eigenvalues of either sign and any scale', () => {
    const rng = makeRng(404);
    let worst = 0;
    for (let t = 0; t < 500; t++) {
      const scale = 10 ** (6 * rng() - 3);
      const lam = Array.from({ length: 4 }, () => (rng() - 0.5) * scale);
      const A = constructed(4, lam, rng);
      const q = new Float64Array(4);
      expect(topEigenvector4(A, q), `t=${t}: a simple top eigenvalue is found`).toBe(true);
      const jv = new Float64Array(4), jV = new Float64Array(16);
      jacobiEigenSym(A, 4, jv, jV);
      const sorted = [...lam].sort((a, b) => a - b);
      const relGap = (sorted[3] - sorted[2]) / Math.max(...lam.map(Math.abs));
      // The vector is determined to eps over the gap: compare |q . v| with 1 on that scale.
      const dot = Math.abs(q[0] * jV[3] + q[1] * jV[7] + q[2] * jV[11] + q[3] * jV[15]);
      worst = Math.max(worst, (1 - dot) * relGap * relGap);
      expect(Math.hypot(...q), 'unit').toBeCloseTo(1, 14);
    }
    expect(worst).toBeLessThan(1e-14);
  });

  it('declines a double top eigenvalue and the zero matrix (the caller decomposes instead)', () => {
    const q = Float64Array.of(9, 9, 9, 9);
    expect(topEigenvector4([2, 0, 0, 0, 0, 2, 0, 0, 0, 0, 1, 0, 0, 0, 0, -1], q)).toBe(false);
    expect(topEigenvector4(constructed(4, [3, 3, -1, 0.5], makeRng(5)), q)).toBe(false);
    expect(topEigenvector4(new Float64Array(16), q)).toBe(false);
    expect(Array.from(q), 'q untouched').toEqual([9, 9, 9, 9]);
  });
});
