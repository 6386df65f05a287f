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
  let n00 = sxx + syy + szz;
  let n01 = syz - szy;
  let n02 = szx - sxz;
  let n03 = sxy - syx;
  let n11 = sxx - syy - szz;
  let n12 = sxy + syx;
  let n13 = szx + sxz;
  let n22 = -sxx + syy - szz;
  let n23 = syz + szy;
  let n33 = -sxx - syy + szz;
  // Top eigenvector: q = (q0, qx, qy, qz), by QCP in registers, else (a double top eigenvalue: the rotation
  // is not determined) by Jacobi (float64 falls back to QL there).
  let top = top_eigenvector4(mat4x4<f32>(
    vec4<f32>(n00, n01, n02, n03), vec4<f32>(n01, n11, n12, n13),
    vec4<f32>(n02, n12, n22, n23), vec4<f32>(n03, n13, n23, n33)));
  var q = top.q;
  if (!top.ok) {
    var N: JacobiMat;
    N[0] = n00; N[1] = n01;  N[2] = n02;  N[3] = n03;
    N[4] = n01; N[5] = n11;  N[6] = n12;  N[7] = n13;
    N[8] = n02; N[9] = n12;  N[10] = n22; N[11] = n23;
    N[12] = n03; N[13] = n13; N[14] = n23; N[15] = n33;
    var vals: JacobiVec;
    var vecs: JacobiMat;
    jacobi_eigen_sym(&N, 4u, &vals, &vecs, kEpnpJacobiSweeps);
    q = vec4<f32>(vecs[3], vecs[7], vecs[11], vecs[15]);
  }
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
