/**
 * Symmetric eigendecomposition by cyclic Jacobi rotations (Golub & Van Loan, Matrix Computations, 8.5).
 * Chosen over QR for its twin in WGSL: branch-light, fixed sweeps, accurate small eigenvalues, which EPnP's
 * null-space and the degeneracy tests depend on.
 */

/** Scratch: the working matrix and the eigenvectors before sorting (d <= 12; grown on demand). */
let sM = new Float64Array(144);
let sV = new Float64Array(144);

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
  // Selection sort ascending (d <= 12), without allocating: values first, then the columns they name.
  for (let i = 0; i < d; i++) values[i] = m[i * d + i];
  for (let j = 0; j < d; j++) {
    let best = j;
    for (let k = j + 1; k < d; k++) if (values[k] < values[best]) best = k;
    if (best !== j) {
      const tv = values[j];
      values[j] = values[best];
      values[best] = tv;
      for (let i = 0; i < d; i++) {
        const tc = v[i * d + j];
        v[i * d + j] = v[i * d + best];
        v[i * d + best] = tc;
      }
    }
  }
  for (let i = 0; i < d * d; i++) vectors[i] = v[i];
  return sweep;
}
