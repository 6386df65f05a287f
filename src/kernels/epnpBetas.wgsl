// EPnP steps 5-6 (epnp.wgsl has the outline): L and rho, the linearised betas and their Gauss-Newton
// refinement. Twin of src/solver/epnpBetas.ts, function by function.

// Index of the product b_i b_j in a row of L: (0,0) (0,1) (1,1) (0,2) (1,2) (2,2) (0,3) (1,3) (2,3) (3,3).
fn beta_product_index(i: u32, j: u32) -> u32 {
  let lo = min(i, j);
  let hi = max(i, j);
  return hi * (hi + 1u) / 2u + lo;
}

// Control-point pair q, in OpenCV's order: (0,1) (0,2) (0,3) (1,2) (1,3) (2,3); (0,1) (0,2) (1,2) for nc = 3.
fn control_pair(nc: u32, q: u32) -> vec2<u32> {
  var a4 = array<u32, 6>(0u, 0u, 0u, 1u, 1u, 2u);
  var b4 = array<u32, 6>(1u, 2u, 3u, 2u, 3u, 3u);
  var a3 = array<u32, 3>(0u, 0u, 1u);
  var b3 = array<u32, 3>(1u, 2u, 2u);
  if (nc == 4u) {
    return vec2<u32>(a4[q], b4[q]);
  }
  return vec2<u32>(a3[q], b3[q]);
}

fn pair_count(nc: u32) -> u32 {
  return select(3u, 6u, nc == 4u);
}

// L: for pair (a, b), the coefficients of b_i b_j in |sum_k b_k (v_k[a] - v_k[b])|^2, v_k column k of vecs.
fn compute_l(vecs: ptr<function, JacobiMat>, nc: u32, L: ptr<function, EpnpL>) {
  let d = 3u * nc;
  for (var q = 0u; q < pair_count(nc); q++) {
    let ab = control_pair(nc, q);
    for (var j = 0u; j < nc; j++) {
      for (var i = 0u; i <= j; i++) {
        var dotv = 0.0;
        for (var r = 0u; r < 3u; r++) {
          let di = (*vecs)[(3u * ab.x + r) * d + i] - (*vecs)[(3u * ab.y + r) * d + i];
          let dj = (*vecs)[(3u * ab.x + r) * d + j] - (*vecs)[(3u * ab.y + r) * d + j];
          dotv += di * dj;
        }
        (*L)[q * 10u + beta_product_index(i, j)] = select(2.0 * dotv, dotv, i == j);
      }
    }
  }
}

// Squared distances between the world control points, in pair order.
fn compute_rho(ctrl: EpnpControl, nc: u32) -> EpnpRho {
  var rho: EpnpRho;
  for (var q = 0u; q < pair_count(nc); q++) {
    let ab = control_pair(nc, q);
    let dd = ctrl.cw[ab.x] - ctrl.cw[ab.y];
    rho[q] = dot(dd, dd);
  }
  return rho;
}

// min |A x - b| by Householder QR; a (rows x cols, stride cols) and b are overwritten; rows >= cols <= 14.
// The callers pass the scratch g_ls_a and g_ls_b (epnp.wgsl), each filling the rows and columns it reads.
// A pivot below 1e-7 of the largest column norm (f32 resolution) is rank deficient: its unknown is 0.
fn solve_least_squares(a: ptr<private, EpnpLsMat>, rows: u32, cols: u32, b: ptr<private, EpnpLsVec>) -> EpnpLsSol {
  var diag: EpnpLsSol;
  var x: EpnpLsSol;
  var max_diag = 0.0;
  for (var k = 0u; k < cols; k++) {
    var norm2 = 0.0;
    for (var i = k; i < rows; i++) {
      norm2 += (*a)[i * cols + k] * (*a)[i * cols + k];
    }
    let norm = sqrt(norm2);
    if (norm == 0.0) {
      diag[k] = 0.0;
      continue;
    }
    let akk = (*a)[k * cols + k];
    let alpha = select(norm, -norm, akk > 0.0);
    (*a)[k * cols + k] = akk - alpha;
    let vv = 2.0 * norm * (norm + abs(akk));
    for (var j = k + 1u; j < cols; j++) {
      var s = 0.0;
      for (var i = k; i < rows; i++) {
        s += (*a)[i * cols + k] * (*a)[i * cols + j];
      }
      let f = 2.0 * s / vv;
      for (var i = k; i < rows; i++) {
        (*a)[i * cols + j] -= f * (*a)[i * cols + k];
      }
    }
    var sb = 0.0;
    for (var i = k; i < rows; i++) {
      sb += (*a)[i * cols + k] * (*b)[i];
    }
    let fb = 2.0 * sb / vv;
    for (var i = k; i < rows; i++) {
      (*b)[i] -= fb * (*a)[i * cols + k];
    }
    diag[k] = alpha;
    max_diag = max(max_diag, norm);
  }
  for (var kk = 0u; kk < cols; kk++) {
    let k = cols - 1u - kk;
    let rkk = diag[k];
    if (!(abs(rkk) > 1e-7 * max_diag)) {
      x[k] = 0.0;
      continue;
    }
    var s = (*b)[k];
    for (var j = k + 1u; j < cols; j++) {
      s -= (*a)[k * cols + j] * x[j];
    }
    x[k] = s / rkk;
  }
  return x;
}

// Least squares over the columns cols_idx[0 .. ncols) of L against rho.
fn solve_l_columns(L: ptr<function, EpnpL>, rho: EpnpRho, np: u32, cols_idx: array<u32, 5>, ncols: u32) -> EpnpLsSol {
  for (var q = 0u; q < np; q++) {
    for (var c = 0u; c < ncols; c++) {
      g_ls_a[q * ncols + c] = (*L)[q * 10u + cols_idx[c]];
    }
    g_ls_b[q] = rho[q];
  }
  return solve_least_squares(&g_ls_a, np, ncols, &g_ls_b);
}

// OpenCV's find_betas_approx_1: unknowns b_0 b_j for all j (columns 0 1 3 6, or 0 1 3 for nc = 3).
fn find_betas_approx_1(L: ptr<function, EpnpL>, rho: EpnpRho, nc: u32) -> vec4<f32> {
  let x = solve_l_columns(L, rho, pair_count(nc), array<u32, 5>(0u, 1u, 3u, 6u, 0u), nc);
  var betas = vec4<f32>(0.0);
  let b0 = sqrt(abs(x[0]));
  if (b0 == 0.0) {
    return betas;
  }
  let sgn = select(1.0, -1.0, x[0] < 0.0);
  betas[0] = b0;
  for (var j = 1u; j < nc; j++) {
    betas[j] = sgn * x[j] / b0;
  }
  return betas;
}

// beta_0, beta_1 from the products b00, b01, b11 as find_betas_approx_2 and _3 read them (twin of
// betasFromProducts): |beta_0| = sqrt|b00|, beta_1 = sqrt(b11) where b11 has b00's sign, sign(beta_0) = sign(b01).
fn betas_from_products(b00: f32, b01: f32, b11: f32) -> vec2<f32> {
  var b = vec2<f32>(0.0);
  if (b00 < 0.0) {
    b[0] = sqrt(-b00);
    b[1] = select(0.0, sqrt(-b11), b11 < 0.0);
  } else {
    b[0] = sqrt(b00);
    b[1] = select(0.0, sqrt(b11), b11 > 0.0);
  }
  if (b01 < 0.0) {
    b[0] = -b[0];
  }
  return b;
}

// OpenCV's find_betas_approx_2 (N = 2): unknowns b00 b01 b11.
fn find_betas_approx_2(L: ptr<function, EpnpL>, rho: EpnpRho, nc: u32) -> vec4<f32> {
  let x = solve_l_columns(L, rho, pair_count(nc), array<u32, 5>(0u, 1u, 2u, 0u, 0u), 3u);
  return vec4<f32>(betas_from_products(x[0], x[1], x[2]), 0.0, 0.0);
}

// OpenCV's find_betas_approx_3 (N = 3, nc = 4 only): unknowns b00 b01 b11 b02 b12.
fn find_betas_approx_3(L: ptr<function, EpnpL>, rho: EpnpRho, nc: u32) -> vec4<f32> {
  let x = solve_l_columns(L, rho, 6u, array<u32, 5>(0u, 1u, 2u, 3u, 4u), 5u);
  var betas = vec4<f32>(betas_from_products(x[0], x[1], x[2]), 0.0, 0.0);
  if (betas[0] != 0.0) {
    betas[2] = x[3] / betas[0];
  }
  return betas;
}

// The paper's N = 1: b00 alone.
fn find_betas_n1(L: ptr<function, EpnpL>, rho: EpnpRho, nc: u32) -> vec4<f32> {
  let x = solve_l_columns(L, rho, pair_count(nc), array<u32, 5>(0u, 0u, 0u, 0u, 0u), 1u);
  return vec4<f32>(sqrt(abs(x[0])), 0.0, 0.0, 0.0);
}

// The 20 relinearisation constraints b_X b_Y = b_X' b_Y' as [X, Y, X', Y'] (kRelinConstraints in the twin).
const kEpnpRelinConstraints = array<vec4<u32>, 20>(
  vec4<u32>(0u, 2u, 1u, 1u), vec4<u32>(0u, 4u, 1u, 3u), vec4<u32>(0u, 7u, 1u, 6u), vec4<u32>(0u, 5u, 3u, 3u),
  vec4<u32>(0u, 8u, 3u, 6u), vec4<u32>(0u, 9u, 6u, 6u), vec4<u32>(1u, 4u, 2u, 3u), vec4<u32>(1u, 7u, 2u, 6u),
  vec4<u32>(1u, 5u, 3u, 4u), vec4<u32>(1u, 8u, 3u, 7u), vec4<u32>(1u, 8u, 4u, 6u), vec4<u32>(1u, 9u, 6u, 7u),
  vec4<u32>(3u, 8u, 5u, 6u), vec4<u32>(3u, 9u, 6u, 8u), vec4<u32>(2u, 5u, 4u, 4u), vec4<u32>(2u, 8u, 4u, 7u),
  vec4<u32>(2u, 9u, 7u, 7u), vec4<u32>(4u, 8u, 5u, 7u), vec4<u32>(4u, 9u, 7u, 8u), vec4<u32>(5u, 9u, 8u, 8u));

// The paper's N = 4 by relinearisation (nc = 4): b = p + N lambda over the null space of L, lambda from the
// 20 consistency constraints linear in (lambda_k, lambda_k lambda_l), then the betas from the largest b_ii.
fn find_betas_relin(L: ptr<function, EpnpL>, rho: EpnpRho, nc: u32) -> vec4<f32> {
  var betas = vec4<f32>(0.0);
  if (nc != 4u) {
    return betas;
  }
  var ltl: JacobiMat;
  for (var i = 0u; i < 10u; i++) {
    for (var j = 0u; j < 10u; j++) {
      var s = 0.0;
      for (var q = 0u; q < 6u; q++) {
        s += (*L)[q * 10u + i] * (*L)[q * 10u + j];
      }
      ltl[i * 10u + j] = s;
    }
  }
  var vals: JacobiVec;
  var vecs: JacobiMat;
  jacobi_eigen_sym(&ltl, 10u, &vals, &vecs, kEpnpJacobiSweeps);
  var p: array<f32, 10>;
  let top = vals[9];
  for (var k = 4u; k < 10u; k++) {
    if (!(vals[k] > 1e-6 * top)) {
      continue;
    }
    var c = 0.0;
    for (var i = 0u; i < 10u; i++) {
      var ltr = 0.0;
      for (var q = 0u; q < 6u; q++) {
        ltr += (*L)[q * 10u + i] * rho[q];
      }
      c += vecs[i * 10u + k] * ltr;
    }
    c = c / vals[k];
    for (var i = 0u; i < 10u; i++) {
      p[i] += c * vecs[i * 10u + k];
    }
  }
  var cons = kEpnpRelinConstraints;
  for (var e = 0u; e < 20u; e++) {
    let xy = cons[e];
    let row = e * 14u;
    let pX = p[xy.x];
    let pY = p[xy.y];
    let pX2 = p[xy.z];
    let pY2 = p[xy.w];
    g_ls_b[e] = -(pX * pY - pX2 * pY2);
    for (var k = 0u; k < 4u; k++) {
      let nXk = vecs[xy.x * 10u + k];
      let nYk = vecs[xy.y * 10u + k];
      let nX2k = vecs[xy.z * 10u + k];
      let nY2k = vecs[xy.w * 10u + k];
      g_ls_a[row + k] = pX * nYk + pY * nXk - (pX2 * nY2k + pY2 * nX2k);
      for (var l = k; l < 4u; l++) {
        let nXl = vecs[xy.x * 10u + l];
        let nYl = vecs[xy.y * 10u + l];
        let nX2l = vecs[xy.z * 10u + l];
        let nY2l = vecs[xy.w * 10u + l];
        var qkl = nXk * nYl - nX2k * nY2l;
        if (l != k) {
          qkl += nXl * nYk - nX2l * nY2k;
        }
        g_ls_a[row + 4u + beta_product_index(k, l)] = qkl;
      }
    }
  }
  let lambda = solve_least_squares(&g_ls_a, 20u, 14u, &g_ls_b);
  for (var i = 0u; i < 10u; i++) {
    var s = p[i];
    for (var k = 0u; k < 4u; k++) {
      s += vecs[i * 10u + k] * lambda[k];
    }
    p[i] = s;
  }
  var piv = 0u;
  var piv_abs = -1.0;
  for (var i = 0u; i < 4u; i++) {
    let v = abs(p[beta_product_index(i, i)]);
    if (v > piv_abs) {
      piv_abs = v;
      piv = i;
    }
  }
  let bp = sqrt(piv_abs);
  if (!(bp > 0.0)) {
    return betas;
  }
  let sgn = select(1.0, -1.0, p[beta_product_index(piv, piv)] < 0.0);
  for (var k = 0u; k < 4u; k++) {
    betas[k] = select(sgn * p[beta_product_index(piv, k)] / bp, bp, k == piv);
  }
  return betas;
}

// The quadratic form of row q of L: betas^T Q betas = L_q . b(betas), Q_ii = L[p(i,i)], Q_ij = L[p(i,j)] / 2
// (entries past nc are 0, as compute_l leaves them).
fn beta_form(L: ptr<function, EpnpL>, q: u32) -> mat4x4<f32> {
  let o = q * 10u;
  let l0 = (*L)[o];
  let l1 = 0.5 * (*L)[o + 1u];
  let l2 = (*L)[o + 2u];
  let l3 = 0.5 * (*L)[o + 3u];
  let l4 = 0.5 * (*L)[o + 4u];
  let l5 = (*L)[o + 5u];
  let l6 = 0.5 * (*L)[o + 6u];
  let l7 = 0.5 * (*L)[o + 7u];
  let l8 = 0.5 * (*L)[o + 8u];
  let l9 = (*L)[o + 9u];
  return mat4x4<f32>(vec4<f32>(l0, l1, l3, l6), vec4<f32>(l1, l2, l4, l7), vec4<f32>(l3, l4, l5, l8), vec4<f32>(l6, l7, l8, l9));
}

// Gauss-Newton on the betas (paper eq. 15): min sum_q (rho_q - L_q . b(betas))^2. f32 difference: each step
// solves the normal equations (J^T J) delta = J^T r by Cholesky in registers (chol_solve6, the unused unknowns
// pinned to 0) where float64 solves J delta = r by QR; the fixed point, J^T r = 0, is the same, and a step the
// Cholesky cannot take (J^T J not positive definite in f32) ends the refinement there.
fn gauss_newton(L: ptr<function, EpnpL>, rho: EpnpRho, nc: u32, betas_in: vec4<f32>, iters: u32) -> vec4<f32> {
  var betas = betas_in;
  let np = pair_count(nc);
  for (var it = 0u; it < iters; it++) {
    // J row q = 2 Q_q betas (the gradient of betas^T Q_q betas), residual rho_q - betas^T Q_q betas.
    var jtj = mat4x4<f32>(vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0));
    var jtr = vec4<f32>(0.0);
    for (var q = 0u; q < np; q++) {
      let qb = beta_form(L, q) * betas;
      let jq = 2.0 * qb;
      let r = rho[q] - dot(betas, qb);
      jtj += mat4x4<f32>(jq * jq.x, jq * jq.y, jq * jq.z, jq * jq.w);
      jtr += r * jq;
    }
    var A: array<f32, 36>;
    A[0] = jtj[0][0];
    A[6] = jtj[0][1]; A[7] = jtj[1][1];
    A[12] = jtj[0][2]; A[13] = jtj[1][2]; A[14] = jtj[2][2];
    A[18] = jtj[0][3]; A[19] = jtj[1][3]; A[20] = jtj[2][3]; A[21] = select(1.0, jtj[3][3], nc == 4u);
    A[1] = A[6]; A[2] = A[12]; A[3] = A[18]; A[8] = A[13]; A[9] = A[19]; A[15] = A[20];
    A[28] = 1.0;
    A[35] = 1.0;
    let sol = chol_solve6(A, array<f32, 6>(jtr.x, jtr.y, jtr.z, select(0.0, jtr.w, nc == 4u), 0.0, 0.0));
    if (!sol.ok) {
      break;
    }
    let delta = vec4<f32>(sol.x[0], sol.x[1], sol.x[2], sol.x[3]);
    betas += delta;
    if (!(dot(delta, delta) > 1e-14 * dot(betas, betas))) {
      break;
    }
  }
  return betas;
}
