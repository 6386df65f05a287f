/**
 * SO(3) in float64: exponential, logarithm and left Jacobian of the rotation group.
 *
 * Convention: axis-angle r (OpenCV Rodrigues), R = exp([r]x), rotation applied as R X (model to camera).
 * Rotations are Float64Array(9) ROW-MAJOR. The chart used by LM and the backward pass is the LEFT
 * perturbation R <- exp([dr]x) R, whose Jacobian is the left Jacobian Jl (Barfoot, State Estimation for
 * Robotics, 7.1.3): exp([r + dr]x) = exp([Jl(r) dr]x) exp([r]x) to first order, so the change of r under
 * a left perturbation xi is dr = Jl(r)^-1 xi.
 *
 * Pure functions `fn(out, ...): out`, no allocation; out may alias the input (results go through scratch).
 */
import type { Vec } from './linalg';

const s9 = new Float64Array(9);

/**
 * Writes c0 I + c1 [r]x + c2 [r]x^2 into out (row-major), using [r]x^2 = r r^T - |r|^2 I.
 * The shared shape of exp, Jl and Jl^-1.
 */
function rodriguesForm(out: Float64Array, x: number, y: number, z: number, c0: number, c1: number, c2: number): Float64Array {
  const t2 = x * x + y * y + z * z;
  const d = c0 - c2 * t2;
  out[0] = d + c2 * x * x;
  out[1] = c2 * x * y - c1 * z;
  out[2] = c2 * x * z + c1 * y;
  out[3] = c2 * y * x + c1 * z;
  out[4] = d + c2 * y * y;
  out[5] = c2 * y * z - c1 * x;
  out[6] = c2 * z * x - c1 * y;
  out[7] = c2 * z * y + c1 * x;
  out[8] = d + c2 * z * z;
  return out;
}

/** (1 - cos t) / t^2 written as 2 sin^2(t/2) / t^2: no cancellation at any t; series below 1e-4. */
function oneMinusCosOverT2(t: number): number {
  if (t < 1e-4) return 0.5 - (t * t) / 24;
  const h = Math.sin(0.5 * t) / t;
  return 2 * h * h;
}

/** R = exp([r]x) (Rodrigues), r[rOff..rOff+3]. Series below |r| = 1e-4 (error < 1e-20). */
export function so3Exp(out: Float64Array, r: Vec, rOff = 0): Float64Array {
  const x = r[rOff], y = r[rOff + 1], z = r[rOff + 2];
  const t = Math.hypot(x, y, z);
  const a = t < 1e-4 ? 1 - (t * t) / 6 : Math.sin(t) / t;
  return rodriguesForm(out, x, y, z, 1, a, oneMinusCosOverT2(t));
}

/**
 * r = log(R) with |r| in [0, pi]. Stable everywhere:
 * - the angle from atan2(sin, cos), with sin = |vee(R - R^T)| / 2, so it is exact near 0 and near pi
 *   (acos of the trace loses half the digits at both ends);
 * - away from pi, r = theta / sin(theta) * vee(R - R^T) / 2 (theta/sin by series near 0);
 * - near pi (cos < -0.7) vee(R - R^T) vanishes, so the axis comes from the symmetric part
 *   (R + R^T)/2 - cos I = (1 - cos) u u^T (its largest column), signed to agree with vee(R - R^T).
 * R is assumed orthonormal; out may not alias R (sizes differ).
 */
export function so3Log(out: Float64Array, R: Vec): Float64Array {
  const vx = 0.5 * (R[7] - R[5]);
  const vy = 0.5 * (R[2] - R[6]);
  const vz = 0.5 * (R[3] - R[1]);
  const sinT = Math.hypot(vx, vy, vz);
  const cosT = 0.5 * (R[0] + R[4] + R[8] - 1);
  const t = Math.atan2(sinT, cosT);
  if (cosT > -0.7) {
    // theta / sin(theta): series below 1e-4 (next term 7 t^4 / 360 < 1e-17).
    const k = t < 1e-4 ? 1 + (t * t) / 6 : t / sinT;
    out[0] = k * vx; out[1] = k * vy; out[2] = k * vz;
    return out;
  }
  // B = (R + R^T)/2 - cos I = (1 - cos) u u^T; its column with the largest diagonal is best conditioned.
  const b00 = R[0] - cosT, b11 = R[4] - cosT, b22 = R[8] - cosT;
  const b01 = 0.5 * (R[1] + R[3]), b02 = 0.5 * (R[2] + R[6]), b12 = 0.5 * (R[5] + R[7]);
  let ux: number, uy: number, uz: number;
  if (b00 >= b11 && b00 >= b22) { ux = b00; uy = b01; uz = b02; }
  else if (b11 >= b22) { ux = b01; uy = b11; uz = b12; }
  else { ux = b02; uy = b12; uz = b22; }
  let inv = 1 / Math.hypot(ux, uy, uz);
  // vee(R - R^T) / 2 = sin(theta) u fixes the sign (either is right at exactly pi).
  if (ux * vx + uy * vy + uz * vz < 0) inv = -inv;
  out[0] = t * ux * inv; out[1] = t * uy * inv; out[2] = t * uz * inv;
  return out;
}

/**
 * Left Jacobian Jl(r) = I + (1 - cos t)/t^2 [r]x + (t - sin t)/t^3 [r]x^2 (Barfoot eq. 7.77a).
 * (t - sin t)/t^3 by series below t = 0.1 (truncation < 3e-16).
 */
export function so3LeftJacobian(out: Float64Array, r: Vec, rOff = 0): Float64Array {
  const x = r[rOff], y = r[rOff + 1], z = r[rOff + 2];
  const t = Math.hypot(x, y, z);
  const t2 = t * t;
  const b = t < 0.1
    ? 1 / 6 - t2 / 120 + (t2 * t2) / 5040 - (t2 * t2 * t2) / 362880
    : (t - Math.sin(t)) / (t2 * t);
  return rodriguesForm(out, x, y, z, 1, oneMinusCosOverT2(t), b);
}

/**
 * Inverse left Jacobian Jl(r)^-1 = I - [r]x / 2 + (1/t^2 - (1 + cos t)/(2 t sin t)) [r]x^2
 * (Barfoot eq. 7.77b, with (1 + cos)/(2 sin) = cot(t/2)/2). Finite for |r| < 2 pi (at pi the coefficient is
 * 1/pi^2). The coefficient cancels near 0: series 1/12 + t^2/720 + t^4/30240 + t^6/1209600 below t = 0.1
 * (truncation < 3e-18).
 */
export function so3LeftJacobianInv(out: Float64Array, r: Vec, rOff = 0): Float64Array {
  const x = r[rOff], y = r[rOff + 1], z = r[rOff + 2];
  const t = Math.hypot(x, y, z);
  const t2 = t * t;
  const c = t < 0.1
    ? 1 / 12 + t2 / 720 + (t2 * t2) / 30240 + (t2 * t2 * t2) / 1209600
    : (1 - (0.5 * t) / Math.tan(0.5 * t)) / t2;
  return rodriguesForm(out, x, y, z, 1, -0.5, c);
}

/** out = exp([dr]x) R (the left update of LM and of the chart). out may alias R. */
export function so3LeftUpdate(out: Float64Array, dr: Vec, R: Vec, drOff = 0): Float64Array {
  so3Exp(s9, dr, drOff);
  const e = s9;
  const r0 = R[0], r1 = R[1], r2 = R[2], r3 = R[3], r4 = R[4], r5 = R[5], r6 = R[6], r7 = R[7], r8 = R[8];
  for (let i = 0; i < 3; i++) {
    const a = e[3 * i], b = e[3 * i + 1], c = e[3 * i + 2];
    out[3 * i] = a * r0 + b * r3 + c * r6;
    out[3 * i + 1] = a * r1 + b * r4 + c * r7;
    out[3 * i + 2] = a * r2 + b * r5 + c * r8;
  }
  return out;
}
