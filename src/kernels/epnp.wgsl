// EPnP initialiser (Lepetit, Moreno-Noguer, Fua, IJCV 2009) in the normalised frame of docs/pnp-maths.md,
// f32, one problem per thread. Twin of src/solver/epnp*.ts: each function here carries the snake_case name
// of its TypeScript twin and does the same steps (see the module doc of epnp.ts for the derivation).
// Steps 1-3 are in epnpControlPoints.wgsl, 5-6 in epnpBetas.wgsl, 7-8 in epnpPose.wgsl, as in TypeScript.
//
// A library: the host concatenates common.wgsl + eigen.wgsl + the EPnP library (epnpWgsl.ts: these four
// files) + the kernel. It declares no
// bindings and no overrides; the including kernel provides the current problem through
//   fn point_count() -> u32              number of points of the current problem (n <= 256 in practice)
//   fn point_xn(i: u32) -> vec3<f32>     normalised 3D point (centred, RMS radius 1)
//   fn point_m(i: u32) -> vec2<f32>      normalised image coordinates dehom(K^-1 [x, 1])
//   fn point_w(i: u32) -> f32            weight (1 when none; w <= 0: the point does not exist)
// The points are streamed: every pass re-reads them through the accessors, nothing per point is kept.
// Uses is_finite_f, chol_solve6, cholesky4, lower_solve4 and upper_solve4 (common.wgsl), and jacobi_eigen_sym,
// jacobi_eigen_sym3, jacobi_eigen_sym4 and top_eigenvector4 (eigen.wgsl).
//
// Entry: epnp_init(thorough) -> EpnpResult. WGSL matrices are column-major: R[col][row], so R[j] is column j and
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
//  - where float64 takes the eigenvectors of M^T M (below kNullSpaceMinPoints points, and the planar 9x9) by
//    Householder + QL, and relinearisation's 10x10 L^T L too, f32 takes them by Jacobi: QL's accuracy is
//    absolute, eps |A|, and in f32 it lost the null space (noise-free general n = 5 agreed with the float64
//    twin to 1e-3 on 490/500 problems, Jacobi 495/500; planar n = 5 to 32 on 491 to 498/500, Jacobi 500/500),
//    where Jacobi's relative accuracy keeps it. From kNullSpaceMinPoints points both twins take the general
//    null space by mtm_null_space4 (4x4 steps in registers; 500/500 agree from 6 points, tests/kernels/epnp.test.ts).

struct EpnpResult {
  R: mat3x3<f32>,
  t: vec3<f32>,
  ok: bool,
}

const kEpnpPlanarRatio: f32 = 1e-4;
// From here to the multi-start's kMultiStartMaxPoints the forward asks for OpenCV's EPnP, not the thorough one
// (kRelinMinPoints, epnp.ts).
const kRelinMinPoints: u32 = 6u;
const kEpnpNearPlanarRatio: f32 = 1e-5;
const kEpnpDegenerateRatio: f32 = 1e-12;
const kGaussNewtonIters: u32 = 10u;
const kGaussNewtonItersQuick: u32 = 5u;
const kEpnpBehindPenalty: f32 = 1.0;
const kEpnpJacobiSweeps: u32 = 15u;
// From this many points (w > 0) the general null space comes from mtm_null_space4 (kNullSpaceMinPoints, epnp.ts).
const kNullSpaceMinPoints: u32 = 6u;
const kEpnpHuge: f32 = 3.0e38;

// Least-squares scratch: up to 20 rows x 14 columns (the relinearisation), row-major with stride cols.
alias EpnpLsMat = array<f32, 280>;
alias EpnpLsVec = array<f32, 20>;
alias EpnpLsSol = array<f32, 14>;
// L [npairs, products] row-major with stride 10; rho [npairs].
alias EpnpL = array<f32, 60>;
alias EpnpRho = array<f32, 6>;
// The least squares' scratch, one per invocation. WGSL zero-fills a function's `var` at every call: as locals
// of the solves these 300 floats were filled three or four times per problem (up to seven where both the
// planar and the general solve run); module-scope private memory is filled once. On SwiftShader that took the
// forward's median from 73 to 66 ms (B = 1,024, n = 8, the two kernels alternating in one process; README,
// "Benchmark (`npm run bench:pnp`)").
var<private> g_ls_a: EpnpLsMat;
var<private> g_ls_b: EpnpLsVec;

// Weighted centroid, covariance variances ascending and unit axes (axes[e] is the axis of vars[e]); the
// points with w > 0 and their weight.
struct EpnpSpread {
  c: vec3<f32>,
  vars: vec3<f32>,
  axes: mat3x3<f32>,
  w_sum: f32,
  count: u32,
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

fn epnp_pose_is_finite(pose: EpnpPose) -> bool {
  var ok = is_finite_f(pose.t.x) && is_finite_f(pose.t.y) && is_finite_f(pose.t.z);
  for (var c = 0u; c < 3u; c++) {
    ok = ok && is_finite_f(pose.R[c].x) && is_finite_f(pose.R[c].y) && is_finite_f(pose.R[c].z);
  }
  return ok;
}

// One solve with nc control points: every beta candidate, refined, as a pose; keeps the best in *best.
fn solve_with_control_points(spread: EpnpSpread, nc: u32, thorough: bool, use_null_space4: bool, best: ptr<function, EpnpBest>) {
  let ctrl = choose_control_points(spread, nc);
  let mom = accumulate_moments(ctrl, nc);
  var vecs: JacobiMat;
  // From kNullSpaceMinPoints points the general null space in registers; the eigenvectors of M^T M by Jacobi
  // below, for the planar 9x9, and where a value of mtm_null_space4 is not finite.
  if (!use_null_space4 || !mtm_null_space4(mom, &vecs)) {
    var mtm: JacobiMat;
    var vals: JacobiVec;
    assemble_mtm(mom, nc, &mtm);
    jacobi_eigen_sym(&mtm, 3u * nc, &vals, &vecs, kEpnpJacobiSweeps);
  }
  var L: EpnpL;
  compute_l(&vecs, nc, &L);
  let rho = compute_rho(ctrl, nc);
  // General: approx 1, 2, 3, relinearisation (thorough only). Planar: N = 1, approx 2, approx 1.
  let n_cand = select(3u, 4u, nc == 4u && thorough);
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
    betas = gauss_newton(&L, rho, nc, betas, select(kGaussNewtonItersQuick, kGaussNewtonIters, thorough));
    let ccs = solve_for_sign(compute_ccs(&vecs, nc, betas), nc, mom.alpha_sum);
    let pose = estimate_rt(ctrl, ccs, nc, mom);
    let err = reprojection_error(pose);
    if (err < (*best).err && epnp_pose_is_finite(pose)) {
      (*best).err = err;
      (*best).pose = pose;
    }
  }
}

// thorough: the general case also tries relinearisation, and the betas get kGaussNewtonIters iterations; else
// OpenCV's EPnP (approximations 1-3, kGaussNewtonItersQuick iterations); kRelinMinPoints in the twin, epnp.ts.
fn epnp_init(thorough: bool) -> EpnpResult {
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
    solve_with_control_points(spread, 3u, thorough, false, &best);
  }
  if (ratio >= kEpnpNearPlanarRatio) {
    solve_with_control_points(spread, 4u, thorough, spread.count >= kNullSpaceMinPoints, &best);
  }
  if (!(best.err < kEpnpHuge)) {
    return res;
  }
  res.R = best.pose.R;
  res.t = best.pose.t;
  res.ok = true;
  return res;
}
