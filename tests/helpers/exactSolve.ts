/**
 * An argmin oracle for finite-difference tests of the implicit backward pass.
 *
 * LM accepts a step only when the cost falls, and near the optimum a cost difference of delta^T H delta
 * drowns in the cost's rounding once |delta| ~ 1e-10 (normalised units): the LM optimum is exact to about
 * 1e-9 relative, not to machine precision. Central differences of the whole solve need better, so this
 * oracle runs solvePnpBatch (warm-started) and then polishes each problem with Newton steps until the step
 * stops shrinking: the root of the gradient to machine precision. The gradient, which alone fixes the
 * root, is the forward's J^T e (lmNormalEquations); the exact Hessian (accumulateHessian, itself checked
 * against second differences of the cost) only speeds the polish up: Gauss-Newton converges linearly,
 * too slowly on the farther, flatter problems.
 */
import { accumulateHessian } from '../../src/solver/backward';
import { cholSolve6 } from '../../src/solver/linalg';
import { focalScale, lmNormalEquations } from '../../src/solver/lm';
import { normalizePoints } from '../../src/solver/normalize';
import { solvePnpBatch, type PnpBatchInput, type PnpBatchOutput } from '../../src/solver/pnp';
import { so3Exp, so3LeftUpdate, so3Log } from '../../src/solver/so3';

export function solveExact(inp: PnpBatchInput): PnpBatchOutput {
  const res = solvePnpBatch(inp);
  const { B, n } = inp;
  const x = new Float64Array(2 * n), X = new Float64Array(3 * n), K = new Float64Array(9);
  const w = new Float64Array(n);
  const xn = new Float64Array(3 * n), cs = new Float64Array(4);
  const R = new Float64Array(9), tn = new Float64Array(3);
  const A = new Float64Array(36), g = new Float64Array(6), d = new Float64Array(6);
  for (let b = 0; b < B; b++) {
    if (res.status[b] !== 0) continue;
    for (let j = 0; j < 2 * n; j++) x[j] = inp.pts2d[2 * n * b + j];
    const po = inp.sharedPts3d ? 0 : 3 * n * b;
    for (let j = 0; j < 3 * n; j++) X[j] = inp.pts3d[po + j];
    const ko = inp.sharedK ? 0 : 9 * b;
    for (let j = 0; j < 9; j++) K[j] = inp.K[ko + j];
    if (inp.weights) for (let j = 0; j < n; j++) w[j] = inp.weights[n * b + j];
    const wv = inp.weights ? w : null;
    normalizePoints(xn, cs, X, wv, n);
    so3Exp(R, res.pose, 6 * b);
    for (let a = 0; a < 3; a++) {
      tn[a] = (R[3 * a] * cs[0] + R[3 * a + 1] * cs[1] + R[3 * a + 2] * cs[2] + res.pose[6 * b + 3 + a]) / cs[3];
    }
    const fbar = focalScale(K);
    let prev = Infinity;
    for (let it = 0; it < 30; it++) {
      lmNormalEquations(A, g, K, R, tn, xn, x, wv, n, fbar);
      // Pixel-objective gradient 2 fbar^2 J^T e and exact Hessian.
      A.fill(0);
      for (let i = 0; i < n; i++) {
        const wi = wv === null ? 1 : wv[i];
        if (wi > 0) accumulateHessian(A, K, R, tn, xn, x, i, wi);
      }
      for (let j = 0; j < 6; j++) d[j] = -2 * fbar * fbar * g[j];
      if (!cholSolve6(d, A, d)) break;
      const step = Math.hypot(...d);
      if (!(step < prev)) break; // at the rounding floor: keep the last iterate
      so3LeftUpdate(R, d, R);
      for (let a = 0; a < 3; a++) tn[a] += d[3 + a];
      prev = step;
      if (step < 1e-17 * (1 + Math.hypot(tn[0], tn[1], tn[2]))) break;
    }
    const r = so3Log(new Float64Array(3), R);
    for (let a = 0; a < 3; a++) {
      res.pose[6 * b + a] = r[a];
      res.pose[6 * b + 3 + a] = cs[3] * tn[a] - (R[3 * a] * cs[0] + R[3 * a + 1] * cs[1] + R[3 * a + 2] * cs[2]);
    }
  }
  return res;
}
