/**
 * `npm run pnp -- --in problems.json --out result.json [--backend auto|webgpu|wasm|cpu]`
 *
 * Solves a batch of PnP problems and, where "grad" (dL/dpose [B][6]) is given, returns the implicit
 * gradients in the input's own shapes. Exit codes: 0 done, 1 failure, 2 bad arguments or input.
 *
 * The JSON's numbers stay float64 up to the solver: on the CPU (auto, wasm, cpu) they go to the float64
 * solver (src/solver) as they are, which is what the bpnp op runs on any backend but webgpu; --backend
 * webgpu centres each problem's pts3d and pts2d and scales its weights in float64 first (centrePts3d,
 * centrePts2d, scaleWeights), so that the float32 tensors of the bpnp op hold small coordinates and
 * weights near 1 (UTM metres would otherwise round by up to 0.25 m, pixels of a small patch of a large
 * image lose their spread, weights of 1e-20 square to zero), and moves the pose and the gradients back in
 * float64. Beside each pose: its RMS reprojection error and, for a failed problem, why (pnpReport.ts).
 */
import { writeFile } from 'node:fs/promises';
import * as tf from '@tensorflow/tfjs';
import { bpnp } from '../ops/bpnp';
import { pnpBackwardBatch, solvePnpBatch } from '../solver/pnp';
import { so3Exp, so3LeftJacobian } from '../solver/so3';
import { kF64InputEps, PnpStatus, pnpStatusName } from '../solver/status';
import { centredGradK, centrePts2d, centrePts3d, parsePnpProblems, PnpInputError, type PnpProblemsJson, scaleWeights, sumOverBatch } from './pnpInput';
import { pnpReport, type SolvedAsFloat32 } from './pnpReport';
import { median } from '../train/metrics';
import { InputError, parseBackend, parseFlags, prepareOutputFile, readInputText, runMain, selectBackend, UsageError } from './common';

const kUsage = 'usage: npm run pnp -- --in problems.json --out result.json [--backend auto|webgpu|wasm|cpu]';

const kHelp = `${kUsage}

Solves B PnP problems of n points each (the pose minimising the weighted squared reprojection error, px^2).
Input JSON: {"pts2d": [B][n][2] px, "pts3d": [n][3] or [B][n][3] (any unit), "K": [3][3] or [B][3][3] px
             ([[fx, s, cx], [0, fy, cy], [0, 0, 1]] up to a positive scale, fx and fy > 0), "weights"?: [B][n]
             (a negative weight: that problem InvalidInput), "initPose"?: [B][6] [r, t], "grad"?: [B][6] dL/dpose}
            null stands for a missing value (JSON has no NaN): that problem's status is InvalidInput.
Output JSON: "pose" [B][6] (axis-angle r, rad, and t in pts3d's unit; model to camera), "status" [B],
             "status_name" [B], "status_why" [B] (null when Converged), "rms_px" [B] (the RMS reprojection
             error of the pose, over the points with weight > 0), and with "grad": "grad_pts2d", "grad_pts3d",
             "grad_K" in the input's shapes, "grad_weights" when weights are given.
Statuses: 0 Converged (a minimum of the cost: check rms_px), 1 NotConverged, 2 InvalidInput, 3 TooFewPoints
          (fewer than 4 with weight > 0), 4 Degenerate (coincident, collinear, or fewer than 4 distinct 3D
          points), 5 BehindCamera, 6 IllConditioned (coordinates too large against their spread).
--backend: auto (default), wasm or cpu: the float64 solver; webgpu: the WGSL kernels (float32, centred in
           float64 first). Exit codes: 0 solved (whatever the statuses), 1 failure, 2 bad arguments or input.`;

function nest(data: ArrayLike<number>, shape: number[]): unknown {
  if (shape.length === 1) return Array.from(data as ArrayLike<number>).slice(0, shape[0]);
  const stride = shape.slice(1).reduce((a, b) => a * b, 1);
  return Array.from({ length: shape[0] }, (_, i) => nest(Array.prototype.slice.call(data, i * stride, (i + 1) * stride), shape.slice(1)));
}

function pnpOutput(p: PnpProblemsJson, pose: ArrayLike<number>, status: ArrayLike<number>, gpu?: SolvedAsFloat32): Record<string, unknown> {
  const report = pnpReport(p, pose, status, gpu);
  return {
    pose: nest(pose, [p.B, 6]),
    status: Array.from(status),
    status_name: Array.from(status, (s) => pnpStatusName(s)),
    status_why: report.why,
    rms_px: report.rmsPx,
  };
}

/** On the CPU: the float64 solver on the JSON's float64 numbers, nothing rounded to float32. */
function runPnpFloat64(p: PnpProblemsJson): Record<string, unknown> {
  const { B, n } = p;
  const shape = { B, n, sharedPts3d: p.sharedPts3d, sharedK: p.sharedK };
  const problem = { pts2d: p.pts2d, pts3d: p.pts3d, K: p.K, weights: p.weights, ...shape };
  const fwd = solvePnpBatch({ ...problem, initPose: p.initPose, inputEps: kF64InputEps });
  const out = pnpOutput(p, fwd.pose, fwd.status);
  if (p.grad) {
    const g = pnpBackwardBatch({ ...problem, pose: fwd.pose, status: fwd.status, gradPose: p.grad });
    out.grad_pts2d = nest(g.gradPts2d, [B, n, 2]);
    out.grad_pts3d = nest(g.gradPts3d, p.sharedPts3d ? [n, 3] : [B, n, 3]);
    out.grad_K = nest(g.gradK, p.sharedK ? [3, 3] : [B, 3, 3]);
    if (g.gradWeights) out.grad_weights = nest(g.gradWeights, [B, n]);
  }
  return out;
}

const sR = new Float64Array(9);
const sJ = new Float64Array(9);

/**
 * --backend webgpu: the bpnp op on pts3d centred in float64 (X' = X - c). Its pose (r, t') becomes
 * t = t' - R c in float64; dL/dpose becomes dL/dpose' by the chain rule through that map: with
 * R(r + dr) = exp([Jl(r) dr]x) R(r), dt/dr = [R c]x Jl(r), so dL/dr' = dL/dr - Jl^T [R c]x dL/dt and
 * dL/dt' = dL/dt. c is a constant of the problem, so dL/dX = dL/dX' (docs/pnp-maths.md, "Normalisation").
 */
async function runPnpOp(p: PnpProblemsJson): Promise<Record<string, unknown>> {
  const { B, n } = p;
  const centred = centrePts3d(p);
  // Each problem's pixels about their own centroid, K moved with them (so K is per problem from here on).
  const centred2d = centrePts2d(p);
  const pts2d = tf.tensor3d(Float32Array.from(centred2d.pts2d), [B, n, 2]);
  const pts3dShape: number[] = p.sharedPts3d ? [n, 3] : [B, n, 3];
  const kShape: number[] = p.sharedK ? [3, 3] : [B, 3, 3];
  // Per problem, like K: each problem's points about its own centroid.
  const pts3d = tf.tensor3d(Float32Array.from(centred.pts3d), [B, n, 3]);
  const K = tf.tensor3d(Float32Array.from(centred2d.K), [B, 3, 3]);
  const scaled = p.weights ? scaleWeights(p.weights, B, n) : undefined;
  const weights = scaled ? tf.tensor2d(Float32Array.from(scaled.weights), [B, n]) : undefined;
  let initPose: tf.Tensor2D | undefined;
  if (p.initPose) {
    // The caller's start in the centred frame: t' = t + R c.
    const ip = Float64Array.from(p.initPose);
    for (let b = 0; b < B; b++) {
      so3Exp(sR, ip, 6 * b);
      for (let a = 0; a < 3; a++) ip[6 * b + 3 + a] += sR[3 * a] * centred.c[3 * b] + sR[3 * a + 1] * centred.c[3 * b + 1] + sR[3 * a + 2] * centred.c[3 * b + 2];
    }
    initPose = tf.tensor2d(Float32Array.from(ip), [B, 6]);
  }
  const { pose, status } = bpnp(pts2d, pts3d, K, { weights, initPose });
  const statusArr = await status.data();
  const poseArr = Float64Array.from(await pose.data());
  const rc = new Float64Array(3 * B);
  for (let b = 0; b < B; b++) {
    so3Exp(sR, poseArr, 6 * b);
    for (let a = 0; a < 3; a++) {
      rc[3 * b + a] = sR[3 * a] * centred.c[3 * b] + sR[3 * a + 1] * centred.c[3 * b + 1] + sR[3 * a + 2] * centred.c[3 * b + 2];
    }
  }
  const poseOut = poseArr.slice();
  for (let b = 0; b < B; b++) {
    // A failed problem keeps the op's all-zero pose, the convention of every status but Converged.
    if (poseArr.subarray(6 * b, 6 * b + 6).every((v) => v === 0)) continue;
    for (let a = 0; a < 3; a++) poseOut[6 * b + 3 + a] -= rc[3 * b + a];
  }
  const out = pnpOutput(p, poseOut, statusArr, { pts2d: centred2d.pts2d, pts3d: centred.pts3d });
  if (p.grad) {
    const gradC = Float64Array.from(p.grad);
    for (let b = 0; b < B; b++) {
      const gt = p.grad.subarray(6 * b + 3, 6 * b + 6);
      const x = rc[3 * b], y = rc[3 * b + 1], z = rc[3 * b + 2];
      // u = [R c]x dL/dt, then dL/dr' = dL/dr - Jl^T u.
      const u0 = y * gt[2] - z * gt[1], u1 = z * gt[0] - x * gt[2], u2 = x * gt[1] - y * gt[0];
      so3LeftJacobian(sJ, poseArr, 6 * b);
      for (let a = 0; a < 3; a++) gradC[6 * b + a] -= sJ[a] * u0 + sJ[3 + a] * u1 + sJ[6 + a] * u2;
    }
    const dy = tf.tensor2d(Float32Array.from(gradC), [B, 6]);
    const args: tf.Tensor[] = weights ? [pts2d, pts3d, K, weights] : [pts2d, pts3d, K];
    const f = (...xs: tf.Tensor[]) =>
      bpnp(xs[0] as tf.Tensor3D, xs[1] as tf.Tensor3D, xs[2] as tf.Tensor3D, { weights: xs[3] as tf.Tensor2D | undefined, initPose }).pose;
    const grads = tf.grads(f)(args, dy);
    out.grad_pts2d = nest(await grads[0].data(), [B, n, 2]);
    out.grad_pts3d = nest(sumOverBatch(await grads[1].data(), B, p.sharedPts3d), pts3dShape);
    out.grad_K = nest(sumOverBatch(centredGradK(await grads[2].data(), centred2d.c, B), B, p.sharedK), kShape);
    if (weights) {
      const gw = Float64Array.from(await grads[3].data());
      for (let j = 0; j < gw.length; j++) gw[j] *= scaled!.factor[Math.floor(j / n)];
      out.grad_weights = nest(gw, [B, n]);
    }
  }
  return out;
}

/** The converged problems' RMS reprojection errors in a few words: their median and the largest, naming
 * its problem (a converged problem far above the others is the one whose correspondences to check). */
function rmsSummary(result: Record<string, unknown>): string {
  const status = result.status as number[];
  const rms = result.rms_px as (number | null)[];
  const conv = status.flatMap((s, b) => (s === PnpStatus.Converged && rms[b] !== null ? [{ b, e: rms[b]! }] : []));
  if (conv.length === 0) return '';
  const worst = conv.reduce((a, c) => (c.e > a.e ? c : a));
  const px = (x: number) => `${x < 0.01 ? x.toExponential(1) : x.toFixed(2)} px`;
  return conv.length === 1 ? `; RMS reprojection error ${px(worst.e)}`
    : `; RMS reprojection error of the converged: median ${px(median(conv.map((c) => c.e)))}, largest ${px(worst.e)} (problem ${worst.b})`;
}

async function main(argv: string[]): Promise<number> {
  const values = parseFlags(argv, { in: { type: 'string' }, out: { type: 'string' }, backend: { type: 'string' } });
  if (!values.in) throw new UsageError('--in is required');
  if (!values.out) throw new UsageError('--out is required');
  const backendChoice = parseBackend(values.backend);
  const text = await readInputText(values.in, '--in', 'a problems JSON file');
  let problems: PnpProblemsJson;
  try {
    problems = parsePnpProblems(JSON.parse(text));
  } catch (e) {
    if (e instanceof SyntaxError && /\b(NaN|-?Infinity)\b/.test(text)) {
      throw new InputError(`--in ${values.in}: ${e.message} (JSON has no NaN or Infinity: write null for a value that is missing)`);
    }
    if (e instanceof PnpInputError || e instanceof SyntaxError) throw new InputError(`--in ${values.in}: ${e.message}`);
    throw e;
  }
  await prepareOutputFile(values.out, '--out', { extensions: ['.json'], inputs: [values.in] });
  const backend = await selectBackend(backendChoice);
  const t0 = performance.now();
  const result = backend === 'webgpu' ? await runPnpOp(problems) : runPnpFloat64(problems);
  const ms = performance.now() - t0;
  await writeFile(values.out, JSON.stringify(result));
  const status = result.status as number[];
  // Each status by name (Converged first), so that a failed input is not read as "not converged".
  const counts = new Map<number, number>();
  for (const st of status) counts.set(st, (counts.get(st) ?? 0) + 1);
  const byStatus = [...counts.entries()].sort((a, b) => a[0] - b[0]).map(([st, c]) => `${c} ${pnpStatusName(st)}`).join(', ');
  const solver = backend === 'webgpu' ? 'the WGSL kernels (webgpu)' : `the float64 solver (on the CPU; tfjs backend ${backend})`;
  console.log(`pnp: ${problems.B} problem${problems.B === 1 ? '' : 's'} of ${problems.n} points on ${solver}: ${byStatus}${rmsSummary(result)} (${ms.toFixed(1)} ms) -> ${values.out}`);
  return 0;
}

runMain(() => main(process.argv.slice(2)), kUsage, kHelp);
