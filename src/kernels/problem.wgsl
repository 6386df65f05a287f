// One PnP problem per invocation: the input bindings shared by the forward and backward kernels, the
// accessors that read problem b's points, and the per-problem normalisation and status checks
// (twins of src/solver/normalize.ts and src/solver/status.ts).
//
// Storage order, all f32 row-major: pts2d [B,n,2] px; pts3d [n,3] (shared) or [B,n,3]; K [3,3] (shared)
// or [B,3,3]; weights [B,n]; initPose [B,6].

struct Params {
  B: u32,
  n: u32,
  flags: u32,
  max_iters: u32,
  step_tol: f32,
  cost_tol: f32,
  _pad0: u32,
  _pad1: u32,
}

const FLAG_SHARED_PTS3D: u32 = 1u;
const FLAG_SHARED_K: u32 = 2u;
const FLAG_WEIGHTS: u32 = 4u;
const FLAG_INIT_POSE: u32 = 8u;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> pts2d: array<f32>;
@group(0) @binding(2) var<storage, read> pts3d: array<f32>;
@group(0) @binding(3) var<storage, read> kmat: array<f32>;
@group(0) @binding(4) var<storage, read> weights: array<f32>;

override kWorkgroupSize: u32 = 64u;

// The problem this invocation owns, and its normalisation (docs/pnp-maths.md, "Normalisation").
var<private> g_b: u32;
var<private> g_cam: Camera;
// cameraScale of the problem's K: g_cam is K times it (dL/dK is multiplied by it too).
var<private> g_kscale: f32;
var<private> g_kinv: mat3x3<f32>;
var<private> g_c: vec3<f32>;
var<private> g_s: f32;
// Smallest over largest eigenvalue of the normalised covariance (check_problem; checkProblem's spread).
var<private> g_flatness: f32;

fn has_flag(f: u32) -> bool {
  return (params.flags & f) != 0u;
}

// Problems are laid out along x then y, since one dimension holds at most 65,535 workgroups.
fn problem_index(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return gid.x + gid.y * nwg.x * kWorkgroupSize;
}

// Every kernel's entry: makes the invocation's problem g_b; false for the invocations past the batch's end.
fn enter_problem(gid: vec3<u32>, nwg: vec3<u32>) -> bool {
  g_b = problem_index(gid, nwg);
  return g_b < params.B;
}

fn load_pt2(i: u32) -> vec2<f32> {
  let o = (g_b * params.n + i) * 2u;
  return vec2<f32>(pts2d[o], pts2d[o + 1u]);
}

fn load_pt3(i: u32) -> vec3<f32> {
  var o = i * 3u;
  if (!has_flag(FLAG_SHARED_PTS3D)) {
    o = (g_b * params.n + i) * 3u;
  }
  return vec3<f32>(pts3d[o], pts3d[o + 1u], pts3d[o + 2u]);
}

fn load_weight(i: u32) -> f32 {
  if (has_flag(FLAG_WEIGHTS)) {
    return weights[g_b * params.n + i];
  }
  return 1.0;
}

fn load_camera() -> Camera {
  var o = 0u;
  if (!has_flag(FLAG_SHARED_K)) {
    o = g_b * 9u;
  }
  return Camera(
    vec3<f32>(kmat[o], kmat[o + 1u], kmat[o + 2u]),
    vec3<f32>(kmat[o + 3u], kmat[o + 4u], kmat[o + 5u]),
    vec3<f32>(kmat[o + 6u], kmat[o + 7u], kmat[o + 8u]));
}

fn inverse3(m: mat3x3<f32>) -> mat3x3<f32> {
  let a = m[0];
  let b = m[1];
  let c = m[2];
  let r0 = cross(b, c);
  let r1 = cross(c, a);
  let r2 = cross(a, b);
  let det = dot(a, r0);
  return transpose(mat3x3<f32>(r0, r1, r2)) * (1.0 / det);
}

// The accessors the initialiser (epnp.wgsl) reads the current problem through.
fn point_count() -> u32 {
  return params.n;
}

fn point_xn(i: u32) -> vec3<f32> {
  return (load_pt3(i) - g_c) / g_s;
}

fn point_m(i: u32) -> vec2<f32> {
  let h = g_kinv * vec3<f32>(load_pt2(i), 1.0);
  return h.xy / h.z;
}

fn point_w(i: u32) -> f32 {
  return load_weight(i);
}

// Twin of cameraScale (src/solver/normalize.ts): 2^-e with 2^e <= max_j |K[2][j]| < 2^(e+1), exact; 1
// when that row is zero or not finite. A K scaled far from 1 is the same camera but under- or overflows
// in f32 (det K, fbar), so the kernels use K times this.
fn camera_scale(k2: vec3<f32>) -> f32 {
  let m = max(abs(k2.x), max(abs(k2.y), abs(k2.z)));
  if (!(m > 0.0) || !is_finite_f(m)) {
    return 1.0;
  }
  // frexp: m = fr 2^ex with fr in [0.5, 1), so 2^(ex - 1) <= m < 2^ex.
  let e = clamp(frexp(m).exp - 1, -126, 126);
  return ldexp(1.0, -e);
}

// Twin of inputRoundingRatio (src/solver/status.ts): max(max |X|_inf / s3, max |x|_inf / s2) over the
// points with w > 0, s3 and s2 the weighted RMS spreads of the 3D and 2D points. f32 input rounds each
// coordinate by up to 2^-24 of itself, i.e. by 2^-24 times this ratio of the spread: the forward reports
// PNP_ILL_CONDITIONED when that exceeds kInputResolutionTol. Called after check_problem passed.
const kF32InputEps: f32 = 5.9604645e-8;
const kInputResolutionTol: f32 = 1e-4;

fn input_rounding_ratio() -> f32 {
  var sw = 0.0;
  var c3 = vec3<f32>(0.0);
  var c2 = vec2<f32>(0.0);
  var max3 = 0.0;
  var max2 = 0.0;
  for (var i = 0u; i < params.n; i++) {
    let w = load_weight(i);
    if (w > 0.0) {
      let X = load_pt3(i);
      let x = load_pt2(i);
      sw += w;
      c3 += w * X;
      c2 += w * x;
      let a3 = abs(X);
      let a2 = abs(x);
      max3 = max(max3, max(a3.x, max(a3.y, a3.z)));
      max2 = max(max2, max(a2.x, a2.y));
    }
  }
  c3 = c3 / sw;
  c2 = c2 / sw;
  var s3 = 0.0;
  var s2 = 0.0;
  for (var i = 0u; i < params.n; i++) {
    let w = load_weight(i);
    if (w > 0.0) {
      let d3 = load_pt3(i) - c3;
      let d2 = load_pt2(i) - c2;
      s3 += w * dot(d3, d3);
      s2 += w * dot(d2, d2);
    }
  }
  return max(max3 / sqrt(s3 / sw), max2 / sqrt(s2 / sw));
}

// Two 3D points within this fraction of the points' RMS spread are one (kCoincidentRatio, squared).
const kCoincidentRatio2: f32 = 1e-6;

// How many of the points with w > 0 are distinct, counted up to 4 (check_problem's need): a point is
// new when its squared distance from each point kept so far exceeds min_dist2 (twin of distinctPoints;
// greedy in row order, as the twin, so that both count the same where points lie near the tolerance).
fn distinct_points(min_dist2: f32) -> u32 {
  var kept: array<vec3<f32>, 4>;
  var count = 0u;
  for (var i = 0u; i < params.n && count < 4u; i++) {
    if (!(load_weight(i) > 0.0)) {
      continue;
    }
    let X = load_pt3(i);
    var is_new = true;
    for (var j = 0u; j < count; j++) {
      let d = X - kept[j];
      is_new = is_new && dot(d, d) > min_dist2;
    }
    if (is_new) {
      kept[count] = X;
      count += 1u;
    }
  }
  return count;
}

// Loads the current problem's camera (times camera_scale) and normalisation into the private state and returns the status
// of its input: -1 when it is usable, else PNP_INVALID_INPUT, PNP_TOO_FEW_POINTS or PNP_DEGENERATE, checked
// in that order (twin of checkProblem and normalizePoints). Points with w = 0 do not exist for the
// problem, whatever their coordinates hold; c and s are weighted by w.
fn check_problem() -> i32 {
  let cam = load_camera();
  g_kscale = camera_scale(cam.k2);
  g_cam = Camera(cam.k0 * g_kscale, cam.k1 * g_kscale, cam.k2 * g_kscale);
  let K = transpose(mat3x3<f32>(g_cam.k0, g_cam.k1, g_cam.k2));
  for (var j = 0u; j < 3u; j++) {
    for (var i = 0u; i < 3u; i++) {
      if (!is_finite_f(K[j][i])) {
        return PNP_INVALID_INPUT;
      }
    }
  }
  // A singular K has no K^-1 for the initialiser's normalised image points.
  let det = determinant(K);
  if (!(abs(det) > 0.0) || !is_finite_f(1.0 / det)) {
    return PNP_INVALID_INPUT;
  }
  g_kinv = inverse3(K);
  var count = 0u;
  var sw = 0.0;
  var sum = vec3<f32>(0.0);
  for (var i = 0u; i < params.n; i++) {
    let w = load_weight(i);
    if (!is_finite_f(w) || w < 0.0) {
      return PNP_INVALID_INPUT;
    }
    if (w == 0.0) {
      continue;
    }
    let x = load_pt2(i);
    let X = load_pt3(i);
    if (!(is_finite_f(x.x) && is_finite_f(x.y) && is_finite_f(X.x) && is_finite_f(X.y) && is_finite_f(X.z))) {
      return PNP_INVALID_INPUT;
    }
    count += 1u;
    sw += w;
    sum += w * X;
  }
  if (count < 4u) {
    return PNP_TOO_FEW_POINTS;
  }
  g_c = sum / sw;
  var cov = mat3x3<f32>(vec3<f32>(0.0), vec3<f32>(0.0), vec3<f32>(0.0));
  for (var i = 0u; i < params.n; i++) {
    let w = load_weight(i);
    if (w > 0.0) {
      let d = load_pt3(i) - g_c;
      cov += mat3x3<f32>(d * (w * d.x), d * (w * d.y), d * (w * d.z));
    }
  }
  // Normalised covariance: divided by sum w s^2 = its trace, so its eigenvalues sum to 1.
  let trace = cov[0][0] + cov[1][1] + cov[2][2];
  if (!(trace > 0.0) || !is_finite_f(trace)) {
    return PNP_DEGENERATE;
  }
  g_s = sqrt(trace / sw);
  if (distinct_points(kCoincidentRatio2 * g_s * g_s) < 4u) {
    return PNP_DEGENERATE;
  }
  // Jacobi for its accurate small eigenvalues, which the collinearity test needs and the closed-form
  // trigonometric solution loses in f32. Ascending: ev.z is the largest.
  let ev = jacobi_eigen_sym3(cov * (1.0 / trace)).values;
  if (!(ev.y >= 1e-6 * ev.z)) {
    return PNP_DEGENERATE;
  }
  g_flatness = ev.x / ev.z;
  return -1;
}
