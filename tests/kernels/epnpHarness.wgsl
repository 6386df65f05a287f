// Test-only kernel for the EPnP twin (tests/kernels/epnp.test.ts): defines the accessors epnp.wgsl reads
// the current problem through, over flat storage buffers, and writes each problem's result.
// Prepended by the test: common.wgsl, eigen.wgsl, epnp.wgsl.

@group(0) @binding(0) var<storage, read> problem_offsets: array<u32>;  // [B+1] first point of each problem
@group(0) @binding(1) var<storage, read> xn_buf: array<f32>;           // [N,3] normalised 3D points
@group(0) @binding(2) var<storage, read> m_buf: array<f32>;            // [N,2] normalised image coordinates
@group(0) @binding(3) var<storage, read> w_buf: array<f32>;            // [N] weights
@group(0) @binding(4) var<storage, read_write> out_buf: array<f32>;    // [B,16]: R row-major 9, t 3, ok 1

var<private> g_first: u32;
var<private> g_n: u32;

fn point_count() -> u32 {
  return g_n;
}

fn point_xn(i: u32) -> vec3<f32> {
  let k = 3u * (g_first + i);
  return vec3<f32>(xn_buf[k], xn_buf[k + 1u], xn_buf[k + 2u]);
}

fn point_m(i: u32) -> vec2<f32> {
  let k = 2u * (g_first + i);
  return vec2<f32>(m_buf[k], m_buf[k + 1u]);
}

fn point_w(i: u32) -> f32 {
  return w_buf[g_first + i];
}

override kWorkgroupSize: u32 = 64u;

@compute @workgroup_size(kWorkgroupSize)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let b = gid.x;
  if (b + 1u >= arrayLength(&problem_offsets)) {
    return;
  }
  g_first = problem_offsets[b];
  g_n = problem_offsets[b + 1u] - g_first;
  let r = epnp_init(true);
  let o = 16u * b;
  for (var row = 0u; row < 3u; row++) {
    for (var col = 0u; col < 3u; col++) {
      out_buf[o + 3u * row + col] = r.R[col][row];
    }
  }
  out_buf[o + 9u] = r.t.x;
  out_buf[o + 10u] = r.t.y;
  out_buf[o + 11u] = r.t.z;
  out_buf[o + 12u] = select(0.0, 1.0, r.ok);
}
