// Test-only kernel for jacobi_eigen_sym4 (tests/kernels/eigen.test.ts): one symmetric 4x4 per invocation,
// decomposed in registers, its eigenvalues and eigenvectors copied out.
// Prepended by the test: common.wgsl (is_finite_f), eigen.wgsl.

struct Params {
  batch: u32,  // B, the matrices in mats
  pad0: u32,
  pad1: u32,
  pad2: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> mats: array<f32>;             // [B, 16] row-major symmetric
@group(0) @binding(2) var<storage, read_write> out_buf: array<f32>;    // [B, 20]: values [4], vectors [16] row-major

override kWorkgroupSize: u32 = 64u;

@compute @workgroup_size(kWorkgroupSize)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let b = gid.x;
  if (b >= params.batch) {
    return;
  }
  var a: mat4x4<f32>;
  for (var r = 0u; r < 4u; r++) {
    for (var c = 0u; c < 4u; c++) {
      a[c][r] = mats[b * 16u + 4u * r + c];
    }
  }
  let e = jacobi_eigen_sym4(a);
  let o = b * 20u;
  for (var i = 0u; i < 4u; i++) {
    out_buf[o + i] = e.values[i];
    for (var j = 0u; j < 4u; j++) {
      // Component i of vector j at 4i + j: vector j is column j, e.vectors[j].
      out_buf[o + 4u + 4u * i + j] = e.vectors[j][i];
    }
  }
}
