// EPnP initialiser (Lepetit, Moreno-Noguer, Fua, IJCV 2009) in the normalised frame of docs/pnp-maths.md,
// f32, one problem per thread. Twin of src/solver/epnp*.ts: each function here carries the snake_case name
// of its TypeScript twin and does the same steps (see the module doc of epnp.ts for the derivation).
//
// A library: the host concatenates common.wgsl + eigen.wgsl + epnp.wgsl + the kernel. It declares no
// bindings and no overrides; the including kernel provides the current problem through
//   fn point_count() -> u32              number of points of the current problem (n <= 256 in practice)
//   fn point_xn(i: u32) -> vec3<f32>     normalised 3D point (centred, RMS radius 1)
//   fn point_m(i: u32) -> vec2<f32>      normalised image coordinates dehom(K^-1 [x, 1])
//   fn point_w(i: u32) -> f32            weight (1 when none; w <= 0: the point does not exist)
// The points are streamed: every pass re-reads them through the accessors, nothing per point is kept.
// Uses is_finite_f (common.wgsl) and jacobi_eigen_sym (eigen.wgsl).
//
// Entry: epnp_init() -> EpnpResult. WGSL matrices are column-major: R[col][row], so R[j] is column j and
// Xc / s = R * xn + t. ok is false only when no finite pose comes out (no weight, collinear or coincident
// points, non-finite input); then R is the identity and t zero.
//
// f32 differences from the float64 twin (same algorithm, tolerances at f32 resolution):
//  - kEpnpNearPlanarRatio is 1e-5 (TypeScript 1e-7): an f32 covariance reads exactly planar points as
//    about 1e-7 thick, so the general solve of nearly planar points starts at 1e-5 here.
//  - rank tolerance of the least squares 1e-7 (1e-13), just above f32 epsilon: 1e-6 zeroed genuine small
//    pivots of the 20x14 relinearisation system at n = 4 (tests/kernels/epnp.test.ts, general n = 4
//    noise-free: 444/500 within 1e-3 of the float64 twin at 1e-6, 459/500 at 1e-7). Relinearisation
//    eigenvalue floor 1e-6 (1e-14),
//    Gauss-Newton early stop at a step below 1e-7 of the betas (1e-15).

struct EpnpResult {
  R: mat3x3<f32>,
  t: vec3<f32>,
  ok: bool,
}

const kEpnpPlanarRatio: f32 = 1e-4;
const kEpnpNearPlanarRatio: f32 = 1e-5;
const kEpnpDegenerateRatio: f32 = 1e-12;
const kEpnpGaussNewtonIters: u32 = 10u;
const kEpnpBehindPenalty: f32 = 1.0;
const kEpnpJacobiSweeps: u32 = 15u;
const kEpnpHuge: f32 = 3.0e38;

// Least-squares scratch: up to 20 rows x 14 columns (the relinearisation), row-major with stride cols.
alias EpnpLsMat = array<f32, 280>;
alias EpnpLsVec = array<f32, 20>;
alias EpnpLsSol = array<f32, 14>;
// L [npairs, products] row-major with stride 10; rho [npairs].
alias EpnpL = array<f32, 60>;
alias EpnpRho = array<f32, 6>;

// Weighted centroid, covariance variances ascending and unit axes (axes[e] is the axis of vars[e]).
struct EpnpSpread {
  c: vec3<f32>,
  vars: vec3<f32>,
  axes: mat3x3<f32>,
  w_sum: f32,
}

// World control points cw[0 .. nc) and the alpha map: alpha_map[0] = c0, alpha_map[j] = axis_j / sqrt(var_j).
struct EpnpControl {
  cw: array<vec3<f32>, 4>,
  alpha_map: array<vec3<f32>, 4>,
}

// For the product index p = beta_product_index(j, k): s1[p] = sum w a_j a_k, su[p] = sum w a_j a_k u,
// sv[p] = sum w a_j a_k v, suv[p] = sum w a_j a_k (u^2 + v^2); alpha_sum[j] = sum w a_j; w_sum = sum w.
struct EpnpMoments {
  s1: array<f32, 10>,
  su: array<f32, 10>,
  sv: array<f32, 10>,
  suv: array<f32, 10>,
  alpha_sum: vec4<f32>,
  w_sum: f32,
}

struct EpnpPose {
  R: mat3x3<f32>,
  t: vec3<f32>,
}

struct EpnpBest {
  pose: EpnpPose,
  err: f32,
}

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
  }
  out.w_sum = w_sum;
  if (!(w_sum > 0.0)) {
    return out;
  }
  c = c / w_sum;
  var cov: JacobiMat;
  for (var i = 0u; i < n; i++) {
    let wi = point_w(i);
    if (!(wi > 0.0)) {
      continue;
    }
    let d = point_xn(i) - c;
    cov[0] += wi * d.x * d.x;
    cov[1] += wi * d.x * d.y;
    cov[2] += wi * d.x * d.z;
    cov[4] += wi * d.y * d.y;
    cov[5] += wi * d.y * d.z;
    cov[8] += wi * d.z * d.z;
  }
  cov[3] = cov[1];
  cov[6] = cov[2];
  cov[7] = cov[5];
  for (var k = 0u; k < 9u; k++) {
    cov[k] = cov[k] / w_sum;
  }
  var vals: JacobiVec;
  var vecs: JacobiMat;
  jacobi_eigen_sym(&cov, 3u, &vals, &vecs, kEpnpJacobiSweeps);
  out.c = c;
  out.vars = vec3<f32>(vals[0], vals[1], vals[2]);
  out.axes = mat3x3<f32>(
    vec3<f32>(vecs[0], vecs[3], vecs[6]),
    vec3<f32>(vecs[1], vecs[4], vecs[7]),
    vec3<f32>(vecs[2], vecs[5], vecs[8]));
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
// A pivot below 1e-7 of the largest column norm (f32 resolution) is rank deficient: its unknown is 0.
fn solve_least_squares(a: ptr<function, EpnpLsMat>, rows: u32, cols: u32, b: ptr<function, EpnpLsVec>) -> EpnpLsSol {
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
  var a: EpnpLsMat;
  var b: EpnpLsVec;
  for (var q = 0u; q < np; q++) {
    for (var c = 0u; c < ncols; c++) {
      a[q * ncols + c] = (*L)[q * 10u + cols_idx[c]];
    }
    b[q] = rho[q];
  }
  return solve_least_squares(&a, np, ncols, &b);
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
  var a: EpnpLsMat;
  var b: EpnpLsVec;
  var cons = kEpnpRelinConstraints;
  for (var e = 0u; e < 20u; e++) {
    let xy = cons[e];
    let row = e * 14u;
    let pX = p[xy.x];
    let pY = p[xy.y];
    let pX2 = p[xy.z];
    let pY2 = p[xy.w];
    b[e] = -(pX * pY - pX2 * pY2);
    for (var k = 0u; k < 4u; k++) {
      let nXk = vecs[xy.x * 10u + k];
      let nYk = vecs[xy.y * 10u + k];
      let nX2k = vecs[xy.z * 10u + k];
      let nY2k = vecs[xy.w * 10u + k];
      a[row + k] = pX * nYk + pY * nXk - (pX2 * nY2k + pY2 * nX2k);
      for (var l = k; l < 4u; l++) {
        let nXl = vecs[xy.x * 10u + l];
        let nYl = vecs[xy.y * 10u + l];
        let nX2l = vecs[xy.z * 10u + l];
        let nY2l = vecs[xy.w * 10u + l];
        var qkl = nXk * nYl - nX2k * nY2l;
        if (l != k) {
          qkl += nXl * nYk - nX2l * nY2k;
        }
        a[row + 4u + beta_product_index(k, l)] = qkl;
      }
    }
  }
  let lambda = solve_least_squares(&a, 20u, 14u, &b);
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

// Gauss-Newton on the betas (paper eq. 15): min sum_q (rho_q - L_q . b(betas))^2.
fn gauss_newton(L: ptr<function, EpnpL>, rho: EpnpRho, nc: u32, betas_in: vec4<f32>, iters: u32) -> vec4<f32> {
  var betas = betas_in;
  let np = pair_count(nc);
  for (var it = 0u; it < iters; it++) {
    var jac: EpnpLsMat;
    var res: EpnpLsVec;
    for (var q = 0u; q < np; q++) {
      // L_q . b = betas^T Q betas, Q_ii = L[p(i,i)], Q_ij = L[p(i,j)] / 2; gradient 2 Q betas.
      var val = 0.0;
      for (var i = 0u; i < nc; i++) {
        var g = 0.0;
        for (var j = 0u; j < nc; j++) {
          let lij = (*L)[q * 10u + beta_product_index(i, j)];
          g += select(lij, 2.0 * lij, i == j) * betas[j];
        }
        jac[q * nc + i] = g;
        val += 0.5 * g * betas[i];
      }
      res[q] = rho[q] - val;
    }
    let delta = solve_least_squares(&jac, np, nc, &res);
    var step = 0.0;
    var size = 0.0;
    for (var i = 0u; i < nc; i++) {
      betas[i] += delta[i];
      step += delta[i] * delta[i];
      size += betas[i] * betas[i];
    }
    if (!(step > 1e-14 * size)) {
      break;
    }
  }
  return betas;
}

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

fn epnp_pose_is_finite(pose: EpnpPose) -> bool {
  var ok = is_finite_f(pose.t.x) && is_finite_f(pose.t.y) && is_finite_f(pose.t.z);
  for (var c = 0u; c < 3u; c++) {
    ok = ok && is_finite_f(pose.R[c].x) && is_finite_f(pose.R[c].y) && is_finite_f(pose.R[c].z);
  }
  return ok;
}

// One solve with nc control points: every beta candidate, refined, as a pose; keeps the best in *best.
fn solve_with_control_points(spread: EpnpSpread, nc: u32, best: ptr<function, EpnpBest>) {
  let ctrl = choose_control_points(spread, nc);
  let mom = accumulate_moments(ctrl, nc);
  let d = 3u * nc;
  var mtm: JacobiMat;
  assemble_mtm(mom, nc, &mtm);
  var vals: JacobiVec;
  var vecs: JacobiMat;
  jacobi_eigen_sym(&mtm, d, &vals, &vecs, kEpnpJacobiSweeps);
  var L: EpnpL;
  compute_l(&vecs, nc, &L);
  let rho = compute_rho(ctrl, nc);
  // General: approx 1, 2, 3, relinearisation. Planar: N = 1, approx 2, approx 1.
  let n_cand = select(3u, 4u, nc == 4u);
  for (var cand = 0u; cand < n_cand; cand++) {
    var betas: vec4<f32>;
    if (nc == 4u) {
      switch cand {
        case 0u: { betas = find_betas_approx_1(&L, rho, nc); }
        case 1u: { betas = find_betas_approx_2(&L, rho, nc); }
        case 2u: { betas = find_betas_approx_3(&L, rho, nc); }
        default: { betas = find_betas_relin(&L, rho, nc); }
      }
    } else {
      switch cand {
        case 0u: { betas = find_betas_n1(&L, rho, nc); }
        case 1u: { betas = find_betas_approx_2(&L, rho, nc); }
        default: { betas = find_betas_approx_1(&L, rho, nc); }
      }
    }
    betas = gauss_newton(&L, rho, nc, betas, kEpnpGaussNewtonIters);
    let ccs = solve_for_sign(compute_ccs(&vecs, nc, betas), nc, mom.alpha_sum);
    let pose = estimate_rt(ctrl, ccs, nc, mom);
    let err = reprojection_error(pose);
    if (err < (*best).err && epnp_pose_is_finite(pose)) {
      (*best).err = err;
      (*best).pose = pose;
    }
  }
}

fn epnp_init() -> EpnpResult {
  var res: EpnpResult;
  res.R = mat3x3<f32>(vec3<f32>(1.0, 0.0, 0.0), vec3<f32>(0.0, 1.0, 0.0), vec3<f32>(0.0, 0.0, 1.0));
  res.t = vec3<f32>(0.0);
  res.ok = false;
  let spread = point_spread();
  if (!(spread.w_sum > 0.0)) {
    return res;
  }
  let vmax = spread.vars.z;
  if (!(vmax > 0.0) || !is_finite_f(vmax) || !(spread.vars.y > kEpnpDegenerateRatio * vmax)) {
    return res;
  }
  let ratio = spread.vars.x / vmax;
  var best: EpnpBest;
  best.err = kEpnpHuge;
  if (ratio < kEpnpPlanarRatio) {
    solve_with_control_points(spread, 3u, &best);
  }
  if (ratio >= kEpnpNearPlanarRatio) {
    solve_with_control_points(spread, 4u, &best);
  }
  if (!(best.err < kEpnpHuge)) {
    return res;
  }
  res.R = best.pose.R;
  res.t = best.pose.t;
  res.ok = true;
  return res;
}
