// Shared WGSL for the PnP kernels: so3, the pinhole projection and its derivatives, the 6x6 Cholesky
// solve. Each function is the twin of the float64 function of the same name (camelCase) in src/solver/,
// and follows docs/pnp-maths.md.
//
// Conventions: pose = [rx, ry, rz, tx, ty, tz], axis-angle (OpenCV Rodrigues), model to camera,
// Xc = R X + t. WGSL matrices are column-major: R[j] is column j, R[j][i] is row i of column j.
// A camera K is carried as its three rows (Camera.k0, k1, k2), since K is stored row-major (as in BOP).

const PNP_CONVERGED: i32 = 0;
const PNP_NOT_CONVERGED: i32 = 1;
const PNP_INVALID_INPUT: i32 = 2;
const PNP_TOO_FEW_POINTS: i32 = 3;
const PNP_DEGENERATE: i32 = 4;
const PNP_BEHIND_CAMERA: i32 = 5;
const PNP_ILL_CONDITIONED: i32 = 6;

const PI_F: f32 = 3.14159265358979;

struct Camera {
  k0: vec3<f32>,
  k1: vec3<f32>,
  k2: vec3<f32>,
}

// WGSL has no isnan/isinf; f32 NaN fails every comparison, and |x| > max finite catches Inf.
fn is_finite_f(x: f32) -> bool {
  return (x == x) && abs(x) <= 3.40282e38;
}

fn skew(v: vec3<f32>) -> mat3x3<f32> {
  // Columns of [v]x: [v]x e_j = v x e_j.
  return mat3x3<f32>(
    vec3<f32>(0.0, v.z, -v.y),
    vec3<f32>(-v.z, 0.0, v.x),
    vec3<f32>(v.y, -v.x, 0.0));
}

// Vulkan lets sin, cos and atan be as loose as 2^-11 absolute (SwiftShader is), which wrecks sin(a)/a and
// the angle of so3_log. These are Cephes' single-precision sinf/cosf and atanf: range reduction by pi/4
// in three parts, then minimax polynomials, about 1 ulp.
fn sin_cos_accurate(xIn: f32) -> vec2<f32> {
  let sgn = select(1.0, -1.0, xIn < 0.0);
  let x = abs(xIn);
  var j = u32(floor(x * 1.27323954473516));
  j += j & 1u;
  let y = f32(j);
  let r = ((x - y * 0.78515625) - y * 2.4187564849853515625e-4) - y * 3.77489497744594108e-8;
  let z = r * r;
  let sp = ((-1.9515295891e-4 * z + 8.3321608736e-3) * z - 1.6666654611e-1) * z * r + r;
  let cp = ((2.443315711809948e-5 * z - 1.388731625493765e-3) * z + 4.166664568298827e-2) * z * z - 0.5 * z + 1.0;
  let q = j & 7u;
  var s = select(sp, cp, q == 2u || q == 6u);
  var c = select(cp, sp, q == 2u || q == 6u);
  if (q == 4u || q == 6u) { s = -s; }
  if (q == 2u || q == 4u) { c = -c; }
  return vec2<f32>(sgn * s, c);
}

fn atan2_accurate(yIn: f32, xIn: f32) -> f32 {
  let ax = abs(xIn);
  let ay = abs(yIn);
  if (ax == 0.0 && ay == 0.0) { return 0.0; }
  // atan of t = min/max in [0, 1], then folded back by octant.
  let swap = ay > ax;
  var t = select(ay / ax, ax / ay, swap);
  var base = 0.0;
  if (t > 0.414213562373095) {
    base = 0.785398163397448;
    t = (t - 1.0) / (t + 1.0);
  }
  let z = t * t;
  var a = base + (((8.05374449538e-2 * z - 1.38776856032e-1) * z + 1.99777106478e-1) * z - 3.33329491539e-1) * z * t + t;
  if (swap) { a = 1.57079632679490 - a; }
  if (xIn < 0.0) { a = PI_F - a; }
  return select(a, -a, yIn < 0.0);
}

// Rodrigues' formula with (1 - cos a)/a^2 = 2 sin^2(a/2)/a^2 (no cancellation near 0), and a Taylor
// branch at tiny angles.
fn so3_exp(r: vec3<f32>) -> mat3x3<f32> {
  let a2 = dot(r, r);
  var s: f32;
  var c: f32;
  if (a2 < 1e-8) {
    s = 1.0 - a2 / 6.0;
    c = 0.5 - a2 / 24.0;
  } else {
    let a = sqrt(a2);
    let half = sin_cos_accurate(0.5 * a);
    s = 2.0 * half.x * half.y / a;
    c = 2.0 * half.x * half.x / a2;
  }
  let K = skew(r);
  let I = mat3x3<f32>(vec3<f32>(1.0, 0.0, 0.0), vec3<f32>(0.0, 1.0, 0.0), vec3<f32>(0.0, 0.0, 1.0));
  return I + s * K + c * (K * K);
}

// Inverse of so3_exp with the angle in [0, pi]. Near pi the skew part vanishes, so the axis comes from
// the symmetric part (R + R^T)/2 = I + (1 - cos a) (u u^T - I), its largest diagonal entry first.
fn so3_log(R: mat3x3<f32>) -> vec3<f32> {
  let w = vec3<f32>(R[1][2] - R[2][1], R[2][0] - R[0][2], R[0][1] - R[1][0]) * 0.5; // sin(a) u
  let cosA = clamp((R[0][0] + R[1][1] + R[2][2] - 1.0) * 0.5, -1.0, 1.0);
  let sinA = length(w);
  let a = atan2_accurate(sinA, cosA);
  if (a < 1e-4) {
    return w * (1.0 + a * a / 6.0);
  }
  if (a < PI_F - 1e-3) {
    return w * (a / sinA);
  }
  // Near pi: u u^T = (S - cos a I) / (1 - cos a), with S the symmetric part.
  let oneMinusCos = 1.0 - cosA;
  let d = vec3<f32>(R[0][0], R[1][1], R[2][2]);
  var u: vec3<f32>;
  if (d.x >= d.y && d.x >= d.z) {
    let ux = sqrt(max((d.x - cosA) / oneMinusCos, 0.0));
    u = vec3<f32>(ux, (R[0][1] + R[1][0]) * 0.5 / (oneMinusCos * ux), (R[0][2] + R[2][0]) * 0.5 / (oneMinusCos * ux));
  } else if (d.y >= d.z) {
    let uy = sqrt(max((d.y - cosA) / oneMinusCos, 0.0));
    u = vec3<f32>((R[0][1] + R[1][0]) * 0.5 / (oneMinusCos * uy), uy, (R[1][2] + R[2][1]) * 0.5 / (oneMinusCos * uy));
  } else {
    let uz = sqrt(max((d.z - cosA) / oneMinusCos, 0.0));
    u = vec3<f32>((R[0][2] + R[2][0]) * 0.5 / (oneMinusCos * uz), (R[1][2] + R[2][1]) * 0.5 / (oneMinusCos * uz), uz);
  }
  u = normalize(u);
  // The skew part fixes the sign of u (u and -u are both axes at exactly pi).
  if (dot(u, w) < 0.0) {
    u = -u;
  }
  return u * a;
}

// Inverse of the left Jacobian of SO(3): Jl^-1 = I - [r]x/2 + (1/a^2 - (1+cos a)/(2 a sin a)) [r]x^2.
fn so3_left_jacobian_inv(r: vec3<f32>) -> mat3x3<f32> {
  let a2 = dot(r, r);
  var k: f32;
  if (a2 < 0.04) {
    k = 1.0 / 12.0 + a2 / 720.0 + a2 * a2 / 30240.0;
  } else {
    let a = sqrt(a2);
    let sc = sin_cos_accurate(a);
    k = 1.0 / a2 - (1.0 + sc.y) / (2.0 * a * sc.x);
  }
  let S = skew(r);
  let I = mat3x3<f32>(vec3<f32>(1.0, 0.0, 0.0), vec3<f32>(0.0, 1.0, 0.0), vec3<f32>(0.0, 0.0, 1.0));
  return I - 0.5 * S + k * (S * S);
}

// pi(K, Xc) = (K0.Xc / K2.Xc, K1.Xc / K2.Xc), pixels.
fn project_point(cam: Camera, xc: vec3<f32>) -> vec2<f32> {
  let c3 = dot(cam.k2, xc);
  return vec2<f32>(dot(cam.k0, xc), dot(cam.k1, xc)) / c3;
}

// Rows p0, p1 of Dpi (2x3): p_k = (Kk - pi_k K2) / (K2.Xc).
struct ProjDeriv {
  p0: vec3<f32>,
  p1: vec3<f32>,
  uv: vec2<f32>,
  c3: f32,
}

fn projection_dpi(cam: Camera, xc: vec3<f32>) -> ProjDeriv {
  let c3 = dot(cam.k2, xc);
  let uv = vec2<f32>(dot(cam.k0, xc), dot(cam.k1, xc)) / c3;
  return ProjDeriv((cam.k0 - uv.x * cam.k2) / c3, (cam.k1 - uv.y * cam.k2) / c3, uv, c3);
}

// Hpi_k d = -(K2 (p_k.d) + p_k (K2.d)) / (K2.Xc): the second derivative of pixel row k applied to d.
fn projection_hpi_apply(cam: Camera, pk: vec3<f32>, c3: f32, d: vec3<f32>) -> vec3<f32> {
  return -(cam.k2 * dot(pk, d) + pk * dot(cam.k2, d)) / c3;
}

// a b^T as a column-major mat3x3 (column j = a b_j).
fn outer3(a: vec3<f32>, b: vec3<f32>) -> mat3x3<f32> {
  return mat3x3<f32>(a * b.x, a * b.y, a * b.z);
}

// The symmetric 6x6 [[rr, rt], [rt^T, tt]] (3x3 blocks, tt symmetric, rr taken as given) row-major, as
// chol_solve6 takes it; written out so that every index is a constant. M[col][row].
fn pack_sym6(rr: mat3x3<f32>, rt: mat3x3<f32>, tt: mat3x3<f32>) -> array<f32, 36> {
  return array<f32, 36>(
    rr[0][0], rr[1][0], rr[2][0], rt[0][0], rt[1][0], rt[2][0],
    rr[0][1], rr[1][1], rr[2][1], rt[0][1], rt[1][1], rt[2][1],
    rr[0][2], rr[1][2], rr[2][2], rt[0][2], rt[1][2], rt[2][2],
    rt[0][0], rt[0][1], rt[0][2], tt[0][0], tt[1][0], tt[2][0],
    rt[1][0], rt[1][1], rt[1][2], tt[0][1], tt[1][1], tt[2][1],
    rt[2][0], rt[2][1], rt[2][2], tt[0][2], tt[1][2], tt[2][2]);
}

// Solves A x = b for a symmetric positive definite 6x6 A (row-major, 36 entries). ok = false when a pivot
// is not positive (A indefinite or singular in f32): callers then treat the problem as failed.
// Unrolled (Cholesky-Banachiewicz, the order of cholSolve6 in src/solver/linalg.ts) so that every array
// index is a constant: SwiftShader lowers a private array indexed by a loop counter to per-lane gathers
// and scatters, which made the looped version several times slower.
struct Chol6 {
  x: array<f32, 6>,
  ok: bool,
}

fn chol_solve6(A: array<f32, 36>, b: array<f32, 6>) -> Chol6 {
  var out: Chol6;
  out.ok = false;
  let d0 = A[0];
  if (!(d0 > 0.0)) {
    return out;
  }
  let l00 = sqrt(d0);
  let l10 = A[6] / l00;
  let l20 = A[12] / l00;
  let l30 = A[18] / l00;
  let l40 = A[24] / l00;
  let l50 = A[30] / l00;
  let d1 = A[7] - l10 * l10;
  if (!(d1 > 0.0)) {
    return out;
  }
  let l11 = sqrt(d1);
  let l21 = (A[13] - l20 * l10) / l11;
  let l31 = (A[19] - l30 * l10) / l11;
  let l41 = (A[25] - l40 * l10) / l11;
  let l51 = (A[31] - l50 * l10) / l11;
  let d2 = A[14] - l20 * l20 - l21 * l21;
  if (!(d2 > 0.0)) {
    return out;
  }
  let l22 = sqrt(d2);
  let l32 = (A[20] - l30 * l20 - l31 * l21) / l22;
  let l42 = (A[26] - l40 * l20 - l41 * l21) / l22;
  let l52 = (A[32] - l50 * l20 - l51 * l21) / l22;
  let d3 = A[21] - l30 * l30 - l31 * l31 - l32 * l32;
  if (!(d3 > 0.0)) {
    return out;
  }
  let l33 = sqrt(d3);
  let l43 = (A[27] - l40 * l30 - l41 * l31 - l42 * l32) / l33;
  let l53 = (A[33] - l50 * l30 - l51 * l31 - l52 * l32) / l33;
  let d4 = A[28] - l40 * l40 - l41 * l41 - l42 * l42 - l43 * l43;
  if (!(d4 > 0.0)) {
    return out;
  }
  let l44 = sqrt(d4);
  let l54 = (A[34] - l50 * l40 - l51 * l41 - l52 * l42 - l53 * l43) / l44;
  let d5 = A[35] - l50 * l50 - l51 * l51 - l52 * l52 - l53 * l53 - l54 * l54;
  if (!(d5 > 0.0)) {
    return out;
  }
  let l55 = sqrt(d5);
  let y0 = (b[0]) / l00;
  let y1 = (b[1] - l10 * y0) / l11;
  let y2 = (b[2] - l20 * y0 - l21 * y1) / l22;
  let y3 = (b[3] - l30 * y0 - l31 * y1 - l32 * y2) / l33;
  let y4 = (b[4] - l40 * y0 - l41 * y1 - l42 * y2 - l43 * y3) / l44;
  let y5 = (b[5] - l50 * y0 - l51 * y1 - l52 * y2 - l53 * y3 - l54 * y4) / l55;
  let x5 = (y5) / l55;
  let x4 = (y4 - l54 * x5) / l44;
  let x3 = (y3 - l43 * x4 - l53 * x5) / l33;
  let x2 = (y2 - l32 * x3 - l42 * x4 - l52 * x5) / l22;
  let x1 = (y1 - l21 * x2 - l31 * x3 - l41 * x4 - l51 * x5) / l11;
  let x0 = (y0 - l10 * x1 - l20 * x2 - l30 * x3 - l40 * x4 - l50 * x5) / l00;
  out.x = array<f32, 6>(x0, x1, x2, x3, x4, x5);
  out.ok = true;
  return out;
}

// Twin of cholesky at d = 4 (linalg.ts): the lower Cholesky factor L of a symmetric positive definite 4x4,
// L[col][row] (read from a's lower triangle, a[col][row], row >= col). ok is false when a pivot is not strictly
// positive (checked before its square root, as chol_solve6 does: WGSL does not promise NaN from sqrt(-1)).
struct Cholesky4 {
  L: mat4x4<f32>,
  ok: bool,
}

fn cholesky4(a: mat4x4<f32>) -> Cholesky4 {
  var out: Cholesky4;
  out.ok = false;
  let d0 = a[0][0];
  if (!(d0 > 0.0)) {
    return out;
  }
  let l00 = sqrt(d0);
  let l10 = a[0][1] / l00;
  let l20 = a[0][2] / l00;
  let l30 = a[0][3] / l00;
  let d1 = a[1][1] - l10 * l10;
  if (!(d1 > 0.0)) {
    return out;
  }
  let l11 = sqrt(d1);
  let l21 = (a[1][2] - l20 * l10) / l11;
  let l31 = (a[1][3] - l30 * l10) / l11;
  let d2 = a[2][2] - l20 * l20 - l21 * l21;
  if (!(d2 > 0.0)) {
    return out;
  }
  let l22 = sqrt(d2);
  let l32 = (a[2][3] - l30 * l20 - l31 * l21) / l22;
  let d3 = a[3][3] - l30 * l30 - l31 * l31 - l32 * l32;
  if (!(d3 > 0.0)) {
    return out;
  }
  let l33 = sqrt(d3);
  out.L = mat4x4<f32>(vec4<f32>(l00, l10, l20, l30), vec4<f32>(0.0, l11, l21, l31), vec4<f32>(0.0, 0.0, l22, l32), vec4<f32>(0.0, 0.0, 0.0, l33));
  out.ok = is_finite_f(l00 + l11 + l22 + l33);
  return out;
}

// Twin of lowerSolve4: L^-1 B, column by column (forward substitution); L from cholesky4.
fn lower_solve4(L: mat4x4<f32>, B: mat4x4<f32>) -> mat4x4<f32> {
  var X: mat4x4<f32>;
  for (var c = 0u; c < 4u; c++) {
    let b = B[c];
    let x0 = b.x / L[0][0];
    let x1 = (b.y - L[0][1] * x0) / L[1][1];
    let x2 = (b.z - L[0][2] * x0 - L[1][2] * x1) / L[2][2];
    let x3 = (b.w - L[0][3] * x0 - L[1][3] * x1 - L[2][3] * x2) / L[3][3];
    X[c] = vec4<f32>(x0, x1, x2, x3);
  }
  return X;
}

// Twin of upperSolve4: L^-T B, column by column (back substitution); L from cholesky4.
fn upper_solve4(L: mat4x4<f32>, B: mat4x4<f32>) -> mat4x4<f32> {
  var X: mat4x4<f32>;
  for (var c = 0u; c < 4u; c++) {
    let b = B[c];
    let x3 = b.w / L[3][3];
    let x2 = (b.z - L[2][3] * x3) / L[2][2];
    let x1 = (b.y - L[1][2] * x2 - L[1][3] * x3) / L[1][1];
    let x0 = (b.x - L[0][1] * x1 - L[0][2] * x2 - L[0][3] * x3) / L[0][0];
    X[c] = vec4<f32>(x0, x1, x2, x3);
  }
  return X;
}
