// Implicit backward pass of the PnP layer for all B problems in one dispatch (twin of
// src/solver/backward.ts): dL/dz = -(d2f/dtheta dz)^T H^-1 dL/dtheta at the optimum, with H the exact
// Hessian of f = sum_i w_i |pi(K, R X_i + t) - x_i|^2, taken in the local chart (docs/pnp-maths.md,
// "Backward"). Failed problems (status != 0, or H not positive definite) get zero gradients.
// Prepended by the host: common.wgsl, problem.wgsl, eigen.wgsl.

// Packed to stay within the 8 storage buffers a stage may bind by default (the device is tfjs's):
// pose_state [B,13] = (pose [6], dL/dpose [6], status as f32); grad_point [B,n,6] = (dL/dx [2],
// dL/dX [3], dL/dw [1]); grad_k [B,9].
@group(0) @binding(5) var<storage, read> pose_state: array<f32>;
@group(0) @binding(6) var<storage, read_write> grad_point: array<f32>;
@group(0) @binding(7) var<storage, read_write> grad_k: array<f32>;

// Step 1: dL/d(r, t) into the chart xi: g_r = Jl(r)^-T a - [R c]x b, g_t = s b.
fn upstream_to_chart(r: vec3<f32>, R: mat3x3<f32>, a: vec3<f32>, b: vec3<f32>) -> array<f32, 6> {
  let gr = transpose(so3_left_jacobian_inv(r)) * a - cross(R * g_c, b);
  let gt = g_s * b;
  return array<f32, 6>(gr.x, gr.y, gr.z, gt.x, gt.y, gt.z);
}

// Step 2: the exact Hessian in the chart, 2 sum_i w_i (J^T J + sum_k rho_k (Jx^T Hpi_k Jx + S(p_k, Y))),
// with Jx = [-[Y]x | I] and J_k = p_k^T Jx = [Y x p_k | p_k]. Hpi_k and S(p, Y) are linear in p_k, so the
// second-order part is that of q = sum_k rho_k p_k: Hq = -(K2 q^T + q K2^T) / c3, giving the blocks
// rr = -[Y]x Hq [Y]x + S(q, Y), rt = [Y]x Hq, tt = Hq. Accumulated as 3x3 blocks: no array indexed by a
// loop counter in the per-point loop (SwiftShader lowers those to per-lane gathers).
fn accumulate_hessian(R: mat3x3<f32>, tn: vec3<f32>) -> array<f32, 36> {
  let zero = mat3x3<f32>(vec3<f32>(0.0), vec3<f32>(0.0), vec3<f32>(0.0));
  let I3 = mat3x3<f32>(vec3<f32>(1.0, 0.0, 0.0), vec3<f32>(0.0, 1.0, 0.0), vec3<f32>(0.0, 0.0, 1.0));
  var rr = zero;
  var rt = zero;
  var tt = zero;
  for (var i = 0u; i < params.n; i++) {
    let w = load_weight(i);
    if (!(w > 0.0)) {
      continue;
    }
    let Y = R * point_xn(i);
    let pd = projection_dpi(g_cam, Y + tn);
    let rho = pd.uv - load_pt2(i);
    let r0 = cross(Y, pd.p0);
    let r1 = cross(Y, pd.p1);
    let q = rho.x * pd.p0 + rho.y * pd.p1;
    let Hq = (outer3(g_cam.k2, q) + outer3(q, g_cam.k2)) * (-1.0 / pd.c3);
    let Sy = skew(Y);
    // S(q, Y): the chart's second derivative of exp([xi]x) Y, contracted with q.
    let S = (outer3(q, Y) + outer3(Y, q)) * 0.5 - I3 * dot(q, Y);
    let w2 = 2.0 * w;
    rr += (outer3(r0, r0) + outer3(r1, r1) - Sy * Hq * Sy + S) * w2;
    rt += (outer3(r0, pd.p0) + outer3(r1, pd.p1) + Sy * Hq) * w2;
    tt += (outer3(pd.p0, pd.p0) + outer3(pd.p1, pd.p1) + Hq) * w2;
  }
  return pack_sym6(rr, rt, tt);
}

@compute @workgroup_size(kWorkgroupSize)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  if (!enter_problem(gid, nwg)) {
    return;
  }
  let b = g_b;
  let n = params.n;
  // Zero first: every early return below leaves zero gradients, never stale memory or NaN.
  for (var i = 0u; i < n * 6u; i++) {
    grad_point[b * n * 6u + i] = 0.0;
  }
  for (var j = 0u; j < 9u; j++) {
    grad_k[b * 9u + j] = 0.0;
  }
  if (i32(pose_state[b * 13u + 12u]) != PNP_CONVERGED || check_problem() >= 0) {
    return;
  }
  let o = b * 13u;
  let r = vec3<f32>(pose_state[o], pose_state[o + 1u], pose_state[o + 2u]);
  let t = vec3<f32>(pose_state[o + 3u], pose_state[o + 4u], pose_state[o + 5u]);
  let R = so3_exp(r);
  let tn = (R * g_c + t) / g_s;
  let ga = vec3<f32>(pose_state[o + 6u], pose_state[o + 7u], pose_state[o + 8u]);
  let gb = vec3<f32>(pose_state[o + 9u], pose_state[o + 10u], pose_state[o + 11u]);
  let g = upstream_to_chart(r, R, ga, gb);
  let H = accumulate_hessian(R, tn);
  // Step 3: v = H^-1 g. The scale of H spans pixels and normalised units; Cholesky on the symmetrically
  // equilibrated D^-1/2 H D^-1/2 keeps the f32 pivots honest.
  var d: array<f32, 6>;
  var He: array<f32, 36>;
  var ge: array<f32, 6>;
  for (var a = 0u; a < 6u; a++) {
    d[a] = 1.0 / sqrt(max(H[a * 6u + a], 1e-30));
  }
  for (var a = 0u; a < 6u; a++) {
    ge[a] = g[a] * d[a];
    for (var bb = 0u; bb < 6u; bb++) {
      He[a * 6u + bb] = H[a * 6u + bb] * d[a] * d[bb];
    }
  }
  let sol = chol_solve6(He, ge);
  if (!sol.ok) {
    return;
  }
  let om = vec3<f32>(sol.x[0] * d[0], sol.x[1] * d[1], sol.x[2] * d[2]);
  let vt = vec3<f32>(sol.x[3] * d[3], sol.x[4] * d[4], sol.x[5] * d[5]);
  // Step 4: per-point gradients, dL/dz = -d/dz [ 2 sum_i w_i rho_i . q_i ], q_i = Dpi (om x Y + vt).
  var gK0 = vec3<f32>(0.0);
  var gK1 = vec3<f32>(0.0);
  var gK2 = vec3<f32>(0.0);
  let Rt = transpose(R);
  for (var i = 0u; i < n; i++) {
    let w = load_weight(i);
    let Y = R * point_xn(i);
    let xc = Y + tn;
    let pd = projection_dpi(g_cam, xc);
    let rho = pd.uv - load_pt2(i);
    let dxc = cross(om, Y) + vt;
    let q = vec2<f32>(dot(pd.p0, dxc), dot(pd.p1, dxc));
    let gp = (b * n + i) * 6u;
    let gw = -2.0 * dot(rho, q);
    if (!(w > 0.0)) {
      // A point with w = 0 has dL/dw only where it lies in front of the camera with finite data (its pixel
      // may be NaN: it does not exist for the problem): 0 otherwise, as backward.ts gives it.
      grad_point[gp + 5u] = select(0.0, gw, xc.z > 0.0 && is_finite_f(gw));
      continue;
    }
    grad_point[gp + 5u] = gw;
    grad_point[gp] = 2.0 * w * q.x;
    grad_point[gp + 1u] = 2.0 * w * q.y;
    let dpiTq = pd.p0 * q.x + pd.p1 * q.y;
    let dpiTrho = pd.p0 * rho.x + pd.p1 * rho.y;
    let hess = rho.x * projection_hpi_apply(g_cam, pd.p0, pd.c3, dxc) +
      rho.y * projection_hpi_apply(g_cam, pd.p1, pd.c3, dxc);
    let gX = -(2.0 * w / g_s) * (Rt * (dpiTq + hess - cross(om, dpiTrho)));
    grad_point[gp + 2u] = gX.x;
    grad_point[gp + 3u] = gX.y;
    grad_point[gp + 4u] = gX.z;
    let c3 = pd.c3;
    let kd = dot(g_cam.k2, dxc);
    // Column j of the three rows of K as vec3 components j: pixel rows k = 0, 1 own K[k][j]; both share
    // K[2][j].
    let dpi0 = xc / c3;
    let dq0 = (dxc - xc * kd / c3) / c3;
    gK0 -= 2.0 * w * (q.x * dpi0 + rho.x * dq0);
    gK1 -= 2.0 * w * (q.y * dpi0 + rho.y * dq0);
    let dpi2x = -pd.uv.x * xc / c3;
    let dpi2y = -pd.uv.y * xc / c3;
    let dq2x = (pd.uv.x * xc * kd / c3 - pd.uv.x * dxc - q.x * xc) / c3;
    let dq2y = (pd.uv.y * xc * kd / c3 - pd.uv.y * dxc - q.y * xc) / c3;
    gK2 -= 2.0 * w * (q.x * dpi2x + rho.x * dq2x + q.y * dpi2y + rho.y * dq2y);
  }
  // g_cam is K times g_kscale (check_problem): dL/dK = g_kscale dL/d(g_cam).
  gK0 *= g_kscale;
  gK1 *= g_kscale;
  gK2 *= g_kscale;
  let ko = b * 9u;
  grad_k[ko] = gK0.x;
  grad_k[ko + 1u] = gK0.y;
  grad_k[ko + 2u] = gK0.z;
  grad_k[ko + 3u] = gK1.x;
  grad_k[ko + 4u] = gK1.y;
  grad_k[ko + 5u] = gK1.z;
  grad_k[ko + 6u] = gK2.x;
  grad_k[ko + 7u] = gK2.y;
  grad_k[ko + 8u] = gK2.z;
}
