/**
 * EPnP steps 5-6 (epnp.ts has the outline): the distance constraints between control points, linear in
 * the products b_i b_j (L and rho), the linearised betas (OpenCV's approximations, the paper's N = 1 and
 * its relinearisation) and their Gauss-Newton refinement. float64, each function with a snake_case twin
 * in src/kernels/epnp.wgsl.
 */
import { tridiagonalQlEigenSym } from './eigen';

/** Gauss-Newton iterations on the betas (more than OpenCV's 5 rescues the n = 4 case). */
export const kGaussNewtonIters = 10;
/**
 * OpenCV's count (epnp.cpp), where a doubtful start is screened anyway (epnp.ts `thorough`). The betas'
 * Gauss-Newton converges only linearly once the six distance equations disagree (noise), so most runs went
 * to the cap of 10 without meeting their tolerance.
 */
export const kGaussNewtonItersQuick = 5;

/** Index of the product `b_i b_j` (i <= j) in a row of L: (0,0) (0,1) (1,1) (0,2) (1,2) (2,2) (0,3) ... */
export function betaProductIndex(i: number, j: number): number {
  return i <= j ? (j * (j + 1)) / 2 + i : (i * (i + 1)) / 2 + j;
}

/** Control-point pairs, as OpenCV orders them: (0,1) (0,2) (0,3) (1,2) (1,3) (2,3); three for nc = 3. */
const kPairsA4 = [0, 0, 0, 1, 1, 2];
const kPairsB4 = [1, 2, 3, 2, 3, 3];
const kPairsA3 = [0, 0, 1];
const kPairsB3 = [1, 2, 2];
// Module-level scratch (no allocation per call beyond the result).
const sLsA = new Float64Array(60);
const sLsB = new Float64Array(6);
const sLsX = new Float64Array(10);
const sLsDiag = new Float64Array(14);
const sLtL = new Float64Array(100);
const sLtLVal = new Float64Array(10);
const sLtLVec = new Float64Array(100);
const sRelP = new Float64Array(10);
const sRelA = new Float64Array(20 * 14);
const sRelB = new Float64Array(20);
const sRelX = new Float64Array(14);
const sJ = new Float64Array(24);
const sRes = new Float64Array(6);
const sDelta = new Float64Array(4);

/**
 * L [npairs, nb(nb+1)/2] row-major (stride 10), nb = nc: row of pair (a, b) holds the coefficients of
 * b_i b_j in || sum_k b_k (v_k[a] - v_k[b]) ||^2, with v_k column k of `vecs` [d*d] (d = 3nc, ascending
 * eigenvalues, so v_0 is the null vector). OpenCV's compute_L_6x10 for nc = 4.
 */
export function computeL(vecs: ArrayLike<number>, nc: number, L: Float64Array): Float64Array {
  const d = 3 * nc;
  const np = nc === 4 ? 6 : 3;
  const pa = nc === 4 ? kPairsA4 : kPairsA3;
  const pb = nc === 4 ? kPairsB4 : kPairsB3;
  for (let q = 0; q < np; q++) {
    const a = pa[q];
    const b = pb[q];
    for (let j = 0; j < nc; j++) {
      for (let i = 0; i <= j; i++) {
        let dot = 0;
        for (let r = 0; r < 3; r++) {
          const di = vecs[(3 * a + r) * d + i] - vecs[(3 * b + r) * d + i];
          const dj = vecs[(3 * a + r) * d + j] - vecs[(3 * b + r) * d + j];
          dot += di * dj;
        }
        L[q * 10 + betaProductIndex(i, j)] = i === j ? dot : 2 * dot;
      }
    }
  }
  return L;
}

/** rho [npairs]: squared distances between the world control points cw [nc*3], in pair order. */
export function computeRho(cw: ArrayLike<number>, nc: number, rho: Float64Array): Float64Array {
  const np = nc === 4 ? 6 : 3;
  const pa = nc === 4 ? kPairsA4 : kPairsA3;
  const pb = nc === 4 ? kPairsB4 : kPairsB3;
  for (let q = 0; q < np; q++) {
    let s = 0;
    for (let r = 0; r < 3; r++) {
      const dd = cw[3 * pa[q] + r] - cw[3 * pb[q] + r];
      s += dd * dd;
    }
    rho[q] = s;
  }
  return rho;
}

/**
 * Least squares min ||A x - b|| by Householder QR. a [rows*cols] row-major (stride cols) and b [rows] are
 * overwritten; rows >= cols, cols <= 14. A column whose pivot is below 1e-13 of the largest is
 * treated as rank deficient: its unknown is set to 0. Returns x [cols].
 */
export function solveLeastSquares(
  a: Float64Array,
  rows: number,
  cols: number,
  b: Float64Array,
  x: Float64Array,
): Float64Array {
  let maxDiag = 0;
  for (let k = 0; k < cols; k++) {
    let norm2 = 0;
    for (let i = k; i < rows; i++) norm2 += a[i * cols + k] * a[i * cols + k];
    const norm = Math.sqrt(norm2);
    if (norm === 0) {
      sLsDiag[k] = 0;
      continue;
    }
    const akk = a[k * cols + k];
    const alpha = akk > 0 ? -norm : norm;
    // Householder vector v = a[k:, k] - alpha e_1, kept in column k; |v|^2 = 2 norm (norm + |akk|).
    a[k * cols + k] = akk - alpha;
    const vv = 2 * norm * (norm + Math.abs(akk));
    for (let j = k + 1; j < cols; j++) {
      let s = 0;
      for (let i = k; i < rows; i++) s += a[i * cols + k] * a[i * cols + j];
      const f = (2 * s) / vv;
      for (let i = k; i < rows; i++) a[i * cols + j] -= f * a[i * cols + k];
    }
    let s = 0;
    for (let i = k; i < rows; i++) s += a[i * cols + k] * b[i];
    const f = (2 * s) / vv;
    for (let i = k; i < rows; i++) b[i] -= f * a[i * cols + k];
    sLsDiag[k] = alpha;
    maxDiag = Math.max(maxDiag, norm);
  }
  for (let k = cols - 1; k >= 0; k--) {
    const rkk = sLsDiag[k];
    if (!(Math.abs(rkk) > 1e-13 * maxDiag)) {
      x[k] = 0;
      continue;
    }
    let s = b[k];
    for (let j = k + 1; j < cols; j++) s -= a[k * cols + j] * x[j];
    x[k] = s / rkk;
  }
  return x;
}

/** Least squares over the columns `colIdx` of L (stride 10) against rho; x [colIdx.length]. */
function solveLColumns(L: ArrayLike<number>, rho: ArrayLike<number>, np: number, colIdx: readonly number[]): Float64Array {
  const nCols = colIdx.length;
  for (let q = 0; q < np; q++) {
    for (let c = 0; c < nCols; c++) sLsA[q * nCols + c] = L[q * 10 + colIdx[c]];
    sLsB[q] = rho[q];
  }
  return solveLeastSquares(sLsA, np, nCols, sLsB, sLsX);
}

const kApprox1Cols4 = [0, 1, 3, 6]; // b00 b01 b02 b03
const kApprox1Cols3 = [0, 1, 3]; // b00 b01 b02
const kApprox2Cols = [0, 1, 2]; // b00 b01 b11
const kApprox3Cols = [0, 1, 2, 3, 4]; // b00 b01 b11 b02 b12
const kN1Cols = [0]; // b00

/**
 * OpenCV's find_betas_approx_1: the products b_0 b_j (all j) as unknowns, then b_0 = sqrt|b00| and
 * b_j = b0j / b_0 (signs as OpenCV). Writes betas [nc].
 */
export function findBetasApprox1(L: ArrayLike<number>, rho: ArrayLike<number>, nc: number, betas: Float64Array): Float64Array {
  const np = nc === 4 ? 6 : 3;
  const x = solveLColumns(L, rho, np, nc === 4 ? kApprox1Cols4 : kApprox1Cols3);
  betas.fill(0);
  const b0 = Math.sqrt(Math.abs(x[0]));
  if (b0 === 0) return betas;
  const sgn = x[0] < 0 ? -1 : 1;
  betas[0] = b0;
  for (let j = 1; j < nc; j++) betas[j] = (sgn * x[j]) / b0;
  return betas;
}

/**
 * beta_0, beta_1 from the products x = [b00, b01, b11, ...] as OpenCV's find_betas_approx_2 and _3 read
 * them: |beta_0| = sqrt|b00|, beta_1 = sqrt(b11) where b11 has b00's sign (else 0), and beta_0 takes b01's
 * sign. Writes betas[0..1]; returns betas.
 */
export function betasFromProducts(x: ArrayLike<number>, betas: Float64Array): Float64Array {
  if (x[0] < 0) {
    betas[0] = Math.sqrt(-x[0]);
    betas[1] = x[2] < 0 ? Math.sqrt(-x[2]) : 0;
  } else {
    betas[0] = Math.sqrt(x[0]);
    betas[1] = x[2] > 0 ? Math.sqrt(x[2]) : 0;
  }
  if (x[1] < 0) betas[0] = -betas[0];
  return betas;
}

/** OpenCV's find_betas_approx_2 (N = 2): unknowns b00 b01 b11. Writes betas [nc] (b_2 = b_3 = 0). */
export function findBetasApprox2(L: ArrayLike<number>, rho: ArrayLike<number>, nc: number, betas: Float64Array): Float64Array {
  const np = nc === 4 ? 6 : 3;
  const x = solveLColumns(L, rho, np, kApprox2Cols);
  betas.fill(0);
  return betasFromProducts(x, betas);
}

/** OpenCV's find_betas_approx_3 (N = 3, nc = 4 only): unknowns b00 b01 b11 b02 b12. Writes betas [4]. */
export function findBetasApprox3(L: ArrayLike<number>, rho: ArrayLike<number>, nc: number, betas: Float64Array): Float64Array {
  const x = solveLColumns(L, rho, 6, kApprox3Cols);
  betas.fill(0);
  betasFromProducts(x, betas);
  betas[2] = betas[0] !== 0 ? x[3] / betas[0] : 0;
  void nc;
  return betas;
}

/**
 * The 20 relinearisation constraints for four betas (paper Sec. 3.3, after Kipnis & Shamir 1999):
 * b_X b_Y = b_X' b_Y' whenever both products are the same quartic monomial b_a b_b b_c b_d. Each entry
 * holds the four product indices [X, Y, X', Y'] (see betaProductIndex).
 */
export const kRelinConstraints: readonly (readonly [number, number, number, number])[] = (() => {
  const out: [number, number, number, number][] = [];
  for (let a = 0; a < 4; a++) for (let b = a; b < 4; b++) for (let c = b; c < 4; c++) for (let d = c; d < 4; d++) {
    // The distinct ways to split the monomial into two products, as unordered index pairs.
    const splits: [number, number][] = [];
    for (const [x, y] of [[betaProductIndex(a, b), betaProductIndex(c, d)], [betaProductIndex(a, c), betaProductIndex(b, d)], [betaProductIndex(a, d), betaProductIndex(b, c)]]) {
      const key: [number, number] = x <= y ? [x, y] : [y, x];
      if (!splits.some((q) => q[0] === key[0] && q[1] === key[1])) splits.push(key);
    }
    for (let k = 1; k < splits.length; k++) out.push([splits[0][0], splits[0][1], splits[k][0], splits[k][1]]);
  }
  return out;
})();

/**
 * The paper's N = 4 by relinearisation (nc = 4): the products b solve L b = rho up to its 4-dim null space,
 * b = p + N lambda (p minimum-norm, N the null vectors, from the eigenvectors of L^T L); the 20 quadratic
 * consistency constraints of kRelinConstraints are linear in (lambda_k, lambda_k lambda_l): a 20x14 least
 * squares gives lambda. Then the betas from b with the largest b_ii as pivot: b_i = sqrt(b_ii),
 * b_k = b_ik / b_i. Exact without noise when all four null vectors are needed (n = 4).
 */
export function findBetasRelin(L: ArrayLike<number>, rho: ArrayLike<number>, nc: number, betas: Float64Array): Float64Array {
  betas.fill(0);
  if (nc !== 4) return betas;
  // L^T L [10x10] and L^T rho.
  for (let i = 0; i < 10; i++) {
    for (let j = 0; j < 10; j++) {
      let s = 0;
      for (let q = 0; q < 6; q++) s += L[q * 10 + i] * L[q * 10 + j];
      sLtL[i * 10 + j] = s;
    }
  }
  tridiagonalQlEigenSym(sLtL, 10, sLtLVal, sLtLVec);
  // Minimum-norm p = sum over the six largest eigenpairs of (v . L^T rho) / lambda v.
  sRelP.fill(0);
  const top = sLtLVal[9];
  for (let k = 4; k < 10; k++) {
    if (!(sLtLVal[k] > 1e-14 * top)) continue;
    let c = 0;
    for (let i = 0; i < 10; i++) {
      let ltr = 0;
      for (let q = 0; q < 6; q++) ltr += L[q * 10 + i] * rho[q];
      c += sLtLVec[i * 10 + k] * ltr;
    }
    c /= sLtLVal[k];
    for (let i = 0; i < 10; i++) sRelP[i] += c * sLtLVec[i * 10 + k];
  }
  // Rows: constant + sum_k lin_k lambda_k + sum_{k<=l} quad_kl lambda_k lambda_l = 0; N_Xk = vec[X][k], k < 4.
  const nCons = kRelinConstraints.length;
  for (let e = 0; e < nCons; e++) {
    const [X, Y, X2, Y2] = kRelinConstraints[e];
    const row = e * 14;
    const pX = sRelP[X], pY = sRelP[Y], pX2 = sRelP[X2], pY2 = sRelP[Y2];
    sRelB[e] = -(pX * pY - pX2 * pY2);
    for (let k = 0; k < 4; k++) {
      const nXk = sLtLVec[X * 10 + k], nYk = sLtLVec[Y * 10 + k];
      const nX2k = sLtLVec[X2 * 10 + k], nY2k = sLtLVec[Y2 * 10 + k];
      sRelA[row + k] = pX * nYk + pY * nXk - (pX2 * nY2k + pY2 * nX2k);
      for (let l = k; l < 4; l++) {
        const nXl = sLtLVec[X * 10 + l], nYl = sLtLVec[Y * 10 + l];
        const nX2l = sLtLVec[X2 * 10 + l], nY2l = sLtLVec[Y2 * 10 + l];
        let qkl = nXk * nYl - nX2k * nY2l;
        if (l !== k) qkl += nXl * nYk - nX2l * nY2k;
        sRelA[row + 4 + betaProductIndex(k, l)] = qkl;
      }
    }
  }
  solveLeastSquares(sRelA, nCons, 14, sRelB, sRelX);
  // b = p + N lambda into sRelP.
  for (let i = 0; i < 10; i++) {
    let s = sRelP[i];
    for (let k = 0; k < 4; k++) s += sLtLVec[i * 10 + k] * sRelX[k];
    sRelP[i] = s;
  }
  let piv = 0;
  let pivAbs = -1;
  for (let i = 0; i < 4; i++) {
    const v = Math.abs(sRelP[betaProductIndex(i, i)]);
    if (v > pivAbs) { pivAbs = v; piv = i; }
  }
  const bp = Math.sqrt(pivAbs);
  if (!(bp > 0)) return betas;
  const sgn = sRelP[betaProductIndex(piv, piv)] < 0 ? -1 : 1;
  for (let k = 0; k < 4; k++) betas[k] = k === piv ? bp : (sgn * sRelP[betaProductIndex(piv, k)]) / bp;
  return betas;
}

/** The paper's N = 1: b00 alone, b_0 = sqrt|b00|. Writes betas [nc]. */
export function findBetasN1(L: ArrayLike<number>, rho: ArrayLike<number>, nc: number, betas: Float64Array): Float64Array {
  const np = nc === 4 ? 6 : 3;
  const x = solveLColumns(L, rho, np, kN1Cols);
  betas.fill(0);
  betas[0] = Math.sqrt(Math.abs(x[0]));
  return betas;
}

/**
 * Gauss-Newton on the betas (paper eq. 15): minimise sum_q (rho_q - L_q . b(betas))^2, with
 * b(betas) the products b_i b_j, for `iters` iterations (stops early once the step is negligible).
 */
export function gaussNewton(
  L: ArrayLike<number>,
  rho: ArrayLike<number>,
  nc: number,
  betas: Float64Array,
  iters = kGaussNewtonIters,
): Float64Array {
  const np = nc === 4 ? 6 : 3;
  for (let it = 0; it < iters; it++) {
    for (let q = 0; q < np; q++) {
      // L_q . b = betas^T Q betas with Q_ii = L[p(i,i)], Q_ij = L[p(i,j)] / 2; gradient 2 Q betas.
      let val = 0;
      for (let i = 0; i < nc; i++) {
        let g = 0;
        for (let j = 0; j < nc; j++) {
          const lij = L[q * 10 + betaProductIndex(i, j)];
          g += (i === j ? 2 * lij : lij) * betas[j];
        }
        sJ[q * nc + i] = g;
        val += 0.5 * g * betas[i];
      }
      sRes[q] = rho[q] - val;
    }
    solveLeastSquares(sJ, np, nc, sRes, sDelta);
    let step = 0;
    let size = 0;
    for (let i = 0; i < nc; i++) {
      betas[i] += sDelta[i];
      step += sDelta[i] * sDelta[i];
      size += betas[i] * betas[i];
    }
    if (!(step > 1e-30 * size)) break;
  }
  return betas;
}
