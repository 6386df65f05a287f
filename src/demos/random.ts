/**
 * Seeded randomness for the demos: mulberry32 (Tommy Ettinger's 32-bit generator), so a seed gives the
 * same scene and the same initial parameters on every backend, machine and run: the cpu and webgpu runs
 * of a demo start from identical numbers and differ only by their arithmetic.
 */
export interface DemoRng {
  /** uniform in [0, 1) */
  next(): number;
  /** uniform in [lo, hi) */
  uniform(lo: number, hi: number): number;
  /** standard normal (Box-Muller) */
  normal(): number;
}

export function demoRng(seed: number): DemoRng {
  // The golden-ratio offset keeps seed 0 from starting in mulberry32's all-zero state.
  let a = (Math.trunc(seed) ^ 0x9e3779b9) >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    uniform: (lo, hi) => lo + (hi - lo) * next(),
    normal: () => Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next()),
  };
}
