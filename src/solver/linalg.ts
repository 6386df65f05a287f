/**
 * Small dense linear algebra in float64 for the PnP reference.
 *
 * Storage: every 3x3 is a Float64Array(9) ROW-MAJOR (m[3*row + col]), as BOP stores K and R; the 6x6
 * normal matrices are Float64Array(36) row-major. Functions are pure `fn(out, ...): out` and allocate
 * nothing; unless a comment says otherwise `out` may alias an input (results go through module scratch).
 */

/** A read-only view of numbers: Float64Array, Float32Array or number[]. */
export type Vec = ArrayLike<number>;

const s9 = new Float64Array(9);

/** out = a b (3x3 row-major). out may alias a or b. */
export function mat3Mul(out: Float64Array, a: Vec, b: Vec): Float64Array {
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) {
      s9[3 * i + j] = a[3 * i] * b[j] + a[3 * i + 1] * b[3 + j] + a[3 * i + 2] * b[6 + j];
    }
  }
  out.set(s9);
  return out;
}

/** out = a^T (3x3 row-major). out may alias a. */
export function mat3Transpose(out: Float64Array, a: Vec): Float64Array {
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) s9[3 * i + j] = a[3 * j + i];
  out.set(s9);
  return out;
}

/** out = a v for the 3-vector v starting at v[vOff]. out may alias v (with vOff = 0). */
export function mat3Apply(out: Float64Array, a: Vec, v: Vec, vOff = 0): Float64Array {
  const x = v[vOff], y = v[vOff + 1], z = v[vOff + 2];
  out[0] = a[0] * x + a[1] * y + a[2] * z;
  out[1] = a[3] * x + a[4] * y + a[5] * z;
  out[2] = a[6] * x + a[7] * y + a[8] * z;
  return out;
}

/** out = a^T v for the 3-vector v starting at v[vOff]. out may alias v (with vOff = 0). */
export function mat3ApplyT(out: Float64Array, a: Vec, v: Vec, vOff = 0): Float64Array {
  const x = v[vOff], y = v[vOff + 1], z = v[vOff + 2];
  out[0] = a[0] * x + a[3] * y + a[6] * z;
  out[1] = a[1] * x + a[4] * y + a[7] * z;
  out[2] = a[2] * x + a[5] * y + a[8] * z;
  return out;
}

/**
 * out = a^-1 by the adjugate (3x3 row-major). Returns out; a singular or non-finite a gives non-finite
 * entries (callers check). out may alias a.
 */
export function mat3Inverse(out: Float64Array, a: Vec): Float64Array {
  const a0 = a[0], a1 = a[1], a2 = a[2], a3 = a[3], a4 = a[4], a5 = a[5], a6 = a[6], a7 = a[7], a8 = a[8];
  const c0 = a4 * a8 - a5 * a7;
  const c1 = a5 * a6 - a3 * a8;
  const c2 = a3 * a7 - a4 * a6;
  const inv = 1 / (a0 * c0 + a1 * c1 + a2 * c2);
  out[0] = c0 * inv;
  out[1] = (a2 * a7 - a1 * a8) * inv;
  out[2] = (a1 * a5 - a2 * a4) * inv;
  out[3] = c1 * inv;
  out[4] = (a0 * a8 - a2 * a6) * inv;
  out[5] = (a2 * a3 - a0 * a5) * inv;
  out[6] = c2 * inv;
  out[7] = (a1 * a6 - a0 * a7) * inv;
  out[8] = (a0 * a4 - a1 * a3) * inv;
  return out;
}

/** out = [v]x, the skew matrix with [v]x u = v x u (row-major). */
export function skew(out: Float64Array, v: Vec): Float64Array {
  const x = v[0], y = v[1], z = v[2];
  out[0] = 0; out[1] = -z; out[2] = y;
  out[3] = z; out[4] = 0; out[5] = -x;
  out[6] = -y; out[7] = x; out[8] = 0;
  return out;
}

/** out = a x b. out may alias a or b. */
export function cross3(out: Float64Array, a: Vec, b: Vec): Float64Array {
  const x = a[1] * b[2] - a[2] * b[1];
  const y = a[2] * b[0] - a[0] * b[2];
  const z = a[0] * b[1] - a[1] * b[0];
  out[0] = x; out[1] = y; out[2] = z;
  return out;
}

export function dot3(a: Vec, b: Vec): number {
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

export function norm3(a: Vec): number {
  return Math.hypot(a[0], a[1], a[2]);
}

/**
 * sqrt(a^2 + b^2) without overflow or underflow, as Math.hypot, which V8 runs about six times slower than
 * the plain square root: that form is used whenever its sum of squares is safely within range.
 */
export function hypot2(a: number, b: number): number {
  const s = a * a + b * b;
  return s > 1e-290 && s < 1e290 ? Math.sqrt(s) : Math.hypot(a, b);
}

/**
 * A += r r^T for r = (r0, ..., r5), on the lower triangle of A [36] row-major only (mirrorLower6 fills the
 * upper one once a sum is complete): the Gauss-Newton term of a 6-parameter problem, one residual row at a
 * time, written out because V8 runs loops over such small arrays several times slower.
 */
export function addOuterLower6(A: Float64Array, r0: number, r1: number, r2: number, r3: number, r4: number, r5: number): void {
  A[0] += r0 * r0;
  A[6] += r1 * r0; A[7] += r1 * r1;
  A[12] += r2 * r0; A[13] += r2 * r1; A[14] += r2 * r2;
  A[18] += r3 * r0; A[19] += r3 * r1; A[20] += r3 * r2; A[21] += r3 * r3;
  A[24] += r4 * r0; A[25] += r4 * r1; A[26] += r4 * r2; A[27] += r4 * r3; A[28] += r4 * r4;
  A[30] += r5 * r0; A[31] += r5 * r1; A[32] += r5 * r2; A[33] += r5 * r3; A[34] += r5 * r4; A[35] += r5 * r5;
}

/** Copies the lower triangle of A [6x6] row-major onto its upper one. */
export function mirrorLower6(A: Float64Array): void {
  for (let a = 1; a < 6; a++) for (let b = 0; b < a; b++) A[6 * b + a] = A[6 * a + b];
}

/** true when every one of the first `len` entries from `off` is finite. */
export function allFinite(a: Vec, off = 0, len = a.length - off): boolean {
  for (let i = off; i < off + len; i++) if (!Number.isFinite(a[i])) return false;
  return true;
}

const cholL = new Float64Array(36);
const cholY = new Float64Array(6);

/**
 * Solves A x = b for a symmetric positive definite 6x6 A (row-major, only the lower triangle is read) by
 * Cholesky A = L L^T (Golub & Van Loan 4.2). Returns false, leaving out untouched, when a pivot is not
 * strictly positive (A not positive definite) or not finite. out may alias b.
 */
export function cholSolve6(out: Float64Array, a: Vec, b: Vec): boolean {
  if (!cholesky(cholL, a, 6)) return false;
  // Forward: L y = b.
  for (let i = 0; i < 6; i++) {
    let v = b[i];
    for (let k = 0; k < i; k++) v -= cholL[6 * i + k] * cholY[k];
    cholY[i] = v / cholL[6 * i + i];
  }
  // Backward: L^T x = y (written into cholY in place, then copied).
  for (let i = 5; i >= 0; i--) {
    let v = cholY[i];
    for (let k = i + 1; k < 6; k++) v -= cholL[6 * k + i] * cholY[k];
    cholY[i] = v / cholL[6 * i + i];
  }
  for (let i = 0; i < 6; i++) out[i] = cholY[i];
  return true;
}


/**
 * The lower Cholesky factor L of a symmetric positive definite d x d (row-major, only the lower triangle read;
 * Golub & Van Loan 4.2), written to out [d*d] row-major with zeros above the diagonal. Returns false when a
 * pivot is not strictly positive or not finite (out then holds what was formed). out must not alias a.
 * The WGSL twins: cholesky4 (d = 4, in registers) and the factorisation inside chol_solve6.
 */
export function cholesky(out: Float64Array, a: Vec, d: number): boolean {
  if (!(Number.isInteger(d) && d > 0)) throw new Error(`cholesky: d must be a positive integer, got ${d}`);
  out.fill(0, 0, d * d);
  for (let j = 0; j < d; j++) {
    let v = a[d * j + j];
    for (let k = 0; k < j; k++) v -= out[d * j + k] * out[d * j + k];
    // !(v > 0) also rejects NaN pivots.
    if (!(v > 0) || !Number.isFinite(v)) return false;
    const ljj = Math.sqrt(v);
    out[d * j + j] = ljj;
    for (let i = j + 1; i < d; i++) {
      let x = a[d * i + j];
      for (let k = 0; k < j; k++) x -= out[d * i + k] * out[d * j + k];
      out[d * i + j] = x / ljj;
    }
  }
  return true;
}

/** out = L^-1 B (4x4 row-major; L lower triangular, from cholesky at d = 4), column by column. out must not alias L; may alias B. */
export function lowerSolve4(out: Float64Array, L: Vec, B: Vec): Float64Array {
  for (let c = 0; c < 4; c++) {
    for (let i = 0; i < 4; i++) {
      let v = B[4 * i + c];
      for (let k = 0; k < i; k++) v -= L[4 * i + k] * out[4 * k + c];
      out[4 * i + c] = v / L[4 * i + i];
    }
  }
  return out;
}

/** out = L^-T B (4x4 row-major; L lower triangular, from cholesky at d = 4), column by column. out must not alias L; may alias B. */
export function upperSolve4(out: Float64Array, L: Vec, B: Vec): Float64Array {
  for (let c = 0; c < 4; c++) {
    for (let i = 3; i >= 0; i--) {
      let v = B[4 * i + c];
      for (let k = i + 1; k < 4; k++) v -= L[4 * k + i] * out[4 * k + c];
      out[4 * i + c] = v / L[4 * i + i];
    }
  }
  return out;
}
