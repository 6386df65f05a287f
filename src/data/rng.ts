/**
 * The project's one seeded random generator: mulberry32 (Tommy Ettinger's 32-bit generator; plenty for
 * image augmentation and synthetic scenes), so a seed gives the same numbers on every backend, machine
 * and run. Everything in data/ that must repeat (surface sampling, splits, crop jitter, augmentation)
 * seeds it through a splitmix32-style hash, so per-sample seeds derived from (seed, index) are
 * independent of the order samples are drawn in; the demos and the synthetic PnP problems start it
 * from a given state (fromState).
 */
export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = hashSeed(seed) >>> 0;
  }

  /** A generator whose mulberry32 state starts at `state` itself, not hashed. */
  static fromState(state: number): Rng {
    const r = new Rng(0);
    r.state = state >>> 0;
    return r;
  }
  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }
  /** Standard normal (Box-Muller). */
  normal(): number {
    return Math.sqrt(-2 * Math.log(1 - this.next())) * Math.cos(2 * Math.PI * this.next());
  }
  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  /** Fisher-Yates, in place. */
  shuffle<T>(a: T[]): T[] {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [a[i], a[j]] = [a[j], a[i]];
    }
    return a;
  }
}

/** Mixes integers into one 32-bit seed (splitmix32 finaliser per word). */
export function hashSeed(...words: number[]): number {
  let h = 0x9e3779b9;
  for (const w of words) {
    h = (h ^ (w >>> 0)) >>> 0;
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    h = (h ^ (h >>> 16)) >>> 0;
    // fold in the high part of non-32-bit inputs
    h = (h + Math.floor(w / 4294967296)) >>> 0;
  }
  return h;
}
