// Forward PnP for all B problems in one dispatch, one invocation per problem: input checks and
// normalisation (problem.wgsl), the EPnP initialiser (epnp.wgsl) or the given initial pose, then
// Levenberg-Marquardt on (R, tn) in the left-perturbation chart (twin of src/solver/lm.ts).
// Prepended by the host: common.wgsl, problem.wgsl, eigen.wgsl, epnp.wgsl.

@group(0) @binding(5) var<storage, read> init_pose: array<f32>;
@group(0) @binding(6) var<storage, read_write> pose_out: array<f32>;
@group(0) @binding(7) var<storage, read_write> status_out: array<i32>;

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
}

// J^T J and -J^T e of the scaled residuals, with J_k = [Y x p_k | p_k] for pixel row k
// (docs/pnp-maths.md, "Forward").
fn lm_normal_equations(R: mat3x3<f32>, tn: vec3<f32>, fbar: f32) -> NormalEquations {
  var ne: NormalEquations;
  for (var i = 0u; i < params.n; i++) {
    let w = load_weight(i);
    if (w > 0.0) {
      let Y = R * point_xn(i);
      let pd = projection_dpi(g_cam, Y + tn);
      let e = (pd.uv - load_pt2(i)) / fbar;
      for (var k = 0u; k < 2u; k++) {
        let p = select(pd.p1, pd.p0, k == 0u) / fbar;
        let rot = cross(Y, p);
        let J = array<f32, 6>(rot.x, rot.y, rot.z, p.x, p.y, p.z);
        let ek = select(e.y, e.x, k == 0u);
        for (var a = 0u; a < 6u; a++) {
          ne.g[a] -= w * J[a] * ek;
          for (var bb = a; bb < 6u; bb++) {
            ne.A[a * 6u + bb] += w * J[a] * J[bb];
          }
        }
      }
    }
  }
  for (var a = 0u; a < 6u; a++) {
    for (var bb = 0u; bb < a; bb++) {
      ne.A[a * 6u + bb] = ne.A[bb * 6u + a];
    }
  }
  return ne;
}

fn damped_solve(ne: NormalEquations, lambda: f32) -> Chol6 {
  var D = ne.A;
  for (var a = 0u; a < 6u; a++) {
    D[a * 6u + a] += lambda * max(ne.A[a * 6u + a], 1e-12);
  }
  return chol_solve6(D, ne.g);
}

fn step_norm(x: array<f32, 6>) -> f32 {
  return sqrt(x[0] * x[0] + x[1] * x[1] + x[2] * x[2] + x[3] * x[3] + x[4] * x[4] + x[5] * x[5]);
}

fn lm_refine(R0: mat3x3<f32>, tn0: vec3<f32>) -> LmResult {
  let fbar = 0.5 * (g_cam.k0.x + g_cam.k1.y);
  var R = R0;
  var tn = tn0;
  var cost = lm_cost(R, tn, fbar);
  var lambda = 1e-3;
  var res: LmResult;
  res.converged = false;
  var it = 0u;
  for (; it < params.max_iters; it++) {
    let sol = damped_solve(lm_normal_equations(R, tn, fbar), lambda);
    if (!sol.ok) {
      lambda *= 10.0;
      if (lambda > 1e32) {
        break;
      }
      continue;
    }
    let stepNorm = step_norm(sol.x);
    let Rn = so3_exp(vec3<f32>(sol.x[0], sol.x[1], sol.x[2])) * R;
    let tnn = tn + vec3<f32>(sol.x[3], sol.x[4], sol.x[5]);
    let newCost = lm_cost(Rn, tnn, fbar);
    if (newCost < cost) {
      R = Rn;
      tn = tnn;
      cost = newCost;
      lambda = lambda * 0.1;
      if (stepNorm < params.step_tol * (1.0 + length(tn))) {
        res.converged = true;
        it++;
        break;
      }
    } else {
      // In f32 a step at the optimum can fail to lower the cost by rounding alone: a tiny rejected step
      // means there is nowhere better to go.
      if (stepNorm < params.step_tol * (1.0 + length(tn))) {
        res.converged = true;
        it++;
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
  for (var k = 0u; k < 4u; k++) {
    let sol = damped_solve(lm_normal_equations(R, tn, fbar), 1e-7);
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

fn write_pose(b: u32, r: vec3<f32>, t: vec3<f32>, status: i32) {
  pose_out[b * 6u] = r.x;
  pose_out[b * 6u + 1u] = r.y;
  pose_out[b * 6u + 2u] = r.z;
  pose_out[b * 6u + 3u] = t.x;
  pose_out[b * 6u + 4u] = t.y;
  pose_out[b * 6u + 5u] = t.z;
  status_out[b] = status;
}

@compute @workgroup_size(kWorkgroupSize)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let b = problem_index(gid, nwg);
  if (b >= params.B) {
    return;
  }
  g_b = b;
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
      write_pose(b, vec3<f32>(0.0), vec3<f32>(0.0), PNP_NON_FINITE);
      return;
    }
    R = so3_exp(r0);
    tn = (R * g_c + t0) / g_s;
  } else {
    let init = epnp_init();
    if (!init.ok) {
      write_pose(b, vec3<f32>(0.0), vec3<f32>(0.0), PNP_NOT_CONVERGED);
      return;
    }
    R = init.R;
    tn = init.t;
  }
  let lm = lm_refine(R, tn);
  var status = select(PNP_NOT_CONVERGED, PNP_CONVERGED, lm.converged);
  for (var i = 0u; i < params.n; i++) {
    if (load_weight(i) > 0.0 && (lm.R * point_xn(i) + lm.tn).z <= 0.0) {
      status = PNP_BEHIND_CAMERA;
    }
  }
  let r = so3_log(lm.R);
  let t = g_s * lm.tn - lm.R * g_c;
  if (!(is_finite_f(r.x) && is_finite_f(r.y) && is_finite_f(r.z) && is_finite_f(t.x) && is_finite_f(t.y) && is_finite_f(t.z))) {
    write_pose(b, vec3<f32>(0.0), vec3<f32>(0.0), PNP_NOT_CONVERGED);
    return;
  }
  write_pose(b, r, t, status);
}
