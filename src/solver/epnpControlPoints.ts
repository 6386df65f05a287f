/**
 * EPnP steps 1-3 (epnp.ts has the outline): the control points from the points' weighted centroid and
 * principal axes, each point's barycentric coordinates in them, and M^T M from streamed moments.
 * float64, each function with a snake_case twin in src/kernels/epnp.wgsl.
 */
import { betaProductIndex } from './epnpBetas';
import { jacobiEigenSym } from './eigen';

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
