// Symmetric eigendecompositions, f32, one problem per thread; twins of src/solver/eigen.ts: cyclic Jacobi
// rotations (jacobi_eigen_sym, G&VL 8.5; jacobi_eigen_sym3 and jacobi_eigen_sym4, the same at d = 3 and 4 in
// registers) and the top eigenvector of a 4x4 by the QCP route (top_eigenvector4).
//
// A library: concatenated into a kernel by the host after common.wgsl (the forward: common, problem, eigen, the
// EPnP library of epnpWgsl.ts, the kernel; the backward: common, problem, eigen, the kernel); it declares no
// bindings and no overrides.
//
// Storage of jacobi_eigen_sym: a d x d matrix (d <= 12) lives row-major in a JacobiMat with stride d: entry
// (i, j) at i*d + j. Eigenvectors are the columns: component i of vector j at i*d + j (as in the TypeScript
// twin). The 3x3 and 4x4 ones take and return matrices in registers.

const kJacobiMaxDim: u32 = 12u;
alias JacobiMat = array<f32, 144>;
alias JacobiVec = array<f32, 12>;

// Rotation angle's tangent for the 2x2 pivot [[app, apq], [apq, aqq]] (G&VL sym.schur2), the smaller root,
// guarded for |theta| large (apq tiny against the diagonal gap) where theta^2 would overflow.
fn jacobi_tangent(app: f32, aqq: f32, apq: f32) -> f32 {
  let theta = (aqq - app) / (2.0 * apq);
  if (abs(theta) > 1e15) {
    return 0.5 / theta;
  }
  let sgn = select(-1.0, 1.0, theta >= 0.0);
  return sgn / (abs(theta) + sqrt(theta * theta + 1.0));
}

// a: the symmetric matrix, DESTROYED (left nearly diagonal). Writes the eigenvalues ascending to
// values[0 .. d) and the matching unit eigenvectors as the columns of vectors (stride d). max_sweeps caps the
// cyclic sweeps; it stops earlier once the off-diagonal mass is below f32 resolution of the matrix norm.
fn jacobi_eigen_sym(a: ptr<function, JacobiMat>, d: u32, values: ptr<function, JacobiVec>,
                    vectors: ptr<function, JacobiMat>, max_sweeps: u32) {
  for (var i = 0u; i < d * d; i++) {
    (*vectors)[i] = 0.0;
  }
  var frob = 0.0;
  for (var i = 0u; i < d; i++) {
    (*vectors)[i * d + i] = 1.0;
    for (var j = 0u; j < d; j++) {
      frob += (*a)[i * d + j] * (*a)[i * d + j];
    }
  }
  for (var sweep = 0u; sweep < max_sweeps; sweep++) {
    var off = 0.0;
    for (var p = 0u; p < d; p++) {
      for (var q = p + 1u; q < d; q++) {
        off += (*a)[p * d + q] * (*a)[p * d + q];
      }
    }
    // Off-diagonal below (f32 epsilon x |A|_F)^2: the rotations can no longer change anything.
    if (off <= 1e-15 * frob || off < 1e-36) {
      break;
    }
    for (var p = 0u; p < d; p++) {
      for (var q = p + 1u; q < d; q++) {
        let apq = (*a)[p * d + q];
        if (abs(apq) < 1e-30) {
          continue;
        }
        let t = jacobi_tangent((*a)[p * d + p], (*a)[q * d + q], apq);
        let c = inverseSqrt(t * t + 1.0);
        let s = t * c;
        // A <- A J (columns p, q), then A <- J^T A (rows p, q), V <- V J.
        for (var k = 0u; k < d; k++) {
          let akp = (*a)[k * d + p];
          let akq = (*a)[k * d + q];
          (*a)[k * d + p] = c * akp - s * akq;
          (*a)[k * d + q] = s * akp + c * akq;
        }
        for (var k = 0u; k < d; k++) {
          let apk = (*a)[p * d + k];
          let aqk = (*a)[q * d + k];
          (*a)[p * d + k] = c * apk - s * aqk;
          (*a)[q * d + k] = s * apk + c * aqk;
        }
        for (var k = 0u; k < d; k++) {
          let vkp = (*vectors)[k * d + p];
          let vkq = (*vectors)[k * d + q];
          (*vectors)[k * d + p] = c * vkp - s * vkq;
          (*vectors)[k * d + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  for (var i = 0u; i < d; i++) {
    (*values)[i] = (*a)[i * d + i];
  }
  // Selection sort, ascending, swapping the eigenvector columns along (d <= 12).
  for (var i = 0u; i < d; i++) {
    var best = i;
    for (var j = i + 1u; j < d; j++) {
      if ((*values)[j] < (*values)[best]) {
        best = j;
      }
    }
    if (best != i) {
      let tv = (*values)[i];
      (*values)[i] = (*values)[best];
      (*values)[best] = tv;
      for (var k = 0u; k < d; k++) {
        let tk = (*vectors)[k * d + i];
        (*vectors)[k * d + i] = (*vectors)[k * d + best];
        (*vectors)[k * d + best] = tk;
      }
    }
  }
}

struct TopEigenvector4 {
  q: vec4<f32>,
  ok: bool,
}

// Twin of topEigenvector4 (eigen.ts), which gives the method (the QCP route: Newton on the characteristic
// polynomial from above the largest eigenvalue, then the adjugate column of largest norm), in registers:
// a is symmetric and read as a[col][row]. f32 differences: the shifted matrix is scaled to unit Frobenius
// norm first (its cube would overflow f32 for entries past about 1e6), Newton stops at a step below 1e-7 of
// x and after 30 iterations, and ok asks the adjugate column to be above 1e-4 of the unit scale (a double or
// nearly double top eigenvalue: the f32 column is then rounding, up to 1e-3 rad off), where float64 asks 1e-8.
fn top_eigenvector4(a: mat4x4<f32>) -> TopEigenvector4 {
  var res: TopEigenvector4;
  res.ok = false;
  let mean = 0.25 * (a[0][0] + a[1][1] + a[2][2] + a[3][3]);
  let b00 = a[0][0] - mean;
  let b11 = a[1][1] - mean;
  let b22 = a[2][2] - mean;
  let b33 = a[3][3] - mean;
  let off2 = a[1][0] * a[1][0] + a[2][0] * a[2][0] + a[3][0] * a[3][0] + a[2][1] * a[2][1] + a[3][1] * a[3][1] + a[3][2] * a[3][2];
  let fro2 = b00 * b00 + b11 * b11 + b22 * b22 + b33 * b33 + 2.0 * off2;
  if (!(fro2 > 0.0) || !is_finite_f(fro2)) {
    return res;
  }
  let inv = inverseSqrt(fro2);
  let B = mat4x4<f32>(
    vec4<f32>(b00, a[0][1], a[0][2], a[0][3]) * inv,
    vec4<f32>(a[1][0], b11, a[1][2], a[1][3]) * inv,
    vec4<f32>(a[2][0], a[2][1], b22, a[2][3]) * inv,
    vec4<f32>(a[3][0], a[3][1], a[3][2], b33) * inv);
  // det(B - x I) = x^4 + c2 x^2 + c1 x + c0 with |B|_F = 1: c2 = -1/2, c1 = -tr(B^3)/3, c0 = det B.
  let B2 = B * B;
  let c2 = -0.5;
  let c1 = -(dot(B2[0], B[0]) + dot(B2[1], B[1]) + dot(B2[2], B[2]) + dot(B2[3], B[3])) / 3.0;
  let c0 = determinant(B);
  var x = 1.0;
  for (var it = 0u; it < 30u; it++) {
    let x2 = x * x;
    let p = (x2 + c2) * x2 + c1 * x + c0;
    let dp = (4.0 * x2 + 2.0 * c2) * x + c1;
    if (!(dp > 0.0)) {
      break;
    }
    let step = p / dp;
    x -= step;
    if (!(abs(step) > 1e-7 * abs(x))) {
      break;
    }
  }
  // adj(C), C = B - x I, by its 2x2 minors; C is symmetric, so are the adjugate's rows and columns.
  let m00 = B[0][0] - x;
  let m11 = B[1][1] - x;
  let m22 = B[2][2] - x;
  let m33 = B[3][3] - x;
  let m01 = B[1][0];
  let m02 = B[2][0];
  let m03 = B[3][0];
  let m12 = B[2][1];
  let m13 = B[3][1];
  let m23 = B[3][2];
  let s0 = m00 * m11 - m01 * m01;
  let s1 = m00 * m12 - m01 * m02;
  let s2 = m00 * m13 - m01 * m03;
  let s3 = m01 * m12 - m11 * m02;
  let s4 = m01 * m13 - m11 * m03;
  let s5 = m02 * m13 - m12 * m03;
  let k5 = m22 * m33 - m23 * m23;
  let k4 = m12 * m33 - m13 * m23;
  let k3 = m12 * m23 - m13 * m22;
  let k2 = m02 * m33 - m03 * m23;
  let k1 = m02 * m23 - m03 * m22;
  let k0 = m02 * m13 - m03 * m12;
  let col0 = vec4<f32>(m11 * k5 - m12 * k4 + m13 * k3, -m01 * k5 + m02 * k4 - m03 * k3,
                       m13 * s5 - m23 * s4 + m33 * s3, -m12 * s5 + m22 * s4 - m23 * s3);
  let col1 = vec4<f32>(-m01 * k5 + m12 * k2 - m13 * k1, m00 * k5 - m02 * k2 + m03 * k1,
                       -m03 * s5 + m23 * s2 - m33 * s1, m02 * s5 - m22 * s2 + m23 * s1);
  let col2 = vec4<f32>(m01 * k4 - m11 * k2 + m13 * k0, -m00 * k4 + m01 * k2 - m03 * k0,
                       m03 * s4 - m13 * s2 + m33 * s0, -m02 * s4 + m12 * s2 - m23 * s0);
  let col3 = vec4<f32>(-m01 * k3 + m11 * k1 - m12 * k0, m00 * k3 - m01 * k1 + m02 * k0,
                       -m03 * s3 + m13 * s1 - m23 * s0, m02 * s3 - m12 * s1 + m22 * s0);
  var best = col0;
  var best_norm = dot(col0, col0);
  if (dot(col1, col1) > best_norm) {
    best = col1;
    best_norm = dot(col1, col1);
  }
  if (dot(col2, col2) > best_norm) {
    best = col2;
    best_norm = dot(col2, col2);
  }
  if (dot(col3, col3) > best_norm) {
    best = col3;
    best_norm = dot(col3, col3);
  }
  // |adj| ~ the product of the three gaps to the other eigenvalues, against |B|_F^3 = 1.
  if (!(best_norm > 1e-8) || !is_finite_f(best_norm)) {
    return res;
  }
  res.q = best * inverseSqrt(best_norm);
  res.ok = true;
  return res;
}

struct Sym3Eigen {
  values: vec3<f32>,
  axes: mat3x3<f32>,
}

// One Jacobi rotation of the pair (p, q) in registers: a <- G^T a G, v <- v G, with G[p][p] = G[q][q] = c,
// G[q][p] = s, G[p][q] = -s (G[col][row]); g_pq built by the caller with constant p, q.
fn jacobi3_rotate(e: ptr<function, Sym3Eigen>, a: ptr<function, mat3x3<f32>>, G: mat3x3<f32>) {
  *a = transpose(G) * (*a) * G;
  (*e).axes = (*e).axes * G;
}

fn jacobi3_cs(app: f32, aqq: f32, apq: f32) -> vec2<f32> {
  let t = jacobi_tangent(app, aqq, apq);
  let c = inverseSqrt(t * t + 1.0);
  return vec2<f32>(c, t * c);
}

// jacobi_eigen_sym at d = 3 in registers (the same rotations, the same stop; no array indexed by a counter,
// which SwiftShader keeps in memory): the eigenvalues ascending and the unit eigenvectors as the columns of
// axes. For the covariances of check_problem and EPnP's point_spread; it stops at f32 resolution, after about
// 4 sweeps, and after kJacobiRegistersMaxSweeps at most (jacobi_eigen_sym4's cap too).
const kJacobiRegistersMaxSweeps: u32 = 15u;

fn jacobi_eigen_sym3(m: mat3x3<f32>) -> Sym3Eigen {
  var e: Sym3Eigen;
  e.axes = mat3x3<f32>(vec3<f32>(1.0, 0.0, 0.0), vec3<f32>(0.0, 1.0, 0.0), vec3<f32>(0.0, 0.0, 1.0));
  var a = m;
  let frob = dot(a[0], a[0]) + dot(a[1], a[1]) + dot(a[2], a[2]);
  for (var sweep = 0u; sweep < kJacobiRegistersMaxSweeps; sweep++) {
    let off = a[1][0] * a[1][0] + a[2][0] * a[2][0] + a[2][1] * a[2][1];
    if (off <= 1e-15 * frob || off < 1e-36) {
      break;
    }
    if (abs(a[1][0]) >= 1e-30) {
      let cs = jacobi3_cs(a[0][0], a[1][1], a[1][0]);
      jacobi3_rotate(&e, &a, mat3x3<f32>(vec3<f32>(cs.x, -cs.y, 0.0), vec3<f32>(cs.y, cs.x, 0.0), vec3<f32>(0.0, 0.0, 1.0)));
    }
    if (abs(a[2][0]) >= 1e-30) {
      let cs = jacobi3_cs(a[0][0], a[2][2], a[2][0]);
      jacobi3_rotate(&e, &a, mat3x3<f32>(vec3<f32>(cs.x, 0.0, -cs.y), vec3<f32>(0.0, 1.0, 0.0), vec3<f32>(cs.y, 0.0, cs.x)));
    }
    if (abs(a[2][1]) >= 1e-30) {
      let cs = jacobi3_cs(a[1][1], a[2][2], a[2][1]);
      jacobi3_rotate(&e, &a, mat3x3<f32>(vec3<f32>(1.0, 0.0, 0.0), vec3<f32>(0.0, cs.x, -cs.y), vec3<f32>(0.0, cs.y, cs.x)));
    }
  }
  // Ascending, the axes along (a sorting network of three compare-and-swaps).
  var v = vec3<f32>(a[0][0], a[1][1], a[2][2]);
  var ax = e.axes;
  if (v.y < v.x) {
    v = v.yxz;
    ax = mat3x3<f32>(ax[1], ax[0], ax[2]);
  }
  if (v.z < v.y) {
    v = v.xzy;
    ax = mat3x3<f32>(ax[0], ax[2], ax[1]);
  }
  if (v.y < v.x) {
    v = v.yxz;
    ax = mat3x3<f32>(ax[1], ax[0], ax[2]);
  }
  e.values = v;
  e.axes = ax;
  return e;
}

struct Sym4Eigen {
  values: vec4<f32>,
  vectors: mat4x4<f32>,
}

// jacobi3_rotate at d = 4.
fn jacobi4_rotate(e: ptr<function, Sym4Eigen>, a: ptr<function, mat4x4<f32>>, G: mat4x4<f32>) {
  *a = transpose(G) * (*a) * G;
  (*e).vectors = (*e).vectors * G;
}

// The rotation of the pair (p, q), p < q, as jacobi3_rotate takes it (G[col][row]).
fn givens4(p: u32, q: u32, cs: vec2<f32>) -> mat4x4<f32> {
  var G = mat4x4<f32>(vec4<f32>(1.0, 0.0, 0.0, 0.0), vec4<f32>(0.0, 1.0, 0.0, 0.0), vec4<f32>(0.0, 0.0, 1.0, 0.0), vec4<f32>(0.0, 0.0, 0.0, 1.0));
  G[p][p] = cs.x;
  G[q][q] = cs.x;
  G[q][p] = cs.y;
  G[p][q] = -cs.y;
  return G;
}

// jacobi_eigen_sym at d = 4 in registers, as jacobi_eigen_sym3 is at d = 3: the same cyclic rotations, the
// same stop (after kJacobiRegistersMaxSweeps at most); the eigenvalues ascending and the unit eigenvectors as the
// columns of vectors. For EPnP's null space from 6 points (mtm_null_space4, epnpControlPoints.wgsl).
fn jacobi_eigen_sym4(m: mat4x4<f32>) -> Sym4Eigen {
  var e: Sym4Eigen;
  e.vectors = mat4x4<f32>(vec4<f32>(1.0, 0.0, 0.0, 0.0), vec4<f32>(0.0, 1.0, 0.0, 0.0), vec4<f32>(0.0, 0.0, 1.0, 0.0), vec4<f32>(0.0, 0.0, 0.0, 1.0));
  var a = m;
  let frob = dot(a[0], a[0]) + dot(a[1], a[1]) + dot(a[2], a[2]) + dot(a[3], a[3]);
  for (var sweep = 0u; sweep < kJacobiRegistersMaxSweeps; sweep++) {
    let off = a[1][0] * a[1][0] + a[2][0] * a[2][0] + a[3][0] * a[3][0] + a[2][1] * a[2][1] + a[3][1] * a[3][1] + a[3][2] * a[3][2];
    if (off <= 1e-15 * frob || off < 1e-36) {
      break;
    }
    if (abs(a[1][0]) >= 1e-30) { jacobi4_rotate(&e, &a, givens4(0u, 1u, jacobi3_cs(a[0][0], a[1][1], a[1][0]))); }
    if (abs(a[2][0]) >= 1e-30) { jacobi4_rotate(&e, &a, givens4(0u, 2u, jacobi3_cs(a[0][0], a[2][2], a[2][0]))); }
    if (abs(a[3][0]) >= 1e-30) { jacobi4_rotate(&e, &a, givens4(0u, 3u, jacobi3_cs(a[0][0], a[3][3], a[3][0]))); }
    if (abs(a[2][1]) >= 1e-30) { jacobi4_rotate(&e, &a, givens4(1u, 2u, jacobi3_cs(a[1][1], a[2][2], a[2][1]))); }
    if (abs(a[3][1]) >= 1e-30) { jacobi4_rotate(&e, &a, givens4(1u, 3u, jacobi3_cs(a[1][1], a[3][3], a[3][1]))); }
    if (abs(a[3][2]) >= 1e-30) { jacobi4_rotate(&e, &a, givens4(2u, 3u, jacobi3_cs(a[2][2], a[3][3], a[3][2]))); }
  }
  var v = vec4<f32>(a[0][0], a[1][1], a[2][2], a[3][3]);
  var ax = e.vectors;
  // Ascending: a sorting network of five compare-and-swaps, (0,1) (2,3) (0,2) (1,3) (1,2).
  if (v.y < v.x) { v = v.yxzw; ax = mat4x4<f32>(ax[1], ax[0], ax[2], ax[3]); }
  if (v.w < v.z) { v = v.xywz; ax = mat4x4<f32>(ax[0], ax[1], ax[3], ax[2]); }
  if (v.z < v.x) { v = v.zyxw; ax = mat4x4<f32>(ax[2], ax[1], ax[0], ax[3]); }
  if (v.w < v.y) { v = v.xwzy; ax = mat4x4<f32>(ax[0], ax[3], ax[2], ax[1]); }
  if (v.z < v.y) { v = v.xzyw; ax = mat4x4<f32>(ax[0], ax[2], ax[1], ax[3]); }
  e.values = v;
  e.vectors = ax;
  return e;
}
