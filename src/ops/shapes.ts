/** Shape contracts checked at the ops' public entry points, with messages naming the argument. */
import type * as tf from '@tensorflow/tfjs';

/** expected: sizes per axis, -1 for any. */
export function checkShape(op: string, name: string, t: tf.Tensor, expected: number[]): void {
  const ok = t.rank === expected.length && expected.every((e, i) => e < 0 || t.shape[i] === e);
  if (!ok) {
    const want = expected.map((e) => (e < 0 ? '*' : String(e))).join(',');
    throw new Error(`${op}: ${name} must have shape [${want}], got [${t.shape.join(',')}]`);
  }
}

export function checkRank(op: string, name: string, t: tf.Tensor, ranks: number[]): void {
  if (!ranks.includes(t.rank)) {
    throw new Error(`${op}: ${name} must have rank ${ranks.join(' or ')}, got shape [${t.shape.join(',')}]`);
  }
}
