// EPnP steps 7-8 (epnp.wgsl has the outline): camera control points, their sign, R and t by absolute
// orientation, and the candidates' reprojection error. Twin of src/solver/epnpPose.ts, function by function.

// Camera control points: sum_k betas_k v_k.
fn compute_ccs(vecs: ptr<function, JacobiMat>, nc: u32, betas: vec4<f32>) -> array<vec3<f32>, 4> {
  let d = 3u * nc;
  var ccs: array<vec3<f32>, 4>;
  for (var j = 0u; j < nc; j++) {
    var c = vec3<f32>(0.0);
    for (var k = 0u; k < nc; k++) {
      c += betas[k] * vec3<f32>((*vecs)[(3u * j) * d + k], (*vecs)[(3u * j + 1u) * d + k], (*vecs)[(3u * j + 2u) * d + k]);
    }
    ccs[j] = c;
  }
  return ccs;
}

// Negates the camera control points when the weighted mean depth is negative.
fn solve_for_sign(ccs_in: array<vec3<f32>, 4>, nc: u32, alpha_sum: vec4<f32>) -> array<vec3<f32>, 4> {
  var ccs = ccs_in;
  var z = 0.0;
  for (var j = 0u; j < nc; j++) {
    z += alpha_sum[j] * ccs[j].z;
  }
  if (z < 0.0) {
    for (var j = 0u; j < nc; j++) {
      ccs[j] = -ccs[j];
    }
  }
  return ccs;
}

// Absolute orientation (Horn 1987) of the points through the alpha covariance B = s1 / W - abar abar^T:
// S = sum_jk B_jk cw_j ccs_k^T, the top eigenvector of Horn's 4x4 matrix is the rotation's quaternion.
fn estimate_rt(ctrl: EpnpControl, ccs: array<vec3<f32>, 4>, nc: u32, mom: EpnpMoments) -> EpnpPose {
  let W = mom.w_sum;
  let abar = mom.alpha_sum / W;
  // S as columns: S[c] = sum_jk B_jk cw_j * ccs_k[c], i.e. S[c][r] = sum cw_j[r] ccs_k[c] (S_rc in Horn).
  var S = mat3x3<f32>(vec3<f32>(0.0), vec3<f32>(0.0), vec3<f32>(0.0));
  var pbar = vec3<f32>(0.0);
  var qbar = vec3<f32>(0.0);
  for (var j = 0u; j < nc; j++) {
    for (var k = 0u; k < nc; k++) {
      let bjk = mom.s1[beta_product_index(j, k)] / W - abar[j] * abar[k];
      let bc = bjk * ccs[k];
      S[0] += ctrl.cw[j] * bc.x;
      S[1] += ctrl.cw[j] * bc.y;
      S[2] += ctrl.cw[j] * bc.z;
    }
    pbar += abar[j] * ctrl.cw[j];
    qbar += abar[j] * ccs[j];
  }
  let sxx = S[0][0];
  let sxy = S[1][0];
  let sxz = S[2][0];
  let syx = S[0][1];
  let syy = S[1][1];
  let syz = S[2][1];
  let szx = S[0][2];
  let szy = S[1][2];
  let szz = S[2][2];
  var N: JacobiMat;
  N[0] = sxx + syy + szz; N[1] = syz - szy;       N[2] = szx - sxz;        N[3] = sxy - syx;
  N[4] = N[1];            N[5] = sxx - syy - szz; N[6] = sxy + syx;        N[7] = szx + sxz;
  N[8] = N[2];            N[9] = N[6];            N[10] = -sxx + syy - szz; N[11] = syz + szy;
  N[12] = N[3];           N[13] = N[7];           N[14] = N[11];           N[15] = -sxx - syy + szz;
  var vals: JacobiVec;
  var vecs: JacobiMat;
  jacobi_eigen_sym(&N, 4u, &vals, &vecs, kEpnpJacobiSweeps);
  var q = vec4<f32>(vecs[3], vecs[7], vecs[11], vecs[15]);
  q = q / length(q);
  let q0 = q.x;
  let qx = q.y;
  let qy = q.z;
  let qz = q.w;
  var pose: EpnpPose;
  // Columns of R (R[col][row]).
  pose.R = mat3x3<f32>(
    vec3<f32>(q0 * q0 + qx * qx - qy * qy - qz * qz, 2.0 * (qx * qy + q0 * qz), 2.0 * (qx * qz - q0 * qy)),
    vec3<f32>(2.0 * (qx * qy - q0 * qz), q0 * q0 - qx * qx + qy * qy - qz * qz, 2.0 * (qy * qz + q0 * qx)),
    vec3<f32>(2.0 * (qx * qz + q0 * qy), 2.0 * (qy * qz - q0 * qx), q0 * q0 - qx * qx - qy * qy + qz * qz));
  pose.t = qbar - pose.R * pbar;
  return pose;
}

// Weighted mean squared reprojection error in normalised coordinates; a point at or behind the camera
// counts kEpnpBehindPenalty.
fn reprojection_error(pose: EpnpPose) -> f32 {
  let n = point_count();
  var err = 0.0;
  var w_sum = 0.0;
  for (var i = 0u; i < n; i++) {
    let wi = point_w(i);
    if (!(wi > 0.0)) {
      continue;
    }
    let X = pose.R * point_xn(i) + pose.t;
    w_sum += wi;
    if (!(X.z > 1e-12)) {
      err += wi * kEpnpBehindPenalty;
      continue;
    }
    let dm = X.xy / X.z - point_m(i);
    err += wi * dot(dm, dm);
  }
  return err / w_sum;
}
