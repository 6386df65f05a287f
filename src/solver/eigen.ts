/**
 * Symmetric eigendecomposition by cyclic Jacobi rotations (Golub & Van Loan, Matrix Computations, 8.5).
 * Chosen over QR for its twin in WGSL: branch-light, fixed sweeps, accurate small eigenvalues, which EPnP's
 * null-space and the degeneracy tests depend on.
 */

/**
 * a: [d*d] row-major symmetric (read only). Writes eigenvalues ascending to `values` [d] and the matching
 * unit eigenvectors as the columns of `vectors` [d*d] row-major (vectors[i*d + j] = component i of vector j).
 */
export function jacobiEigenSym(
  a: ArrayLike<number>,
  d: number,
  values: Float64Array,
  vectors: Float64Array,
  maxSweeps = 30,
): void {
  const m = new Float64Array(d * d);
  for (let i = 0; i < d * d; i++) m[i] = a[i];
  vectors.fill(0);
  for (let i = 0; i < d; i++) vectors[i * d + i] = 1;
  for (let sweep = 0; sweep < maxSweeps; sweep++) {
    let off = 0;
    for (let p = 0; p < d; p++) for (let q = p + 1; q < d; q++) off += m[p * d + q] * m[p * d + q];
    if (off < 1e-300) break;
    for (let p = 0; p < d; p++) {
      for (let q = p + 1; q < d; q++) {
        const apq = m[p * d + q];
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (m[q * d + q] - m[p * d + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < d; k++) {
          const mkp = m[k * d + p];
          const mkq = m[k * d + q];
          m[k * d + p] = c * mkp - s * mkq;
          m[k * d + q] = s * mkp + c * mkq;
        }
        for (let k = 0; k < d; k++) {
          const mpk = m[p * d + k];
          const mqk = m[q * d + k];
          m[p * d + k] = c * mpk - s * mqk;
          m[q * d + k] = s * mpk + c * mqk;
        }
        for (let k = 0; k < d; k++) {
          const vkp = vectors[k * d + p];
          const vkq = vectors[k * d + q];
          vectors[k * d + p] = c * vkp - s * vkq;
          vectors[k * d + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  // Sort ascending (selection sort: d <= 12).
  const order = Array.from({ length: d }, (_, i) => i).sort((i, j) => m[i * d + i] - m[j * d + j]);
  const vecCopy = vectors.slice();
  for (let j = 0; j < d; j++) {
    values[j] = m[order[j] * d + order[j]];
    for (let i = 0; i < d; i++) vectors[i * d + j] = vecCopy[i * d + order[j]];
  }
}
