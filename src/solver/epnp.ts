/**
 * EPnP initialiser (Lepetit, Moreno-Noguer, Fua, "EPnP: An Accurate O(n) Solution to the PnP Problem",
 * IJCV 2009) in the normalised frame of docs/pnp-maths.md, float64.
 *
 * Conventions: rotations are model->camera, 3x3 row-major (`R[3*row + col]`); a camera point is
 * `Xc / s = R xn + tn`. Image coordinates are normalised (`m = dehom(K^-1 [x, 1])`), so the camera is
 * the identity and the projection is `(X/Z, Y/Z)`.
 *
 * Outline (each step is a function with a snake_case twin in src/kernels/epnp.wgsl):
 *  1. `pointSpread` + `chooseControlPoints`: weighted centroid plus principal axes of the points, scaled
 *     by the square root of their variance. Four control points, or three in the plane when the smallest
 *     variance is below `kPlanarRatio` of the largest (the paper's planar case, Sec. 3.4); between
 *     `kNearPlanarRatio` and `kPlanarRatio` both are solved (`solveWithControlPoints`) and the better
 *     reprojection wins, since the planar solution of nearly planar points is only approximate.
 *  2. `computeAlphas`: barycentric coordinates of each point in the control points (sum to 1).
 *  3. `accumulateMoments` + `assembleMtM`: `M^T M` (12x12 or 9x9) streamed over the points. The 3x3 block
 *     (j, k) of `M^T M` is `sum_i w_i a_ij a_ik [[1, 0, -u], [0, 1, -v], [-u, -v, u^2 + v^2]]`, so four
 *     weighted moments of `a_j a_k` suffice: no per-point storage (the WGSL twin streams the points).
 *  4. `jacobiEigenSym`: the `nc` smallest eigenvectors of `M^T M` span the camera control points.
 *  5. `computeL` / `computeRho`: the distance constraints between control points, linear in the
 *     products `b_i b_j` (paper eq. 13; OpenCV epnp.cpp compute_L_6x10 / compute_rho).
 *  6. Linearised betas, each refined by `gaussNewton` on all betas (paper Sec. 3.3, eq. 15). General:
 *     OpenCV's `findBetasApprox1/2/3` and the paper's N = 4 by relinearisation (`findBetasRelin`, which
 *     makes n = 4 exact without noise: there the null space is 4-dim and the approximations miss it).
 *     Planar: `findBetasN1` (N = 1), `findBetasApprox2` (N = 2), `findBetasApprox1` (N = 3, linear in b_0).
 *  7. `computeCcs`, `solveForSign`, `estimateRt`: camera control points, positive depth, then R, tn by
 *     absolute orientation (Horn 1987, unit quaternions: the top eigenvector of a 4x4 symmetric matrix).
 *     Because every point is the same affine combination of control points in both frames, the point
 *     cross-covariance is `sum_jk B_jk cw_j ccs_k^T` with `B` the weighted covariance of the alphas:
 *     fitting the control points with `B` equals fitting all the points (as OpenCV does), without them.
 *  8. `reprojectionError`: the candidate with the least weighted squared error in normalised coordinates.
 */
import { jacobiEigenSym } from './eigen';

export interface EpnpResult {
  ok: boolean;
  /** rotation model->camera, [9] row-major */
  R: Float64Array;
  /** normalised translation tn, [3] */
  t: Float64Array;
}

/** Planar when the smallest variance of the points is below this fraction of the largest (docs/pnp-maths.md). */
export const kPlanarRatio = 1e-4;
/**
 * Below kPlanarRatio but above this, the points are nearly planar: both the planar and the general
 * solution are tried and the one that reprojects better wins (the planar one ignores the points' small
 * offsets from their plane, the general one has large alphas). Exactly planar points fall below it.
 */
export const kNearPlanarRatio = 1e-7;
/** No pose when the second variance is below this fraction of the largest (collinear or coincident points). */
export const kDegenerateRatio = 1e-12;
/** Gauss-Newton iterations on the betas (OpenCV uses 5; more rescues the n = 4 case). */
export const kGaussNewtonIters = 10;
/** Reprojection penalty for a point at or behind the camera, in squared normalised units. */
export const kBehindPenalty = 1;

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
const sCov = new Float64Array(9);
const sAlpha = new Float64Array(4);
const sMtM = new Float64Array(144);
const sVal12 = new Float64Array(12);
const sVec12 = new Float64Array(144);
const sL = new Float64Array(60);
const sRho = new Float64Array(6);
const sBetas = new Float64Array(4);
const sCcs = new Float64Array(12);
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
const sHorn = new Float64Array(16);
const sHornVal = new Float64Array(4);
const sHornVec = new Float64Array(16);
const sR = new Float64Array(9);
const sT = new Float64Array(3);

/**
 * Weighted moments of the alphas and image coordinates, streamed over the points.
 * For the product index p = betaProductIndex(j, k): s1[p] = sum w a_j a_k, su[p] = sum w a_j a_k u,
 * sv[p] = sum w a_j a_k v, suv[p] = sum w a_j a_k (u^2 + v^2); alphaSum[j] = sum w a_j; wSum = sum w.
 */
export interface EpnpMoments {
  s1: Float64Array;
  su: Float64Array;
  sv: Float64Array;
  suv: Float64Array;
  alphaSum: Float64Array;
  wSum: number;
}

const sMoments: EpnpMoments = {
  s1: new Float64Array(10),
  su: new Float64Array(10),
  sv: new Float64Array(10),
  suv: new Float64Array(10),
  alphaSum: new Float64Array(4),
  wSum: 0,
};

/**
 * Weighted centroid c [3] and covariance eigen-decomposition of xn [n,3] (points with w <= 0 ignored):
 * variances ascending in `vars` [3], unit axes as the columns of `axes` [9] row-major. Returns the weight sum.
 */
export function pointSpread(
  xn: ArrayLike<number>,
  w: ArrayLike<number> | null,
  n: number,
  c: Float64Array,
  vars: Float64Array,
  axes: Float64Array,
): number {
  let wSum = 0;
  let cx = 0;
  let cy = 0;
  let cz = 0;
  for (let i = 0; i < n; i++) {
    const wi = w ? w[i] : 1;
    if (!(wi > 0)) continue;
    wSum += wi;
    cx += wi * xn[3 * i];
    cy += wi * xn[3 * i + 1];
    cz += wi * xn[3 * i + 2];
  }
  if (!(wSum > 0)) return 0;
  cx /= wSum;
  cy /= wSum;
  cz /= wSum;
  sCov.fill(0);
  for (let i = 0; i < n; i++) {
    const wi = w ? w[i] : 1;
    if (!(wi > 0)) continue;
    const dx = xn[3 * i] - cx;
    const dy = xn[3 * i + 1] - cy;
    const dz = xn[3 * i + 2] - cz;
    sCov[0] += wi * dx * dx;
    sCov[1] += wi * dx * dy;
    sCov[2] += wi * dx * dz;
    sCov[4] += wi * dy * dy;
    sCov[5] += wi * dy * dz;
    sCov[8] += wi * dz * dz;
  }
  sCov[3] = sCov[1];
  sCov[6] = sCov[2];
  sCov[7] = sCov[5];
  for (let k = 0; k < 9; k++) sCov[k] /= wSum;
  jacobiEigenSym(sCov, 3, vars, axes);
  c[0] = cx;
  c[1] = cy;
  c[2] = cz;
  return wSum;
}

/**
 * Control points from the spread of the points (see pointSpread): nc = 4 (centroid and the three axes)
 * or nc = 3 (centroid and the two largest axes: the plane), each axis scaled by the square root of its
 * variance. Writes cw [nc*3] (world control points: c0, then c0 + sqrt(var_j) axis_j, largest variance
 * first) and alphaMap [12] (c0, then axis_j / sqrt(var_j) for j = 1 .. nc-1: a_j = alphaMap_j . (x - c0)).
 */
export function chooseControlPoints(
  c: ArrayLike<number>,
  vars: ArrayLike<number>,
  axes: ArrayLike<number>,
  nc: number,
  cw: Float64Array,
  alphaMap: Float64Array,
): void {
  for (let r = 0; r < 3; r++) {
    cw[r] = c[r];
    alphaMap[r] = c[r];
  }
  for (let j = 1; j < nc; j++) {
    const e = 3 - j; // eigen index: largest variance first
    const sd = Math.sqrt(vars[e]);
    for (let r = 0; r < 3; r++) {
      const ar = axes[r * 3 + e];
      cw[3 * j + r] = c[r] + sd * ar;
      alphaMap[3 * j + r] = ar / sd;
    }
  }
}

/** Barycentric coordinates alphas [nc] of the point (px, py, pz) in the control points (sum to 1). */
export function computeAlphas(
  alphaMap: ArrayLike<number>,
  nc: number,
  px: number,
  py: number,
  pz: number,
  alphas: Float64Array,
): Float64Array {
  const dx = px - alphaMap[0];
  const dy = py - alphaMap[1];
  const dz = pz - alphaMap[2];
  let a0 = 1;
  for (let j = 1; j < nc; j++) {
    const a = alphaMap[3 * j] * dx + alphaMap[3 * j + 1] * dy + alphaMap[3 * j + 2] * dz;
    alphas[j] = a;
    a0 -= a;
  }
  alphas[0] = a0;
  return alphas;
}

/** One pass over the points: the moments of EpnpMoments (points with w <= 0 ignored). */
export function accumulateMoments(
  xn: ArrayLike<number>,
  m: ArrayLike<number>,
  w: ArrayLike<number> | null,
  n: number,
  alphaMap: ArrayLike<number>,
  nc: number,
  out: EpnpMoments,
): EpnpMoments {
  out.s1.fill(0);
  out.su.fill(0);
  out.sv.fill(0);
  out.suv.fill(0);
  out.alphaSum.fill(0);
  out.wSum = 0;
  for (let i = 0; i < n; i++) {
    const wi = w ? w[i] : 1;
    if (!(wi > 0)) continue;
    computeAlphas(alphaMap, nc, xn[3 * i], xn[3 * i + 1], xn[3 * i + 2], sAlpha);
    const u = m[2 * i];
    const v = m[2 * i + 1];
    const uv = u * u + v * v;
    out.wSum += wi;
    for (let k = 0; k < nc; k++) {
      const wak = wi * sAlpha[k];
      out.alphaSum[k] += wak;
      for (let j = 0; j <= k; j++) {
        const p = betaProductIndex(j, k);
        const waa = wak * sAlpha[j];
        out.s1[p] += waa;
        out.su[p] += waa * u;
        out.sv[p] += waa * v;
        out.suv[p] += waa * uv;
      }
    }
  }
  return out;
}

/** M^T M [(3nc)^2] row-major from the moments: block (j, k) = [[s1, 0, -su], [0, s1, -sv], [-su, -sv, suv]]. */
export function assembleMtM(mom: EpnpMoments, nc: number, mtm: Float64Array): Float64Array {
  const d = 3 * nc;
  for (let j = 0; j < nc; j++) {
    for (let k = 0; k < nc; k++) {
      const p = betaProductIndex(j, k);
      const s1 = mom.s1[p];
      const su = mom.su[p];
      const sv = mom.sv[p];
      const o = 3 * j * d + 3 * k;
      mtm[o] = s1;
      mtm[o + 1] = 0;
      mtm[o + 2] = -su;
      mtm[o + d] = 0;
      mtm[o + d + 1] = s1;
      mtm[o + d + 2] = -sv;
      mtm[o + 2 * d] = -su;
      mtm[o + 2 * d + 1] = -sv;
      mtm[o + 2 * d + 2] = mom.suv[p];
    }
  }
  return mtm;
}

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
  jacobiEigenSym(sLtL, 10, sLtLVal, sLtLVec);
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

/** Camera control points ccs [nc*3] = sum_k betas_k v_k (v_k column k of vecs [d*d], d = 3nc). */
export function computeCcs(vecs: ArrayLike<number>, nc: number, betas: ArrayLike<number>, ccs: Float64Array): Float64Array {
  const d = 3 * nc;
  for (let r = 0; r < d; r++) {
    let s = 0;
    for (let k = 0; k < nc; k++) s += betas[k] * vecs[r * d + k];
    ccs[r] = s;
  }
  return ccs;
}

/** Negates ccs when the weighted mean depth sum_j abar_j ccs_j.z is negative (the mirrored solution). */
export function solveForSign(ccs: Float64Array, nc: number, alphaSum: ArrayLike<number>): Float64Array {
  let z = 0;
  for (let j = 0; j < nc; j++) z += alphaSum[j] * ccs[3 * j + 2];
  if (z < 0) for (let k = 0; k < 3 * nc; k++) ccs[k] = -ccs[k];
  return ccs;
}

/**
 * Absolute orientation (Horn, "Closed-form solution of absolute orientation using unit quaternions",
 * JOSA A 1987): R [9] row-major and t [3] minimising sum_i w_i |R p_i + t - q_i|^2 over the points
 * p_i = sum_j a_ij cw_j, q_i = sum_j a_ij ccs_j, through the alpha moments only (see the module doc).
 */
export function estimateRt(
  cw: ArrayLike<number>,
  ccs: ArrayLike<number>,
  nc: number,
  mom: EpnpMoments,
  R: Float64Array,
  t: Float64Array,
): void {
  const W = mom.wSum;
  // S[r][c] = sum_jk B_jk cw_j[r] ccs_k[c], B = s1 / W - abar abar^T (centred, so no centroids needed).
  let sxx = 0, sxy = 0, sxz = 0, syx = 0, syy = 0, syz = 0, szx = 0, szy = 0, szz = 0;
  for (let j = 0; j < nc; j++) {
    for (let k = 0; k < nc; k++) {
      const b = mom.s1[betaProductIndex(j, k)] / W - (mom.alphaSum[j] / W) * (mom.alphaSum[k] / W);
      const ax = cw[3 * j], ay = cw[3 * j + 1], az = cw[3 * j + 2];
      const bx = b * ccs[3 * k], by = b * ccs[3 * k + 1], bz = b * ccs[3 * k + 2];
      sxx += ax * bx; sxy += ax * by; sxz += ax * bz;
      syx += ay * bx; syy += ay * by; syz += ay * bz;
      szx += az * bx; szy += az * by; szz += az * bz;
    }
  }
  const N = sHorn;
  N[0] = sxx + syy + szz; N[1] = syz - szy;       N[2] = szx - sxz;        N[3] = sxy - syx;
  N[4] = N[1];            N[5] = sxx - syy - szz; N[6] = sxy + syx;        N[7] = szx + sxz;
  N[8] = N[2];            N[9] = N[6];            N[10] = -sxx + syy - szz; N[11] = syz + szy;
  N[12] = N[3];           N[13] = N[7];           N[14] = N[11];           N[15] = -sxx - syy + szz;
  jacobiEigenSym(N, 4, sHornVal, sHornVec);
  // Top eigenvector (last column): q = (q0, qx, qy, qz), rotation of the world points onto the camera's.
  let q0 = sHornVec[3], qx = sHornVec[7], qy = sHornVec[11], qz = sHornVec[15];
  const qn = 1 / Math.hypot(q0, qx, qy, qz);
  q0 *= qn; qx *= qn; qy *= qn; qz *= qn;
  R[0] = q0 * q0 + qx * qx - qy * qy - qz * qz;
  R[1] = 2 * (qx * qy - q0 * qz);
  R[2] = 2 * (qx * qz + q0 * qy);
  R[3] = 2 * (qx * qy + q0 * qz);
  R[4] = q0 * q0 - qx * qx + qy * qy - qz * qz;
  R[5] = 2 * (qy * qz - q0 * qx);
  R[6] = 2 * (qx * qz - q0 * qy);
  R[7] = 2 * (qy * qz + q0 * qx);
  R[8] = q0 * q0 - qx * qx - qy * qy + qz * qz;
  // t = qbar - R pbar, with pbar = sum_j abar_j cw_j and qbar = sum_j abar_j ccs_j.
  let px = 0, py = 0, pz = 0, cx = 0, cy = 0, cz = 0;
  for (let j = 0; j < nc; j++) {
    const a = mom.alphaSum[j] / W;
    px += a * cw[3 * j]; py += a * cw[3 * j + 1]; pz += a * cw[3 * j + 2];
    cx += a * ccs[3 * j]; cy += a * ccs[3 * j + 1]; cz += a * ccs[3 * j + 2];
  }
  t[0] = cx - (R[0] * px + R[1] * py + R[2] * pz);
  t[1] = cy - (R[3] * px + R[4] * py + R[5] * pz);
  t[2] = cz - (R[6] * px + R[7] * py + R[8] * pz);
}

/**
 * Weighted mean squared reprojection error in normalised image coordinates of the pose (R, t) over the
 * points with w > 0; a point at or behind the camera counts `kBehindPenalty`.
 */
export function reprojectionError(
  xn: ArrayLike<number>,
  m: ArrayLike<number>,
  w: ArrayLike<number> | null,
  n: number,
  R: ArrayLike<number>,
  t: ArrayLike<number>,
): number {
  let err = 0;
  let wSum = 0;
  for (let i = 0; i < n; i++) {
    const wi = w ? w[i] : 1;
    if (!(wi > 0)) continue;
    const x = xn[3 * i], y = xn[3 * i + 1], z = xn[3 * i + 2];
    const X = R[0] * x + R[1] * y + R[2] * z + t[0];
    const Y = R[3] * x + R[4] * y + R[5] * z + t[1];
    const Z = R[6] * x + R[7] * y + R[8] * z + t[2];
    wSum += wi;
    if (!(Z > 1e-12)) {
      err += wi * kBehindPenalty;
      continue;
    }
    const du = X / Z - m[2 * i];
    const dv = Y / Z - m[2 * i + 1];
    err += wi * (du * du + dv * dv);
  }
  return err / wSum;
}

/** The candidate initialisations of the betas, tried in turn (the best by reprojection error wins). */
type BetaApprox = (L: ArrayLike<number>, rho: ArrayLike<number>, nc: number, betas: Float64Array) => Float64Array;
const kApproxNonPlanar: readonly BetaApprox[] = [findBetasApprox1, findBetasApprox2, findBetasApprox3, findBetasRelin];
const kApproxPlanar: readonly BetaApprox[] = [findBetasN1, findBetasApprox2, findBetasApprox1];

const sCentroid = new Float64Array(3);
const sVars = new Float64Array(3);
const sAxes = new Float64Array(9);
const sCw = new Float64Array(12);
const sAlphaMap = new Float64Array(12);

/**
 * One EPnP solve with nc control points (4 general, 3 planar): every beta candidate, refined, turned into
 * a pose; the best pose by reprojection error is written to R, t when its error is below bestErr.
 * Returns the new best error.
 */
export function solveWithControlPoints(
  xn: ArrayLike<number>,
  m: ArrayLike<number>,
  w: ArrayLike<number> | null,
  n: number,
  nc: number,
  bestErr: number,
  R: Float64Array,
  t: Float64Array,
): number {
  chooseControlPoints(sCentroid, sVars, sAxes, nc, sCw, sAlphaMap);
  const mom = accumulateMoments(xn, m, w, n, sAlphaMap, nc, sMoments);
  const d = 3 * nc;
  assembleMtM(mom, nc, sMtM);
  jacobiEigenSym(sMtM.subarray(0, d * d), d, sVal12.subarray(0, d), sVec12.subarray(0, d * d));
  computeL(sVec12, nc, sL);
  computeRho(sCw, nc, sRho);
  for (const approx of nc === 4 ? kApproxNonPlanar : kApproxPlanar) {
    approx(sL, sRho, nc, sBetas);
    gaussNewton(sL, sRho, nc, sBetas);
    computeCcs(sVec12, nc, sBetas, sCcs);
    solveForSign(sCcs, nc, mom.alphaSum);
    estimateRt(sCw, sCcs, nc, mom, sR, sT);
    const err = reprojectionError(xn, m, w, n, sR, sT);
    if (err < bestErr && sR.every(Number.isFinite) && sT.every(Number.isFinite)) {
      bestErr = err;
      R.set(sR);
      t.set(sT);
    }
  }
  return bestErr;
}

/**
 * xn [n,3] normalised 3D points, m [n,2] normalised image coordinates (K^-1 x), w [n] weights or null.
 * Returns the pose with Xc/s = R xn + tn that best reprojects, without any pose guess; planar or not.
 * ok is false only when no finite pose comes out (no weight, collinear or coincident points, non-finite
 * input); then R is the identity and t zero.
 */
export function epnpInit(xn: Float64Array, m: Float64Array, w: Float64Array | null, n: number): EpnpResult {
  if (xn.length < 3 * n) throw new Error(`epnpInit: xn must be [n,3] = [${n},3], got length ${xn.length}`);
  if (m.length < 2 * n) throw new Error(`epnpInit: m must be [n,2] = [${n},2], got length ${m.length}`);
  if (w && w.length < n) throw new Error(`epnpInit: w must be [n] = [${n}], got length ${w.length}`);
  const R = new Float64Array([1, 0, 0, 0, 1, 0, 0, 0, 1]);
  const t = new Float64Array(3);
  const fail: EpnpResult = { ok: false, R, t };
  if (!(pointSpread(xn, w, n, sCentroid, sVars, sAxes) > 0)) return fail;
  const vMax = sVars[2];
  if (!(vMax > 0) || !Number.isFinite(vMax) || !(sVars[1] > kDegenerateRatio * vMax)) return fail;
  const ratio = sVars[0] / vMax;
  let bestErr = Infinity;
  if (ratio < kPlanarRatio) bestErr = solveWithControlPoints(xn, m, w, n, 3, bestErr, R, t);
  if (ratio >= kNearPlanarRatio) bestErr = solveWithControlPoints(xn, m, w, n, 4, bestErr, R, t);
  if (!(bestErr < Infinity)) {
    R.set([1, 0, 0, 0, 1, 0, 0, 0, 1]);
    t.fill(0);
    return fail;
  }
  return { ok: true, R, t };
}
