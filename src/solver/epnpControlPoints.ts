/**
 * EPnP steps 1-3 (epnp.ts has the outline): the control points from the points' weighted centroid and
 * principal axes, each point's barycentric coordinates in them, and M^T M from streamed moments.
 * float64, each function with a snake_case twin in src/kernels/epnp.wgsl.
 */
import { betaProductIndex } from './epnpBetas';
import { jacobiEigenSym } from './eigen';
import { cholesky, lowerSolve4, upperSolve4 } from './linalg';

// Module-level scratch (no allocation per call beyond the result).
const sCov = new Float64Array(9);
const sAlpha = new Float64Array(4);

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


/**
 * Weighted centroid c [3] and covariance eigen-decomposition of xn [n,3] (points with w <= 0 ignored):
 * variances ascending in `vars` [3], unit axes as the columns of `axes` [9] row-major. Returns the number of
 * points with w > 0 (as the twin's EpnpSpread.count), or 0 when their weights do not sum above 0.
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
  let count = 0;
  let cx = 0;
  let cy = 0;
  let cz = 0;
  for (let i = 0; i < n; i++) {
    const wi = w ? w[i] : 1;
    if (!(wi > 0)) continue;
    wSum += wi;
    count++;
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
  return count;
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

/** The symmetric 4x4 [16] row-major of one moment (s1, su, sv or suv): entry (j, k) = s[betaProductIndex(j, k)]. */
export function momentMatrix4(s: ArrayLike<number>, out: Float64Array): Float64Array {
  for (let j = 0; j < 4; j++) for (let k = 0; k < 4; k++) out[4 * j + k] = s[betaProductIndex(j, k)];
  return out;
}

const sS1 = new Float64Array(16);
const sL = new Float64Array(16);
const sAu = new Float64Array(16);
const sAv = new Float64Array(16);
const sPu = new Float64Array(16);
const sPv = new Float64Array(16);
const sS = new Float64Array(16);
const sG = new Float64Array(16);
const sLG = new Float64Array(16);
const sT = new Float64Array(16);
const sC = new Float64Array(16);
const sEigVal = new Float64Array(4);
const sEigVec = new Float64Array(16);
const sZ = new Float64Array(16);

/**
 * The four vectors that span the general (nc = 4) M^T M's least-squares null space, from the moments, without
 * the 12x12 eigenproblem. Ordered by unknown, x = (X, Y, Z) with X, Y, Z [4] the control points' camera x, y
 * and z, M^T M = [[S1, 0, -Su], [0, S1, -Sv], [-Su, -Sv, Suv]] (the moment matrices, momentMatrix4). For
 * given depths Z the least-squares X and Y are Pu Z and Pv Z, Pu = S1^-1 Su, Pv = S1^-1 Sv, and the cost
 * left is Z^T S Z with the Schur complement S = Suv - Su S1^-1 Su - Sv S1^-1 Sv. The vectors are the
 * Rayleigh-Ritz vectors of M^T M on that 4-dimensional space W = {(Pu Z, Pv Z, Z)}: S z = mu G z with
 * G = I + Pu^T Pu + Pv^T Pv (|x|^2 = z^T G z), solved as the 4x4 eigenproblem of LG^-1 S LG^-T (G = LG LG^T).
 * They are orthonormal in R^12; noise-free, the null space lies in W and they span it exactly; with noise an
 * eigenvector of eigenvalue lambda is off W by O(lambda / S1's smallest eigenvalue), and S1, the moments of
 * alphas whitened by chooseControlPoints, is well conditioned. S1 and G are 4x4 Cholesky factors (G >= I),
 * and every step is a 4x4, which the f32 twin keeps in registers.
 * Writes the vectors as columns 0..3 of vecs [144] row-major with stride 12, the smallest Ritz value first (as
 * tridiagonalQlEigenSym with count = 4 does; the other columns are left as they were). Returns false when S1
 * or G is not positive definite or a value (the Ritz values, the vectors) is not finite (vecs is then not to be
 * used).
 */
export function mtmNullSpace4(mom: EpnpMoments, vecs: Float64Array): boolean {
  if (!cholesky(sL, momentMatrix4(mom.s1, sS1), 4)) return false;
  lowerSolve4(sAu, sL, momentMatrix4(mom.su, sT));
  lowerSolve4(sAv, sL, momentMatrix4(mom.sv, sT));
  momentMatrix4(mom.suv, sS);
  for (let i = 0; i < 4; i++) {
    for (let j = 0; j < 4; j++) {
      let v = 0;
      for (let k = 0; k < 4; k++) v += sAu[4 * k + i] * sAu[4 * k + j] + sAv[4 * k + i] * sAv[4 * k + j];
      sS[4 * i + j] -= v;
    }
  }
  upperSolve4(sPu, sL, sAu);
  upperSolve4(sPv, sL, sAv);
  for (let i = 0; i < 4; i++) {
    for (let j = 0; j < 4; j++) {
      let v = i === j ? 1 : 0;
      for (let k = 0; k < 4; k++) v += sPu[4 * k + i] * sPu[4 * k + j] + sPv[4 * k + i] * sPv[4 * k + j];
      sG[4 * i + j] = v;
    }
  }
  if (!cholesky(sLG, sG, 4)) return false;
  // C = LG^-1 S LG^-T: T = LG^-1 S, then LG^-1 T^T (S symmetric), symmetrised against rounding.
  lowerSolve4(sT, sLG, sS);
  for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) sC[4 * i + j] = sT[4 * j + i];
  lowerSolve4(sT, sLG, sC);
  for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) sC[4 * i + j] = 0.5 * (sT[4 * i + j] + sT[4 * j + i]);
  jacobiEigenSym(sC, 4, sEigVal, sEigVec);
  upperSolve4(sZ, sLG, sEigVec);
  // Jacobi leaves finite vectors beside non-finite values (a non-finite C): the values tell.
  let ok = Number.isFinite(sEigVal[0] + sEigVal[1] + sEigVal[2] + sEigVal[3]);
  for (let k = 0; k < 4; k++) {
    for (let j = 0; j < 4; j++) {
      let x = 0;
      let y = 0;
      for (let l = 0; l < 4; l++) {
        x += sPu[4 * j + l] * sZ[4 * l + k];
        y += sPv[4 * j + l] * sZ[4 * l + k];
      }
      const z = sZ[4 * j + k];
      vecs[(3 * j) * 12 + k] = x;
      vecs[(3 * j + 1) * 12 + k] = y;
      vecs[(3 * j + 2) * 12 + k] = z;
      ok = ok && Number.isFinite(x + y + z);
    }
  }
  return ok;
}
