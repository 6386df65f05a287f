/**
 * Symmetric eigendecompositions, two ways. Cyclic Jacobi rotations (Golub & Van Loan, Matrix Computations,
 * 8.5): branch-light, accurate small eigenvalues (relative accuracy), which the degeneracy tests and the f32
 * twin's EPnP null space depend on; the WGSL twin (kernels/eigen.wgsl) has it alone. Householder plus implicit
 * QL (tridiagonalQlEigenSym): absolute accuracy eps |A|, ample in float64, and several times fewer operations
 * at d = 10 and 12, so the float64 EPnP uses it for M^T M and relinearisation's L^T L.
 */

import { hypot2 } from './linalg';

/** Scratch: the working matrix and the eigenvectors before sorting (d <= 12; grown on demand). */
let sM = new Float64Array(144);
let sV = new Float64Array(144);
let sDiagJ = new Float64Array(12);

/**
 * Jacobi stops once the off-diagonal mass is below (kJacobiTol |A|_F)^2: a rotation then changes no
 * entry by more than float64 rounding. (The WGSL twin uses the f32 analogue, 1e-15 |A|_F^2.) Without it
 * the sweeps ran on to the cap (30 for a 12x12) on exact rounding noise, most of the float64 forward pass.
 */
export const kJacobiTol = 1e-16;

/**
 * a: [d*d] row-major symmetric (read only). Writes eigenvalues ascending to `values` [d] and the matching
 * unit eigenvectors as the columns of `vectors` [d*d] row-major (vectors[i*d + j] = component i of vector j).
 * Returns the number of sweeps run.
 */
export function jacobiEigenSym(
  a: ArrayLike<number>,
  d: number,
  values: Float64Array,
  vectors: Float64Array,
  maxSweeps = 30,
): number {
  if (sM.length < d * d) {
    sM = new Float64Array(d * d);
    sV = new Float64Array(d * d);
    sDiagJ = new Float64Array(d);
  }
  const m = sM;
  const v = sV;
  let frob = 0;
  for (let i = 0; i < d * d; i++) {
    m[i] = a[i];
    frob += a[i] * a[i];
    v[i] = 0;
  }
  for (let i = 0; i < d; i++) v[i * d + i] = 1;
  const stop = kJacobiTol * kJacobiTol * frob;
  let sweep = 0;
  for (; sweep < maxSweeps; sweep++) {
    let off = 0;
    for (let p = 0; p < d; p++) for (let q = p + 1; q < d; q++) off += m[p * d + q] * m[p * d + q];
    if (off <= stop || off < 1e-300) break;
    for (let p = 0; p < d; p++) {
      for (let q = p + 1; q < d; q++) {
        const apq = m[p * d + q];
        if (Math.abs(apq) < 1e-300) continue;
        const app = m[p * d + p], aqq = m[q * d + q];
        const theta = (aqq - app) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        // A <- J^T A J keeps A symmetric: rows p, q are columns p, q, and the 2x2 pivot block has the
        // closed form of G&VL (8.5.2) (a_pq becomes exactly 0), so one pass over k does both.
        m[p * d + p] = app - t * apq;
        m[q * d + q] = aqq + t * apq;
        m[p * d + q] = 0;
        m[q * d + p] = 0;
        for (let k = 0; k < d; k++) {
          if (k === p || k === q) continue;
          const mkp = m[k * d + p];
          const mkq = m[k * d + q];
          const np = c * mkp - s * mkq;
          const nq = s * mkp + c * mkq;
          m[k * d + p] = np;
          m[p * d + k] = np;
          m[k * d + q] = nq;
          m[q * d + k] = nq;
        }
        for (let k = 0; k < d; k++) {
          const vkp = v[k * d + p];
          const vkq = v[k * d + q];
          v[k * d + p] = c * vkp - s * vkq;
          v[k * d + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  for (let i = 0; i < d; i++) sDiagJ[i] = m[i * d + i];
  sortEigenpairs(sDiagJ, v, d, values, vectors);
  return sweep;
}

/** Scratch of tridiagonalQlEigenSym: the accumulated transformation, the diagonal and the off-diagonal. */
let sQ = new Float64Array(144);
let sDiag = new Float64Array(12);
let sOff = new Float64Array(12);
let sP = new Float64Array(12);
/** Scratch of the inverse iteration: the Householder scales, T, the factored (T - mu I), the iterate. */
let sH = new Float64Array(12);
let sTDiag = new Float64Array(12);
let sTOff = new Float64Array(12);
let sLuD = new Float64Array(12);
let sLuU = new Float64Array(12);
let sLuU2 = new Float64Array(12);
let sLuL = new Float64Array(12);
let sLuPiv = new Uint8Array(12);
let sX = new Float64Array(12);

/** Implicit QL sweeps allowed per eigenvalue before tridiagonalQlEigenSym gives up (returns -1). */
export const kQlMaxIterations = 30;
/**
 * Inverse iterations per eigenvector. From an eigenvalue exact to eps |T| one solve gives the vector,
 * except within a cluster, where the second restores orthogonality: on 2,000 constructed matrices (d 3 to
 * 12, up to four zero or 1e-9 eigenvalues) one left 6e-4 of orthonormality error, two 2e-13 (three no better).
 */
export const kInverseIterations = 2;
/** Eigenvalues closer than this times |T|_1 form a cluster whose vectors are orthogonalised (LAPACK dstein's ORTOL). */
const kClusterTol = 1e-3;

/**
 * The same contract as jacobiEigenSym, by Householder tridiagonalisation then implicit QL with Wilkinson
 * shifts (Golub & Van Loan, Matrix Computations, 8.3.1 and 8.3.3; the QL form of Wilkinson & Reinsch's
 * tql2). About 9 d^3 operations with the vectors against 6 d^3 per Jacobi sweep: for EPnP's 12x12 and
 * 10x10, where Jacobi needs 6 to 8 sweeps, several times cheaper. Eigenvalues have absolute error
 * ~ eps |A|, not Jacobi's relative accuracy; EPnP needs the span of the smallest eigenvectors, which that
 * resolves whenever the gap above them is above eps |A| (the null space is otherwise not determined).
 *
 * count < d: only the `count` smallest eigenvectors are computed (columns 0..count-1 of `vectors`; the
 * other columns are left as they were), the way LAPACK's dstebz/dstein pair does it: QL without vectors for
 * the eigenvalues, then inverse iteration on the tridiagonal matrix for each wanted one (vectors of a
 * cluster orthogonalised against each other, equal eigenvalues moved apart by eps |T|), taken back through
 * the Householder reflectors. EPnP needs 4 of 12 (3 of 9 when planar): half the operations of the full
 * decomposition.
 * Returns the number of QL iterations run, or -1 when an eigenvalue did not converge (non-finite input; the
 * outputs are then written as they stand).
 */
export function tridiagonalQlEigenSym(
  a: ArrayLike<number>,
  d: number,
  values: Float64Array,
  vectors: Float64Array,
  count = d,
): number {
  if (sQ.length < d * d) {
    sQ = new Float64Array(d * d);
    sDiag = new Float64Array(d);
    sOff = new Float64Array(d);
    sP = new Float64Array(d);
  }
  if (sH.length < d) {
    sH = new Float64Array(d); sTDiag = new Float64Array(d); sTOff = new Float64Array(d); sLuD = new Float64Array(d); sLuU = new Float64Array(d); sLuU2 = new Float64Array(d);
    sLuL = new Float64Array(d); sLuPiv = new Uint8Array(d); sX = new Float64Array(d);
  }
  const all = count >= d;
  const A = sM.length < d * d ? (sM = new Float64Array(d * d)) : sM;
  const Q = sQ, diag = sDiag, off = sOff, p = sP;
  for (let i = 0; i < d * d; i++) {
    A[i] = a[i];
    if (all) Q[i] = 0;
  }
  if (all) for (let i = 0; i < d; i++) Q[i * d + i] = 1;
  // Householder: for column k, H = I - v v^T / h (|v|^2 = 2h) zeroes A[k+2.., k]; A <- H A H on the
  // trailing block in the rank-2 form A - v w^T - w v^T, w = p - (v.p / 2h) v, p = A v / h; Q <- Q H
  // (all vectors), or v kept in column k and h in sH[k] for the back-transformation (some).
  for (let k = 0; k < d - 2; k++) {
    sH[k] = 0;
    let norm2 = 0;
    for (let i = k + 1; i < d; i++) norm2 += A[i * d + k] * A[i * d + k];
    const x0 = A[(k + 1) * d + k];
    const tail = norm2 - x0 * x0;
    if (!(tail > 0)) {
      off[k] = x0;
      continue;
    }
    const alpha = x0 > 0 ? -Math.sqrt(norm2) : Math.sqrt(norm2);
    // v = x - alpha e_1 (stored in the column itself), h = |v|^2 / 2 = norm2 - alpha x0.
    const h = norm2 - alpha * x0;
    sH[k] = h;
    A[(k + 1) * d + k] = x0 - alpha;
    let vp = 0;
    for (let i = k + 1; i < d; i++) {
      let s = 0;
      for (let j = k + 1; j < d; j++) s += A[i * d + j] * A[j * d + k];
      p[i] = s / h;
      vp += A[i * d + k] * p[i];
    }
    const c = vp / (2 * h);
    for (let i = k + 1; i < d; i++) p[i] -= c * A[i * d + k];
    for (let i = k + 1; i < d; i++) {
      const vi = A[i * d + k], wi = p[i];
      for (let j = k + 1; j <= i; j++) {
        const u = A[i * d + j] - vi * p[j] - wi * A[j * d + k];
        A[i * d + j] = u;
        A[j * d + i] = u;
      }
    }
    if (!all) {
      off[k] = alpha;
      continue;
    }
    for (let r = 0; r < d; r++) {
      let s = 0;
      for (let i = k + 1; i < d; i++) s += Q[r * d + i] * A[i * d + k];
      s /= h;
      for (let i = k + 1; i < d; i++) Q[r * d + i] -= s * A[i * d + k];
    }
    off[k] = alpha;
  }
  for (let i = 0; i < d; i++) diag[i] = A[i * d + i];
  if (d >= 2) off[d - 2] = A[(d - 1) * d + d - 2];
  off[d - 1] = 0;
  // The tridiagonal T (diag, off: off[i] joins i and i + 1), kept for the inverse iteration, and |T|_1.
  let tNorm = 0;
  if (!all) {
    for (let i = 0; i < d; i++) {
      sTDiag[i] = diag[i];
      sTOff[i] = off[i];
      tNorm = Math.max(tNorm, Math.abs(diag[i]) + Math.abs(off[i]) + (i > 0 ? Math.abs(off[i - 1]) : 0));
    }
  }
  // Implicit QL on the tridiagonal, rotations accumulated into Q (all vectors only).
  let iterations = 0;
  let failed = false;
  for (let l = 0; l < d; l++) {
    for (let iter = 0; ; iter++) {
      let m = l;
      for (; m < d - 1; m++) {
        const dd = Math.abs(diag[m]) + Math.abs(diag[m + 1]);
        if (Math.abs(off[m]) <= Number.EPSILON * dd) break;
      }
      if (m === l) break;
      if (iter === kQlMaxIterations || !Number.isFinite(off[m])) {
        // Stops where it is, as the WGSL twin does (only non-finite input gets here).
        failed = true;
        break;
      }
      iterations++;
      // Wilkinson's shift from the leading 2x2, then the bulge chased from m up to l.
      let g = (diag[l + 1] - diag[l]) / (2 * off[l]);
      let r = hypot2(g, 1);
      g = diag[m] - diag[l] + off[l] / (g + (g >= 0 ? r : -r));
      let s = 1, c = 1, shift = 0;
      let i = m - 1;
      for (; i >= l; i--) {
        const f = s * off[i], b = c * off[i];
        r = hypot2(f, g);
        off[i + 1] = r;
        if (r === 0) {
          // Underflow: the matrix split; deflate and go on from the top.
          diag[i + 1] -= shift;
          off[m] = 0;
          break;
        }
        s = f / r;
        c = g / r;
        g = diag[i + 1] - shift;
        r = (diag[i] - g) * s + 2 * c * b;
        shift = s * r;
        diag[i + 1] = g + shift;
        g = c * r - b;
        if (!all) continue;
        for (let k = 0; k < d; k++) {
          const qk1 = Q[k * d + i + 1], qk = Q[k * d + i];
          Q[k * d + i + 1] = s * qk + c * qk1;
          Q[k * d + i] = c * qk - s * qk1;
        }
      }
      if (r === 0 && i >= l) continue;
      diag[l] -= shift;
      off[l] = g;
      off[m] = 0;
    }
  }
  if (all) {
    sortEigenpairs(diag, Q, d, values, vectors);
    return failed ? -1 : iterations;
  }
  diag.subarray(0, d).sort();
  for (let i = 0; i < d; i++) values[i] = diag[i];
  inverseIteration(A, d, Math.min(count, d), values, vectors, tNorm);
  return failed ? -1 : iterations;
}

/**
 * The `count` smallest eigenvectors of the tridiagonal T (sTDiag, sTOff) by inverse iteration with the
 * eigenvalues `values` (ascending), then through the Householder reflectors stored below A's diagonal
 * (scales in sH) into vectors' columns.
 */
function inverseIteration(A: Float64Array, d: number, count: number, values: Float64Array, vectors: Float64Array, tNorm: number): void {
  if (!(tNorm > 0)) {
    // T = 0 (and so A = 0): every vector is an eigenvector; the unit vectors, as the full decomposition gives.
    for (let j = 0; j < count; j++) for (let i = 0; i < d; i++) vectors[i * d + j] = i === j ? 1 : 0;
    return;
  }
  const eps = Number.EPSILON * tNorm;
  const x = sX;
  let prevMu = -Infinity;
  for (let j = 0; j < count; j++) {
    // Equal eigenvalues would give the same solve: move each at least eps |T| above the previous one.
    const mu = Math.max(values[j], prevMu + eps);
    prevMu = mu;
    factorShifted(d, mu, eps);
    // A fixed start of its own for each vector, with no special direction (as LAPACK's random ones): within a
    // cluster of equal eigenvalues each solve then brings out another combination of the cluster's vectors.
    for (let i = 0; i < d; i++) x[i] = Math.sin(1 + 7.1 * i + 3.3 * j);
    for (let it = 0; it < kInverseIterations; it++) {
      solveShifted(x, d);
      // Orthogonal to the vectors already found in the same cluster (still in the tridiagonal's frame).
      for (let q = 0; q < j; q++) {
        if (!(values[j] - values[q] <= kClusterTol * tNorm)) continue;
        let dot = 0;
        for (let i = 0; i < d; i++) dot += x[i] * vectors[i * d + q];
        for (let i = 0; i < d; i++) x[i] -= dot * vectors[i * d + q];
      }
      let nrm = 0;
      for (let i = 0; i < d; i++) nrm += x[i] * x[i];
      nrm = Math.sqrt(nrm);
      for (let i = 0; i < d; i++) x[i] = nrm > 0 ? x[i] / nrm : 0;
    }
    for (let i = 0; i < d; i++) vectors[i * d + j] = x[i];
  }
  // Back through the reflectors: Q y = H_0 (H_1 (... H_(d-3) y)), H_k = I - v v^T / h, v below A[k+1, k].
  for (let j = 0; j < count; j++) {
    for (let k = d - 3; k >= 0; k--) {
      const h = sH[k];
      if (!(h > 0)) continue;
      let s = 0;
      for (let i = k + 1; i < d; i++) s += A[i * d + k] * vectors[i * d + j];
      s /= h;
      for (let i = k + 1; i < d; i++) vectors[i * d + j] -= s * A[i * d + k];
    }
  }
}
/**
 * LU with partial pivoting of T - mu I (T in sTDiag, sTOff) into sLuD (U's diagonal), sLuU, sLuU2 (its two
 * upper diagonals), sLuL (multipliers) and sLuPiv (row i and i + 1 swapped), as LAPACK's dgttrf. A pivot
 * below eps (the matrix is singular to working precision, as it is at an eigenvalue) is replaced by eps.
 */
function factorShifted(d: number, mu: number, eps: number): void {
  for (let i = 0; i < d; i++) {
    sLuD[i] = sTDiag[i] - mu;
    sLuU[i] = sTOff[i];
    sLuL[i] = sTOff[i];
    sLuU2[i] = 0;
    sLuPiv[i] = 0;
  }
  for (let i = 0; i < d - 1; i++) {
    if (Math.abs(sLuD[i]) >= Math.abs(sLuL[i])) {
      if (Math.abs(sLuD[i]) < eps) sLuD[i] = eps;
      const f = sLuL[i] / sLuD[i];
      sLuL[i] = f;
      sLuD[i + 1] -= f * sLuU[i];
    } else {
      const f = sLuD[i] / sLuL[i];
      sLuD[i] = sLuL[i];
      sLuL[i] = f;
      const u = sLuU[i];
      sLuU[i] = sLuD[i + 1];
      sLuD[i + 1] = u - f * sLuD[i + 1];
      if (i < d - 2) {
        sLuU2[i] = sLuU[i + 1];
        sLuU[i + 1] = -f * sLuU[i + 1];
      }
      sLuPiv[i] = 1;
    }
  }
  if (Math.abs(sLuD[d - 1]) < eps) sLuD[d - 1] = eps;
}

/** x <- (T - mu I)^-1 x with the factors of factorShifted (LAPACK's dgtts2). */
function solveShifted(x: Float64Array, d: number): void {
  for (let i = 0; i < d - 1; i++) {
    if (sLuPiv[i] === 0) {
      x[i + 1] -= sLuL[i] * x[i];
    } else {
      const t = x[i];
      x[i] = x[i + 1];
      x[i + 1] = t - sLuL[i] * x[i];
    }
  }
  x[d - 1] /= sLuD[d - 1];
  if (d >= 2) x[d - 2] = (x[d - 2] - sLuU[d - 2] * x[d - 1]) / sLuD[d - 2];
  for (let i = d - 3; i >= 0; i--) x[i] = (x[i] - sLuU[i] * x[i + 1] - sLuU2[i] * x[i + 2]) / sLuD[i];
}

/**
 * Eigenpairs sorted ascending: diag [d] and the columns of V [d*d] (both reordered in place, no
 * allocation: a selection sort, d <= 12) copied to values and vectors.
 */
function sortEigenpairs(diag: Float64Array, V: Float64Array, d: number, values: Float64Array, vectors: Float64Array): void {
  for (let j = 0; j < d; j++) {
    let best = j;
    for (let k = j + 1; k < d; k++) if (diag[k] < diag[best]) best = k;
    if (best !== j) {
      const tv = diag[j];
      diag[j] = diag[best];
      diag[best] = tv;
      for (let i = 0; i < d; i++) {
        const tc = V[i * d + j];
        V[i * d + j] = V[i * d + best];
        V[i * d + best] = tc;
      }
    }
  }
  for (let i = 0; i < d; i++) values[i] = diag[i];
  for (let i = 0; i < d * d; i++) vectors[i] = V[i];
}
