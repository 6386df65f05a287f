/**
 * Symmetric eigendecompositions, two ways. Cyclic Jacobi rotations (Golub & Van Loan, Matrix Computations,
 * 8.5): branch-light, accurate small eigenvalues (relative accuracy), which the degeneracy tests depend on, and
 * which the f32 twin (kernels/eigen.wgsl) uses wherever float64 takes QL. Householder plus implicit QL
 * (tridiagonalQlEigenSym): absolute accuracy eps |A|, ample in float64, and several times fewer operations at
 * d = 10 and 12, so the float64 EPnP uses it for M^T M (planar, and below 6 points) and relinearisation's L^T L.
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

/**
 * Scratch of tridiagonalQlEigenSym: the diagonal, the off-diagonal, a column, the Householder scales, QL's
 * rotations in the order applied (the lower index and its cosine and sine), the eigenvalues' order.
 */
let sDiag = new Float64Array(12);
let sOff = new Float64Array(12);
let sP = new Float64Array(12);
let sH = new Float64Array(12);
let sRotI = new Int32Array(512);
let sRotC = new Float64Array(512);
let sRotS = new Float64Array(512);
let sOrder = new Int32Array(12);

/** Implicit QL sweeps allowed per eigenvalue before tridiagonalQlEigenSym gives up (returns -1). */
export const kQlMaxIterations = 30;
/**
 * The same contract as jacobiEigenSym, by Householder tridiagonalisation then implicit QL with Wilkinson
 * shifts (Golub & Van Loan, Matrix Computations, 8.3.1 and 8.3.3; the QL form of Wilkinson & Reinsch's
 * tql2). About 9 d^3 operations with all the vectors against 6 d^3 per Jacobi sweep: for EPnP's 12x12 and
 * 10x10, where Jacobi needs 6 to 8 sweeps, several times cheaper. Eigenvalues have absolute error
 * ~ eps |A|, not Jacobi's relative accuracy; EPnP needs the span of the smallest eigenvectors, which that
 * resolves whenever the gap above them is above eps |A| (the null space is otherwise not determined).
 *
 * The eigenvectors are H_0 ... H_(d-3) G_1 ... G_m: the reflectors stay in A, QL records its rotations, and
 * each wanted column is formed from its unit vector by the rotations (the last first) and then the
 * reflectors. count < d: only the `count` smallest eigenvectors are formed (columns 0..count-1 of
 * `vectors`; the other columns are left as they were), as EPnP needs 4 of 12 (3 of 9 when planar).
 * Returns the number of QL iterations run, or -1 for non-finite input: a non-finite column met by the
 * Householder pass (the outputs are then NaN) or an eigenvalue that did not converge (written as they stand).
 */
export function tridiagonalQlEigenSym(
  a: ArrayLike<number>,
  d: number,
  values: Float64Array,
  vectors: Float64Array,
  count = d,
): number {
  if (sDiag.length < d) {
    sDiag = new Float64Array(d);
    sOff = new Float64Array(d);
    sP = new Float64Array(d);
    sH = new Float64Array(d);
    sOrder = new Int32Array(d);
  }
  const A = sM.length < d * d ? (sM = new Float64Array(d * d)) : sM;
  const diag = sDiag, off = sOff, p = sP;
  for (let i = 0; i < d * d; i++) A[i] = a[i];
  // Householder: for column k, H = I - v v^T / h (|v|^2 = 2h) zeroes A[k+2.., k]; A <- H A H on the
  // trailing block in the rank-2 form A - v w^T - w v^T, w = p - (v.p / 2h) v, p = A v / h; v stays in
  // column k and h in sH[k] for the eigenvectors.
  for (let k = 0; k < d - 2; k++) {
    sH[k] = 0;
    let norm2 = 0;
    for (let i = k + 1; i < d; i++) norm2 += A[i * d + k] * A[i * d + k];
    // A non-finite column would pass the guard below as already reduced and be dropped: stop here.
    if (!Number.isFinite(norm2)) {
      values.fill(NaN, 0, d);
      for (let i = 0; i < d; i++) for (let j = 0; j < Math.min(count, d); j++) vectors[i * d + j] = NaN;
      return -1;
    }
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
    off[k] = alpha;
  }
  for (let i = 0; i < d; i++) diag[i] = A[i * d + i];
  if (d >= 2) off[d - 2] = A[(d - 1) * d + d - 2];
  off[d - 1] = 0;
  // Implicit QL on the tridiagonal (diag, off: off[i] joins i and i + 1), its rotations recorded.
  let iterations = 0;
  let rotations = 0;
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
        if (rotations === sRotI.length) growRotations();
        sRotI[rotations] = i;
        sRotC[rotations] = c;
        sRotS[rotations] = s;
        rotations++;
      }
      if (r === 0 && i >= l) continue;
      diag[l] -= shift;
      off[l] = g;
      off[m] = 0;
    }
  }
  // Ascending eigenvalues (a selection sort of their indices, as sortEigenpairs orders Jacobi's).
  for (let i = 0; i < d; i++) sOrder[i] = i;
  for (let j = 0; j < d; j++) {
    let best = j;
    for (let k = j + 1; k < d; k++) if (diag[sOrder[k]] < diag[sOrder[best]]) best = k;
    const t = sOrder[j];
    sOrder[j] = sOrder[best];
    sOrder[best] = t;
    values[j] = diag[sOrder[j]];
  }
  const x = sP; // free again: a column being formed
  for (let j = 0; j < Math.min(count, d); j++) {
    // Column p of G_1 ... G_m: e_p, then G_m, ..., G_1 (each on components i, i + 1 as QL applied it to columns).
    x.fill(0, 0, d);
    x[sOrder[j]] = 1;
    for (let q = rotations - 1; q >= 0; q--) {
      const i = sRotI[q], c = sRotC[q], sn = sRotS[q];
      const xi = x[i], xi1 = x[i + 1];
      x[i] = c * xi + sn * xi1;
      x[i + 1] = c * xi1 - sn * xi;
    }
    // Then H_0 ... H_(d-3) (H_k = I - v v^T / h, v below A[k + 1, k]), the last first.
    for (let k = d - 3; k >= 0; k--) {
      const h = sH[k];
      if (!(h > 0)) continue;
      let dot = 0;
      for (let i = k + 1; i < d; i++) dot += A[i * d + k] * x[i];
      dot /= h;
      for (let i = k + 1; i < d; i++) x[i] -= dot * A[i * d + k];
    }
    for (let i = 0; i < d; i++) vectors[i * d + j] = x[i];
  }
  return failed ? -1 : iterations;
}

function growRotations(): void {
  const n = 2 * sRotI.length;
  const i = new Int32Array(n), c = new Float64Array(n), sn = new Float64Array(n);
  i.set(sRotI); c.set(sRotC); sn.set(sRotS);
  sRotI = i; sRotC = c; sRotS = sn;
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

/**
 * The eigenvector of the largest eigenvalue of a symmetric 4x4 `a` [16] row-major into q [4] (unit), as
 * Horn's quaternion method needs it, by the QCP route (Theobald, Acta Cryst. A 2005; Liu, Agrafiotis &
 * Theobald, J. Comput. Chem. 2010): Newton on the characteristic polynomial from above its largest root
 * (||a||_F bounds every eigenvalue, and from above a real-rooted polynomial's largest root Newton descends
 * monotonically), then the column of adj(a - lambda I) of largest norm. Returns false, q untouched, where
 * that column is not well above rounding (the largest eigenvalue is double or the matrix is zero); the
 * caller then needs a full decomposition. About a sixth of tridiagonalQlEigenSym's time at d = 4.
 */
export function topEigenvector4(a: ArrayLike<number>, q: Float64Array): boolean {
  const a00 = a[0], a01 = a[1], a02 = a[2], a03 = a[3], a11 = a[5], a12 = a[6], a13 = a[7], a22 = a[10], a23 = a[11], a33 = a[15];
  // Shifted by the mean of the diagonal, so that the polynomial has no cubic term.
  const m = 0.25 * (a00 + a11 + a22 + a33);
  const b00 = a00 - m, b11 = a11 - m, b22 = a22 - m, b33 = a33 - m;
  const off2 = a01 * a01 + a02 * a02 + a03 * a03 + a12 * a12 + a13 * a13 + a23 * a23;
  const fro2 = b00 * b00 + b11 * b11 + b22 * b22 + b33 * b33 + 2 * off2;
  if (!(fro2 > 0) || !Number.isFinite(fro2)) return false;
  // det(B - x I) = x^4 + c2 x^2 + c1 x + c0: c2 = -tr(B^2)/2, c1 = -tr(B^3)/3, c0 = det B.
  const c2 = -0.5 * fro2;
  // tr(B^3) = sum_ij (B^2)_ij B_ji with B symmetric: sum over i of B_i . (B B_i).
  const B = sB4;
  B[0] = b00; B[1] = a01; B[2] = a02; B[3] = a03; B[4] = a01; B[5] = b11; B[6] = a12; B[7] = a13;
  B[8] = a02; B[9] = a12; B[10] = b22; B[11] = a23; B[12] = a03; B[13] = a13; B[14] = a23; B[15] = b33;
  let tr3 = 0;
  for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) {
    let bij2 = 0;
    for (let k = 0; k < 4; k++) bij2 += B[4 * i + k] * B[4 * k + j];
    tr3 += bij2 * B[4 * j + i];
  }
  const c1 = -tr3 / 3;
  const c0 = det4(B);
  let x = Math.sqrt(fro2);
  for (let it = 0; it < 60; it++) {
    const x2 = x * x;
    const p = (x2 + c2) * x2 + c1 * x + c0;
    const dp = (4 * x2 + 2 * c2) * x + c1;
    if (!(dp > 0)) break;
    const step = p / dp;
    x -= step;
    if (!(Math.abs(step) > 1e-16 * Math.abs(x))) break;
  }
  // adj(C), C = B - x I: column j is the cofactors of row j; any non-zero column is the eigenvector.
  for (let i = 0; i < 4; i++) B[5 * i] -= x;
  let best = -1, bestNorm = 0;
  const adj = sAdj4;
  for (let j = 0; j < 4; j++) {
    let nrm = 0;
    for (let i = 0; i < 4; i++) {
      const c = cofactor4(B, j, i);
      adj[4 * j + i] = c;
      nrm += c * c;
    }
    if (nrm > bestNorm) { bestNorm = nrm; best = j; }
  }
  // |adj| ~ product of the three gaps to the other eigenvalues: compare it with fro^3.
  if (best < 0 || !(bestNorm > 1e-16 * fro2 * fro2 * fro2)) return false;
  const inv = 1 / Math.sqrt(bestNorm);
  for (let i = 0; i < 4; i++) q[i] = adj[4 * best + i] * inv;
  return true;
}

const sB4 = new Float64Array(16);
const sAdj4 = new Float64Array(16);

/** Determinant of a 4x4 [16] row-major. */
function det4(m: ArrayLike<number>): number {
  const s0 = m[0] * m[5] - m[1] * m[4], s1 = m[0] * m[6] - m[2] * m[4], s2 = m[0] * m[7] - m[3] * m[4];
  const s3 = m[1] * m[6] - m[2] * m[5], s4 = m[1] * m[7] - m[3] * m[5], s5 = m[2] * m[7] - m[3] * m[6];
  const c5 = m[10] * m[15] - m[11] * m[14], c4 = m[9] * m[15] - m[11] * m[13], c3 = m[9] * m[14] - m[10] * m[13];
  const c2 = m[8] * m[15] - m[11] * m[12], c1 = m[8] * m[14] - m[10] * m[12], c0 = m[8] * m[13] - m[9] * m[12];
  return s0 * c5 - s1 * c4 + s2 * c3 + s3 * c2 - s4 * c1 + s5 * c0;
}

/** Cofactor (r, c) of a 4x4 [16] row-major: (-1)^(r+c) times the 3x3 minor without row r and column c. */
function cofactor4(m: ArrayLike<number>, r: number, c: number): number {
  const r0 = r === 0 ? 1 : 0, r1 = r <= 1 ? 2 : 1, r2 = r <= 2 ? 3 : 2;
  const k0 = c === 0 ? 1 : 0, k1 = c <= 1 ? 2 : 1, k2 = c <= 2 ? 3 : 2;
  const minor = m[4 * r0 + k0] * (m[4 * r1 + k1] * m[4 * r2 + k2] - m[4 * r1 + k2] * m[4 * r2 + k1])
    - m[4 * r0 + k1] * (m[4 * r1 + k0] * m[4 * r2 + k2] - m[4 * r1 + k2] * m[4 * r2 + k0])
    + m[4 * r0 + k2] * (m[4 * r1 + k0] * m[4 * r2 + k1] - m[4 * r1 + k1] * m[4 * r2 + k0]);
  return (r + c) % 2 === 0 ? minor : -minor;
}
