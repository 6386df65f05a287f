/**
 * EPnP steps 7-8 (epnp.ts has the outline): camera control points from the betas, the sign that puts
 * them in front of the camera, R and tn by absolute orientation, and the candidates' reprojection
 * error. float64, each function with a snake_case twin in src/kernels/epnp.wgsl.
 */
import { betaProductIndex } from './epnpBetas';
import type { EpnpMoments } from './epnpControlPoints';
import { topEigenvector4, tridiagonalQlEigenSym } from './eigen';

/** Reprojection penalty for a point at or behind the camera, in squared normalised units. */
export const kBehindPenalty = 1;

// Module-level scratch (no allocation per call beyond the result).
const sHorn = new Float64Array(16);
const sHornVal = new Float64Array(4);
const sHornVec = new Float64Array(16);
const sHornQ = new Float64Array(4);

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
  // Top eigenvector: q = (q0, qx, qy, qz), rotation of the world points onto the camera's. By QCP, else (a
  // double top eigenvalue: the rotation is not determined) the last column of QL's decomposition.
  const qv = sHornQ;
  if (!topEigenvector4(N, qv)) {
    tridiagonalQlEigenSym(N, 4, sHornVal, sHornVec);
    qv[0] = sHornVec[3]; qv[1] = sHornVec[7]; qv[2] = sHornVec[11]; qv[3] = sHornVec[15];
  }
  let q0 = qv[0], qx = qv[1], qy = qv[2], qz = qv[3];
  const qn = 1 / Math.sqrt(q0 * q0 + qx * qx + qy * qy + qz * qz); // a unit eigenvector: no overflow to guard
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
