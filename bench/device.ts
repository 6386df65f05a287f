/**
 * The device part of a benchmark result's file name (bench/results/<bench>-<device>.json), from the WebGPU
 * adapter's description: SwiftShader is a CPU emulating a GPU, so it is named as such; a real adapter by its
 * own words; no adapter as 'cpu-nogpu'.
 */
export function deviceSlug(adapter: string): string {
  const a = adapter.toLowerCase();
  if (a.includes('swiftshader')) return 'cpu-swiftshader';
  if (a === 'none' || a === 'no adapter') return 'cpu-nogpu';
  return a.replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 40);
}
