/** Pose errors for tests: rotation angle between two axis-angles, translation distance. */
import { mat3Mul, mat3Transpose } from '../../src/solver/linalg';
import { so3Exp, so3Log } from '../../src/solver/so3';

/** Angle (rad) of R(a) R(b)^T for poses a, b read at offsets. */
export function rotationErrorRad(a: ArrayLike<number>, b: ArrayLike<number>, aOff = 0, bOff = 0): number {
  const Ra = so3Exp(new Float64Array(9), a, aOff);
  const Rb = so3Exp(new Float64Array(9), b, bOff);
  const r = so3Log(new Float64Array(3), mat3Mul(new Float64Array(9), Ra, mat3Transpose(new Float64Array(9), Rb)));
  return Math.hypot(r[0], r[1], r[2]);
}

/** |t_a - t_b| / |t_b| for poses a, b [6] read at offsets. */
export function translationRelError(a: ArrayLike<number>, b: ArrayLike<number>, aOff = 0, bOff = 0): number {
  const d = Math.hypot(a[aOff + 3] - b[bOff + 3], a[aOff + 4] - b[bOff + 4], a[aOff + 5] - b[bOff + 5]);
  return d / Math.hypot(b[bOff + 3], b[bOff + 4], b[bOff + 5]);
}
