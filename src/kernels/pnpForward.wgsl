// Forward PnP for all B problems in two dispatches (main, then screen_main), one invocation per problem: input checks and
// normalisation (problem.wgsl), the EPnP initialiser (epnp.wgsl) or the given initial pose, then
// Levenberg-Marquardt on (R, tn) in the left-perturbation chart (twin of src/solver/lm.ts), from several
// rotations of the EPnP pose when there are few points and the first result is in doubt (screen_multi_start
// in a second entry point, screen_main; together the twin of refineMultiStart in src/solver/multiStart.ts).
// Prepended by the host: common.wgsl, problem.wgsl, eigen.wgsl, the EPnP library (epnpWgsl.ts).

@group(0) @binding(5) var<storage, read> init_pose: array<f32>;
@group(0) @binding(6) var<storage, read_write> pose_out: array<f32>;
@group(0) @binding(7) var<storage, read_write> status_out: array<i32>;

// Twin of focalScale: fbar = (K00 + K11) / 2 of the problem's camera (g_cam), the residuals' scale.
fn focal_scale() -> f32 {
  return 0.5 * (g_cam.k0.x + g_cam.k1.y);
}

// Scaled cost sum_i w_i |pi - x_i|^2 / fbar^2 (the 1/fbar^2 keeps f32 sums near 1).
fn lm_cost(R: mat3x3<f32>, tn: vec3<f32>, fbar: f32) -> f32 {
  var cost = 0.0;
  for (var i = 0u; i < params.n; i++) {
    let w = load_weight(i);
    if (w > 0.0) {
      let e = (project_point(g_cam, R * point_xn(i) + tn) - load_pt2(i)) / fbar;
      cost += w * dot(e, e);
    }
  }
  return cost;
}

struct LmResult {
  R: mat3x3<f32>,
  tn: vec3<f32>,
  iterations: u32,
  converged: bool,
}

struct NormalEquations {
  A: array<f32, 36>,
  g: array<f32, 6>,
  cost: f32,
}

// J^T J, -J^T e and the cost (lm_cost's) of the scaled residuals, with J_k = [Y x p_k | p_k] for pixel row k
// (docs/pnp-maths.md, "Forward"). Accumulated as 3x3 blocks (rotation-rotation, rotation-translation,
// translation-translation) of outer products and packed once: no array indexed by a loop counter in the
// per-point loop, which SwiftShader would lower to per-lane gathers.
fn lm_normal_equations(R: mat3x3<f32>, tn: vec3<f32>, fbar: f32) -> NormalEquations {
  let zero = mat3x3<f32>(vec3<f32>(0.0), vec3<f32>(0.0), vec3<f32>(0.0));
  var arr = zero;
  var art = zero;
  var att = zero;
  var gr = vec3<f32>(0.0);
  var gt = vec3<f32>(0.0);
  var cost = 0.0;
  for (var i = 0u; i < params.n; i++) {
    let w = load_weight(i);
    if (w > 0.0) {
      let Y = R * point_xn(i);
      let pd = projection_dpi(g_cam, Y + tn);
      let e = (pd.uv - load_pt2(i)) / fbar;
      let p0 = pd.p0 / fbar;
      let p1 = pd.p1 / fbar;
      let r0 = cross(Y, p0);
      let r1 = cross(Y, p1);
      let wr0 = w * r0;
      let wr1 = w * r1;
      let wp0 = w * p0;
      let wp1 = w * p1;
      arr += outer3(wr0, r0) + outer3(wr1, r1);
      art += outer3(wr0, p0) + outer3(wr1, p1);
      att += outer3(wp0, p0) + outer3(wp1, p1);
      gr -= wr0 * e.x + wr1 * e.y;
      gt -= wp0 * e.x + wp1 * e.y;
      cost += w * dot(e, e);
    }
  }
  var ne: NormalEquations;
  ne.A = pack_sym6(arr, art, att);
  ne.g = array<f32, 6>(gr.x, gr.y, gr.z, gt.x, gt.y, gt.z);
  ne.cost = cost;
  return ne;
}

fn damped_solve(ne: NormalEquations, lambda: f32) -> Chol6 {
  var D = ne.A;
  D[0] += lambda * max(ne.A[0], 1e-12);
  D[7] += lambda * max(ne.A[7], 1e-12);
  D[14] += lambda * max(ne.A[14], 1e-12);
  D[21] += lambda * max(ne.A[21], 1e-12);
  D[28] += lambda * max(ne.A[28], 1e-12);
  D[35] += lambda * max(ne.A[35], 1e-12);
  return chol_solve6(D, ne.g);
}

fn step_norm(x: array<f32, 6>) -> f32 {
  return sqrt(x[0] * x[0] + x[1] * x[1] + x[2] * x[2] + x[3] * x[3] + x[4] * x[4] + x[5] * x[5]);
}

// Twin of modelDecrease: the decrease -(2 g.d + d^T A d) the Gauss-Newton model promises for step d, with
// g = J^T e = -ne.g.
fn model_decrease(ne: NormalEquations, d: array<f32, 6>) -> f32 {
  var gd = 0.0;
  var dAd = 0.0;
  for (var a = 0u; a < 6u; a++) {
    gd += ne.g[a] * d[a];
    var r = 0.0;
    for (var b = 0u; b < 6u; b++) {
      r += ne.A[6u * a + b] * d[b];
    }
    dAd += d[a] * r;
  }
  return 2.0 * gd - dAd;
}

// LM from (R0, tn0) for at most max_iters iterations, then (when polish) the Gauss-Newton polish. The loop is
// lmRefine's (src/solver/lm.ts): the normal equations are formed once per accepted step; it has converged
// when the model promises no decrease the cost can tell from rounding (undamped too), when an accepted step
// lowers the cost by no more than cost_tol of it, or when a step below step_tol is accepted or rejected.
fn lm_refine(R0: mat3x3<f32>, tn0: vec3<f32>, max_iters: u32, polish: bool) -> LmResult {
  let fbar = focal_scale();
  var R = R0;
  var tn = tn0;
  var ne = lm_normal_equations(R, tn, fbar);
  var lambda = 1e-3;
  var res: LmResult;
  res.converged = false;
  var it = 0u;
  loop {
    if (it >= max_iters) {
      break;
    }
    it++;
    let sol = damped_solve(ne, lambda);
    if (!sol.ok) {
      lambda *= 10.0;
      if (lambda > 1e32) {
        break;
      }
      continue;
    }
    if (model_decrease(ne, sol.x) <= params.cost_tol * ne.cost) {
      // The undamped step -A^-1 g lowers the model by g . A^-1 g.
      let gn = chol_solve6(ne.A, ne.g);
      let gAg = ne.g[0] * gn.x[0] + ne.g[1] * gn.x[1] + ne.g[2] * gn.x[2] + ne.g[3] * gn.x[3] + ne.g[4] * gn.x[4] + ne.g[5] * gn.x[5];
      if (gn.ok && gAg <= params.cost_tol * ne.cost) {
        res.converged = true;
        break;
      }
    }
    let small = step_norm(sol.x) < params.step_tol * (1.0 + length(tn));
    let Rn = so3_exp(vec3<f32>(sol.x[0], sol.x[1], sol.x[2])) * R;
    let tnn = tn + vec3<f32>(sol.x[3], sol.x[4], sol.x[5]);
    let newCost = lm_cost(Rn, tnn, fbar);
    if (newCost < ne.cost) {
      let tiny = ne.cost - newCost <= params.cost_tol * ne.cost;
      R = Rn;
      tn = tnn;
      lambda = lambda * 0.1;
      ne = lm_normal_equations(R, tn, fbar);
      if (small || tiny) {
        res.converged = true;
        break;
      }
    } else {
      // In f32 a step at the optimum can fail to lower the cost by rounding alone: a tiny rejected step
      // means there is nowhere better to go.
      if (small) {
        res.converged = true;
        break;
      }
      lambda *= 10.0;
      if (lambda > 1e32) {
        break;
      }
    }
  }
  // Gauss-Newton polish without cost tests (f32 only; the float64 twin has no need of it). Near a flat
  // optimum the f32 cost stops telling steps apart long before the pose reaches f32 resolution, while
  // the gradient J^T e keeps its precision, so plain Gauss-Newton steps finish the descent. They are
  // kept only while they shrink, which is how Gauss-Newton behaves inside its basin.
  var prevNorm = 3.0e38;
  for (var k = 0u; k < select(0u, 4u, polish); k++) {
    if (k > 0u) {
      ne = lm_normal_equations(R, tn, fbar);
    }
    let sol = damped_solve(ne, 1e-7);
    let stepNorm = step_norm(sol.x);
    if (!sol.ok || !(stepNorm < 0.5 * prevNorm) || stepNorm > 1e-2 * (1.0 + length(tn))) {
      break;
    }
    R = so3_exp(vec3<f32>(sol.x[0], sol.x[1], sol.x[2])) * R;
    tn = tn + vec3<f32>(sol.x[3], sol.x[4], sol.x[5]);
    prevNorm = stepNorm;
  }
  res.R = R;
  res.tn = tn;
  res.iterations = it;
  return res;
}

// Multi-start LM, twin of refineMultiStart in src/solver/multiStart.ts, which gives the reasons: with few points
// the reprojection error has local minima of far-apart costs and rounding decides which basin EPnP lands
// in, while the op promises the global minimum. LM from the EPnP pose runs to convergence first; up to
// kMultiStartMaxPoints points with w > 0, when that result is in doubt (not converged, a point behind the
// camera, a pixel cost above multi_start_doubt_cost, or flat points: g_flatness < kMultiStartFlatRatio), each other start G_k R0, tn0 (G_k: rotations
// about the camera axes by pi and +-pi/2) gets kMultiStartScreenIters LM iterations; the best (in front of
// the camera first, then the lowest cost, a later start winning only by more than kMultiStartCostMargin
// relative, so that f32 and f64 pick alike when two costs tie), when it beats the first result, is refined
// to convergence with the Gauss-Newton polish, and the better of the two full results is returned.
const kMultiStartMaxPoints: u32 = 9u;
const kMultiStartCount: u32 = 10u;
const kMultiStartScreenIters: u32 = 8u;
const kMultiStartCostMargin: f32 = 1e-4;
const kMultiStartDoubtPx: f32 = 1.5;
const kMultiStartFlatRatio: f32 = 1e-2;

// G_k R0: row r of G_k is sign(c) e_(|c| - 1)^T with c = component r of the code (kMultiStartRotations
// in multiStart.ts, same order). WGSL matrices are column-major: transpose(R0)[j] is row j of R0.
fn multi_start_rotation(k: u32, R0: mat3x3<f32>) -> mat3x3<f32> {
  var codes = array<vec3<i32>, 10>(
    vec3<i32>(1, 2, 3),
    vec3<i32>(1, -2, -3), vec3<i32>(-1, 2, -3), vec3<i32>(-1, -2, 3),
    vec3<i32>(1, -3, 2), vec3<i32>(1, 3, -2), vec3<i32>(3, 2, -1), vec3<i32>(-3, 2, 1), vec3<i32>(-2, 1, 3), vec3<i32>(2, -1, 3),
  );
  let code = codes[k];
  let Rt = transpose(R0);
  var out: mat3x3<f32>;
  for (var r = 0u; r < 3u; r++) {
    let c = code[r];
    let row = f32(sign(c)) * Rt[u32(abs(c) - 1)];
    out[0][r] = row.x;
    out[1][r] = row.y;
    out[2][r] = row.z;
  }
  return out;
}

// Every point with w > 0 in front of the camera: (R xn_i + tn).z > 0.
fn in_front_of_camera(R: mat3x3<f32>, tn: vec3<f32>) -> bool {
  var front = true;
  for (var i = 0u; i < params.n; i++) {
    if (load_weight(i) > 0.0 && !((R * point_xn(i) + tn).z > 0.0)) {
      front = false;
    }
  }
  return front;
}

// Points with w > 0.
fn effective_points() -> u32 {
  var m = 0u;
  for (var i = 0u; i < params.n; i++) {
    if (load_weight(i) > 0.0) {
      m++;
    }
  }
  return m;
}

// Twin of multiStartDoubtCost: kMultiStartDoubtPx^2 max(1, 2 m - 6) (sum w / m), in px^2.
fn multi_start_doubt_cost() -> f32 {
  var m = 0.0;
  var sw = 0.0;
  for (var i = 0u; i < params.n; i++) {
    let w = load_weight(i);
    if (w > 0.0) {
      m += 1.0;
      sw += w;
    }
  }
  return kMultiStartDoubtPx * kMultiStartDoubtPx * max(1.0, 2.0 * m - 6.0) * (sw / m);
}

// Twin of multiStartBetter: whether (front, cost) replaces the kept (best_front, best_cost).
fn multi_start_better(front: bool, cost: f32, best_front: bool, best_cost: f32) -> bool {
  if (front != best_front) {
    return front;
  }
  if (is_finite_f(best_cost)) {
    return cost < (1.0 - kMultiStartCostMargin) * best_cost;
  }
  return is_finite_f(cost);
}

// Problems whose first LM result is in doubt, as the forward entry (main) hands them to the screening entry
// (screen_main), so that only the lanes of doubtful problems run the screens: in one dispatch, a SIMD group
// (or warp) with one doubtful problem would run its ten LMs while the others idle. count: how many; data[k]:
// the problem of slot k, for k < count; then, from params.B on, kScreenStateWords words a slot (f32 as
// bits, below). The host sizes it per chunk: 1 + count + kScreenStateWords x count words, zeroed.
struct ScreenState {
  count: atomic<u32>,
  data: array<u32>,
}
@group(0) @binding(8) var<storage, read_write> screen: ScreenState;

// EPnP's R0 [9] and tn0 [3], the first LM result's R [9], tn [3], converged, lm_cost and in_front_of_camera.
const kScreenStateWords: u32 = 27u;

fn screen_state_offset(k: u32) -> u32 {
  return params.B + k * kScreenStateWords;
}


fn load_vec3(o: u32) -> vec3<f32> {
  return vec3<f32>(bitcast<f32>(screen.data[o]), bitcast<f32>(screen.data[o + 1u]), bitcast<f32>(screen.data[o + 2u]));
}

fn store_vec3(o: u32, v: vec3<f32>) {
  screen.data[o] = bitcast<u32>(v.x);
  screen.data[o + 1u] = bitcast<u32>(v.y);
  screen.data[o + 2u] = bitcast<u32>(v.z);
}

fn load_mat3(o: u32) -> mat3x3<f32> {
  return mat3x3<f32>(load_vec3(o), load_vec3(o + 3u), load_vec3(o + 6u));
}

// Column by column, as load_mat3 reads it.
fn store_mat3(o: u32, m: mat3x3<f32>) {
  store_vec3(o, m[0]);
  store_vec3(o + 3u, m[1]);
  store_vec3(o + 6u, m[2]);
}

// The multi-start's screens of one problem in doubt, from its EPnP pose (R0, tn0) and its first LM result
// (first, with first_cost from lm_cost and first_front). Stages k = 1 .. kMultiStartCount - 1 are the screens,
// kMultiStartCount the full LM from the best screened start. One call site of lm_refine (in the loop) keeps the
// shader small: SwiftShader inlines every call.
fn screen_multi_start(R0: mat3x3<f32>, tn0: vec3<f32>, first: LmResult, first_cost: f32, first_front: bool) -> LmResult {
  let fbar = focal_scale();
  var best_R = R0;
  var best_tn = tn0;
  var best_cost = first_cost;
  var best_front = first_front;
  var best_k = 0u;
  var res: LmResult;
  for (var k = 1u; k <= kMultiStartCount; k++) {
    let full = k == kMultiStartCount;
    var R = multi_start_rotation(k, R0);
    var tn = tn0;
    if (full) {
      R = best_R;
      tn = best_tn;
    }
    res = lm_refine(R, tn, select(min(kMultiStartScreenIters, params.max_iters), params.max_iters, full), full);
    // lm_cost is the pixel cost over fbar^2.
    let cost = lm_cost(res.R, res.tn, fbar);
    let front = in_front_of_camera(res.R, res.tn);
    if (!full) {
      if (multi_start_better(front, cost, best_front, best_cost)) {
        best_k = k;
        best_R = res.R;
        best_tn = res.tn;
        best_cost = cost;
        best_front = front;
      }
      if (k == kMultiStartCount - 1u && best_k == 0u) {
        res = first;
        break;
      }
    } else if (!multi_start_better(front, cost, first_front, first_cost)) {
      res = first;
    }
  }
  return res;
}

fn write_pose(b: u32, r: vec3<f32>, t: vec3<f32>, status: i32) {
  pose_out[b * 6u] = r.x;
  pose_out[b * 6u + 1u] = r.y;
  pose_out[b * 6u + 2u] = r.z;
  pose_out[b * 6u + 3u] = t.x;
  pose_out[b * 6u + 4u] = t.y;
  pose_out[b * 6u + 5u] = t.z;
  status_out[b] = status;
}

// The refined pose of problem b in the caller's frame, with its status.
fn finish_problem(b: u32, lm: LmResult) {
  var status = select(PNP_NOT_CONVERGED, PNP_CONVERGED, lm.converged);
  if (!in_front_of_camera(lm.R, lm.tn)) {
    status = PNP_BEHIND_CAMERA;
  }
  let r = so3_log(lm.R);
  let t = g_s * lm.tn - lm.R * g_c;
  if (!(is_finite_f(r.x) && is_finite_f(r.y) && is_finite_f(r.z) && is_finite_f(t.x) && is_finite_f(t.y) && is_finite_f(t.z))) {
    write_pose(b, vec3<f32>(0.0), vec3<f32>(0.0), PNP_NOT_CONVERGED);
    return;
  }
  // The rounding of the input, not the solver, then limits the pose: say so rather than "converged".
  if (kF32InputEps * input_rounding_ratio() > kInputResolutionTol) {
    status = PNP_ILL_CONDITIONED;
  }
  write_pose(b, r, t, status);
}

// The forward: input checks, the initial pose (EPnP or the caller's), LM from it; a problem whose result is in
// doubt (twin of refineMultiStart's test: few points, and not converged, a point behind the camera, a pixel cost
// above multi_start_doubt_cost, or flat points) goes to the screen list, the others are written here.
@compute @workgroup_size(kWorkgroupSize)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  if (!enter_problem(gid, nwg)) {
    return;
  }
  let b = g_b;
  let bad = check_problem();
  if (bad >= 0) {
    write_pose(b, vec3<f32>(0.0), vec3<f32>(0.0), bad);
    return;
  }
  var R: mat3x3<f32>;
  var tn: vec3<f32>;
  if (has_flag(FLAG_INIT_POSE)) {
    let r0 = vec3<f32>(init_pose[b * 6u], init_pose[b * 6u + 1u], init_pose[b * 6u + 2u]);
    let t0 = vec3<f32>(init_pose[b * 6u + 3u], init_pose[b * 6u + 4u], init_pose[b * 6u + 5u]);
    if (!(is_finite_f(r0.x) && is_finite_f(r0.y) && is_finite_f(r0.z) && is_finite_f(t0.x) && is_finite_f(t0.y) && is_finite_f(t0.z))) {
      write_pose(b, vec3<f32>(0.0), vec3<f32>(0.0), PNP_INVALID_INPUT);
      return;
    }
    R = so3_exp(r0);
    tn = (R * g_c + t0) / g_s;
  } else {
    // The thorough EPnP only where no multi-start screens the start (kRelinMinPoints in epnp.ts).
    let points = effective_points();
    let init = epnp_init(points < kRelinMinPoints || points > kMultiStartMaxPoints);
    if (!init.ok) {
      write_pose(b, vec3<f32>(0.0), vec3<f32>(0.0), PNP_NOT_CONVERGED);
      return;
    }
    R = init.R;
    tn = init.t;
  }
  let first = lm_refine(R, tn, params.max_iters, true);
  let fbar = focal_scale();
  // lm_cost is the pixel cost over fbar^2.
  let cost = lm_cost(first.R, first.tn, fbar);
  let front = in_front_of_camera(first.R, first.tn);
  // A given start is the caller's choice of basin: LM from it alone.
  let few = !has_flag(FLAG_INIT_POSE) && effective_points() <= kMultiStartMaxPoints;
  if (few && !(first.converged && front && cost * fbar * fbar <= multi_start_doubt_cost() && !(g_flatness < kMultiStartFlatRatio))) {
    let k = atomicAdd(&screen.count, 1u);
    screen.data[k] = b;
    let o = screen_state_offset(k);
    store_mat3(o, R);
    store_vec3(o + 9u, tn);
    store_mat3(o + 12u, first.R);
    store_vec3(o + 21u, first.tn);
    screen.data[o + 24u] = select(0u, 1u, first.converged);
    screen.data[o + 25u] = bitcast<u32>(cost);
    screen.data[o + 26u] = select(0u, 1u, front);
    return;
  }
  finish_problem(b, first);
}

// The screens of the problems main left in doubt, one per invocation, slot k of the list.
@compute @workgroup_size(kWorkgroupSize)
fn screen_main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let k = problem_index(gid, nwg);
  if (k >= atomicLoad(&screen.count)) {
    return;
  }
  g_b = screen.data[k];
  // Passed in main; run again for the problem's normalisation (g_cam, g_c, g_s, g_flatness). The same
  // input gives the same answer, but a listed problem must never be left unwritten.
  if (check_problem() >= 0) {
    write_pose(g_b, vec3<f32>(0.0), vec3<f32>(0.0), PNP_NOT_CONVERGED);
    return;
  }
  let o = screen_state_offset(k);
  var first: LmResult;
  first.R = load_mat3(o + 12u);
  first.tn = load_vec3(o + 21u);
  first.converged = screen.data[o + 24u] != 0u;
  let lm = screen_multi_start(load_mat3(o), load_vec3(o + 9u), first, bitcast<f32>(screen.data[o + 25u]), screen.data[o + 26u] != 0u);
  finish_problem(g_b, lm);
}
