// Test-only kernel for tridiagonal_ql_eigen_sym (tests/kernels/eigen.test.ts): one symmetric matrix per
// invocation, copied into a JacobiMat, decomposed, and everything the call writes copied out.
// Prepended by the test: common.wgsl (is_finite_f), eigen.wgsl.

struct Params {
  batch: u32,  // B, the matrices in mats
  d: u32,      // the dimension, <= kJacobiMaxDim
  count: u32,  // the eigenvectors wanted, <= 4
  pad: u32,
}

// The value vectors is filled with before the call: the columns count .. d must still hold it after.
const kSentinel: f32 = 7.0;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> mats: array<f32>;             // [B, d*d] row-major symmetric
@group(0) @binding(2) var<storage, read_write> out_buf: array<f32>;    // [B, 1 + d + d*d]: return, values, vectors

override kWorkgroupSize: u32 = 64u;

@compute @workgroup_size(kWorkgroupSize)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let b = gid.x;
  if (b >= params.batch) {
    return;
  }
  let d = params.d;
  var a: JacobiMat;
  var values: JacobiVec;
  var vectors: JacobiMat;
  for (var i = 0u; i < d * d; i++) {
    a[i] = mats[b * d * d + i];
    vectors[i] = kSentinel;
  }
  let ret = tridiagonal_ql_eigen_sym(&a, d, &values, &vectors, params.count);
  // The whole of vectors goes out, not only the wanted columns, so that the test sees what was left alone.
  let o = b * (1u + d + d * d);
  out_buf[o] = f32(ret);
  for (var i = 0u; i < d; i++) {
    out_buf[o + 1u + i] = values[i];
  }
  for (var i = 0u; i < d * d; i++) {
    out_buf[o + 1u + d + i] = vectors[i];
  }
}
