// EPnP steps 1-3 (epnp.wgsl has the outline): control points, alphas, M^T M from streamed moments.
// Twin of src/solver/epnpControlPoints.ts, function by function.

// Two passes over the points: weighted centroid, then the covariance and its eigen-decomposition.
fn point_spread() -> EpnpSpread {
  var out: EpnpSpread;
  let n = point_count();
  var w_sum = 0.0;
  var c = vec3<f32>(0.0);
  for (var i = 0u; i < n; i++) {
    let wi = point_w(i);
    if (!(wi > 0.0)) {
      continue;
    }
    w_sum += wi;
    c += wi * point_xn(i);
    out.count++;
  }
  out.w_sum = w_sum;
  if (!(w_sum > 0.0)) {
    return out;
  }
  c = c / w_sum;
  var cov = mat3x3<f32>(vec3<f32>(0.0), vec3<f32>(0.0), vec3<f32>(0.0));
  for (var i = 0u; i < n; i++) {
    let wi = point_w(i);
    if (!(wi > 0.0)) {
      continue;
    }
    let d = point_xn(i) - c;
    cov += mat3x3<f32>(d * (wi * d.x), d * (wi * d.y), d * (wi * d.z));
  }
  let eig = jacobi_eigen_sym3(cov * (1.0 / w_sum));
  out.c = c;
  out.vars = eig.values;
  out.axes = eig.axes;
  return out;
}

// nc = 4: centroid and the three axes; nc = 3: centroid and the two largest (the plane). Largest first.
fn choose_control_points(spread: EpnpSpread, nc: u32) -> EpnpControl {
  var ctrl: EpnpControl;
  ctrl.cw[0] = spread.c;
  ctrl.alpha_map[0] = spread.c;
  for (var j = 1u; j < nc; j++) {
    let e = 3u - j;
    let sd = sqrt(spread.vars[e]);
    let axis = spread.axes[e];
    ctrl.cw[j] = spread.c + sd * axis;
    ctrl.alpha_map[j] = axis / sd;
  }
  return ctrl;
}

// Barycentric coordinates of p in the control points (sum to 1); entries >= nc are 0.
fn compute_alphas(ctrl: EpnpControl, nc: u32, p: vec3<f32>) -> vec4<f32> {
  let d = p - ctrl.alpha_map[0];
  var a = vec4<f32>(0.0);
  var a0 = 1.0;
  for (var j = 1u; j < nc; j++) {
    let aj = dot(ctrl.alpha_map[j], d);
    a[j] = aj;
    a0 -= aj;
  }
  a[0] = a0;
  return a;
}

// One pass over the points: the moments of EpnpMoments.
fn accumulate_moments(ctrl: EpnpControl, nc: u32) -> EpnpMoments {
  var mom: EpnpMoments;
  let n = point_count();
  for (var i = 0u; i < n; i++) {
    let wi = point_w(i);
    if (!(wi > 0.0)) {
      continue;
    }
    let a = compute_alphas(ctrl, nc, point_xn(i));
    let m = point_m(i);
    let uv = dot(m, m);
    mom.w_sum += wi;
    for (var k = 0u; k < nc; k++) {
      let wak = wi * a[k];
      mom.alpha_sum[k] += wak;
      for (var j = 0u; j <= k; j++) {
        let p = beta_product_index(j, k);
        let waa = wak * a[j];
        mom.s1[p] += waa;
        mom.su[p] += waa * m.x;
        mom.sv[p] += waa * m.y;
        mom.suv[p] += waa * uv;
      }
    }
  }
  return mom;
}

// M^T M [(3nc)^2] row-major (stride 3nc): block (j, k) = [[s1, 0, -su], [0, s1, -sv], [-su, -sv, suv]].
fn assemble_mtm(mom: EpnpMoments, nc: u32, mtm: ptr<function, JacobiMat>) {
  let d = 3u * nc;
  for (var j = 0u; j < nc; j++) {
    for (var k = 0u; k < nc; k++) {
      let p = beta_product_index(j, k);
      let s1 = mom.s1[p];
      let su = mom.su[p];
      let sv = mom.sv[p];
      let o = 3u * j * d + 3u * k;
      (*mtm)[o] = s1;
      (*mtm)[o + 1u] = 0.0;
      (*mtm)[o + 2u] = -su;
      (*mtm)[o + d] = 0.0;
      (*mtm)[o + d + 1u] = s1;
      (*mtm)[o + d + 2u] = -sv;
      (*mtm)[o + 2u * d] = -su;
      (*mtm)[o + 2u * d + 1u] = -sv;
      (*mtm)[o + 2u * d + 2u] = mom.suv[p];
    }
  }
}

// Twin of momentMatrix4: the symmetric 4x4 of one moment (s1, su, sv or suv), entry (j, k) at
// beta_product_index(j, k).
fn moment_matrix4(s: array<f32, 10>) -> mat4x4<f32> {
  return mat4x4<f32>(vec4<f32>(s[0], s[1], s[3], s[6]), vec4<f32>(s[1], s[2], s[4], s[7]),
                     vec4<f32>(s[3], s[4], s[5], s[8]), vec4<f32>(s[6], s[7], s[8], s[9]));
}

// Twin of mtmNullSpace4 (epnpControlPoints.ts), which gives the derivation: the four vectors of the general
// M^T M's least-squares null space by the Schur complement on the control points' depths, all in registers.
// Writes them to columns 0 .. 3 of vecs (stride 12), the smallest first; false when S1 or G is not positive
// definite or a value (the Ritz values, the vectors) is not finite: the caller then takes the 12x12 eigenproblem.
fn mtm_null_space4(mom: EpnpMoments, vecs: ptr<function, JacobiMat>) -> bool {
  let I = mat4x4<f32>(vec4<f32>(1.0, 0.0, 0.0, 0.0), vec4<f32>(0.0, 1.0, 0.0, 0.0), vec4<f32>(0.0, 0.0, 1.0, 0.0), vec4<f32>(0.0, 0.0, 0.0, 1.0));
  let chol = cholesky4(moment_matrix4(mom.s1));
  if (!chol.ok) {
    return false;
  }
  let L = chol.L;
  let Au = lower_solve4(L, moment_matrix4(mom.su));
  let Av = lower_solve4(L, moment_matrix4(mom.sv));
  let S = moment_matrix4(mom.suv) - (transpose(Au) * Au + transpose(Av) * Av);
  let Pu = upper_solve4(L, Au);
  let Pv = upper_solve4(L, Av);
  let cholG = cholesky4(I + transpose(Pu) * Pu + transpose(Pv) * Pv);
  if (!cholG.ok) {
    return false;
  }
  let LG = cholG.L;
  let C = lower_solve4(LG, transpose(lower_solve4(LG, S)));
  let e = jacobi_eigen_sym4(0.5 * (C + transpose(C)));
  let Z = upper_solve4(LG, e.vectors);
  let X = Pu * Z;
  let Y = Pv * Z;
  // Jacobi skips the rotations of a non-finite C and leaves finite vectors: its values tell.
  var ok = is_finite_f(dot(e.values, e.values));
  for (var k = 0u; k < 4u; k++) {
    for (var j = 0u; j < 4u; j++) {
      (*vecs)[(3u * j) * 12u + k] = X[k][j];
      (*vecs)[(3u * j + 1u) * 12u + k] = Y[k][j];
      (*vecs)[(3u * j + 2u) * 12u + k] = Z[k][j];
    }
    ok = ok && is_finite_f(dot(X[k], X[k]) + dot(Y[k], Y[k]) + dot(Z[k], Z[k]));
  }
  return ok;
}
