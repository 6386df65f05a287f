/**
 * Seeded random numbers for tests: mulberry32 (Tommy Ettinger's 32-bit generator), reproducible across
 * runs and machines, plus the few distributions the tests need.
 */
export interface Rng {
  /** uniform in [0, 1) */
  next(): number;
  /** uniform in [lo, hi) */
  uniform(lo: number, hi: number): number;
  /** standard normal (Box-Muller) */
  normal(): number;
  /** integer in [0, k) */
  int(k: number): number;
  /** a uniformly random rotation as axis-angle r [3] (|r| <= pi), from a uniform unit quaternion */
  rotation(): Float64Array;
}

export function makeRng(seed: number): Rng {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const normal = (): number => {
    const u = 1 - next();
    const v = next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };
  return {
    next,
    uniform: (lo, hi) => lo + (hi - lo) * next(),
    normal,
    int: (k) => Math.floor(next() * k),
    rotation: () => {
      let q0 = normal(), q1 = normal(), q2 = normal(), q3 = normal();
      const qn = Math.hypot(q0, q1, q2, q3);
      q0 /= qn; q1 /= qn; q2 /= qn; q3 /= qn;
      if (q0 < 0) { q0 = -q0; q1 = -q1; q2 = -q2; q3 = -q3; }
      const vn = Math.hypot(q1, q2, q3);
      const angle = 2 * Math.atan2(vn, q0);
      const k = vn > 0 ? angle / vn : 2;
      return Float64Array.of(k * q1, k * q2, k * q3);
    },
  };
}
