/**
 * npm run pnp -- --in problems.json --out result.json [--backend webgpu|cpu]
 *
 * Solves a batch of PnP problems with the bpnp op and, where "grad" (dL/dpose [B][6]) is given, returns
 * the implicit gradients in the input's own shapes. Exit codes: 0 done, 2 bad arguments or input.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { bpnp } from '../ops/bpnp';
import { PnpStatus, pnpStatusName } from '../solver/status';
import { useNodeWebgpu } from '../node/webgpu';
import { parsePnpProblems, PnpInputError, type PnpProblemsJson } from './pnpInput';

const usage = 'usage: npm run pnp -- --in problems.json --out result.json [--backend webgpu|cpu]';

function fail(message: string): never {
  console.error(`pnp: ${message}`);
  process.exit(2);
}

function nest(data: ArrayLike<number>, shape: number[]): unknown {
  if (shape.length === 1) return Array.from(data as ArrayLike<number>).slice(0, shape[0]);
  const stride = shape.slice(1).reduce((a, b) => a * b, 1);
  return Array.from({ length: shape[0] }, (_, i) => nest(Array.prototype.slice.call(data, i * stride, (i + 1) * stride), shape.slice(1)));
}

async function runPnp(p: PnpProblemsJson): Promise<Record<string, unknown>> {
  const { B, n } = p;
  const pts2d = tf.tensor3d(p.pts2d, [B, n, 2]);
  const pts3dShape: number[] = p.sharedPts3d ? [n, 3] : [B, n, 3];
  const kShape: number[] = p.sharedK ? [3, 3] : [B, 3, 3];
  const pts3d = tf.tensor<tf.Rank>(p.pts3d, pts3dShape) as tf.Tensor2D | tf.Tensor3D;
  const K = tf.tensor<tf.Rank>(p.K, kShape) as tf.Tensor2D | tf.Tensor3D;
  const weights = p.weights ? tf.tensor2d(p.weights, [B, n]) : undefined;
  const initPose = p.initPose ? tf.tensor2d(p.initPose, [B, 6]) : undefined;
  const { pose, status } = bpnp(pts2d, pts3d, K, { weights, initPose });
  const statusArr = await status.data();
  const out: Record<string, unknown> = {
    pose: nest(await pose.data(), [B, 6]),
    status: Array.from(statusArr),
    status_name: Array.from(statusArr, (s) => pnpStatusName(s)),
  };
  if (p.grad) {
    const dy = tf.tensor2d(p.grad, [B, 6]);
    const args: tf.Tensor[] = weights ? [pts2d, pts3d, K, weights] : [pts2d, pts3d, K];
    const f = (...xs: tf.Tensor[]) =>
      bpnp(xs[0] as tf.Tensor3D, xs[1] as tf.Tensor2D, xs[2] as tf.Tensor2D, { weights: xs[3] as tf.Tensor2D | undefined, initPose }).pose;
    const grads = tf.grads(f)(args, dy);
    out.grad_pts2d = nest(await grads[0].data(), [B, n, 2]);
    out.grad_pts3d = nest(await grads[1].data(), pts3dShape);
    out.grad_K = nest(await grads[2].data(), kShape);
    if (weights) out.grad_weights = nest(await grads[3].data(), [B, n]);
  }
  return out;
}

async function main(): Promise<void> {
  let values: { in?: string; out?: string; backend?: string };
  try {
    ({ values } = parseArgs({ options: { in: { type: 'string' }, out: { type: 'string' }, backend: { type: 'string', default: 'webgpu' } } }));
  } catch (e) {
    fail(`${(e as Error).message}\n${usage}`);
  }
  if (!values.in) fail(`--in is required\n${usage}`);
  if (!values.out) fail(`--out is required\n${usage}`);
  if (values.backend !== 'webgpu' && values.backend !== 'cpu') fail(`--backend must be webgpu or cpu, got ${values.backend}`);
  let text: string;
  try {
    text = readFileSync(values.in, 'utf8');
  } catch (e) {
    fail(`cannot read ${values.in}: ${(e as Error).message}`);
  }
  let problems: PnpProblemsJson;
  try {
    problems = parsePnpProblems(JSON.parse(text));
  } catch (e) {
    if (e instanceof PnpInputError || e instanceof SyntaxError) fail(`${values.in}: ${e.message}`);
    throw e;
  }
  if (values.backend === 'webgpu') {
    await useNodeWebgpu();
  } else {
    await tf.setBackend('cpu');
  }
  const t0 = performance.now();
  const result = await runPnp(problems);
  const ms = performance.now() - t0;
  writeFileSync(values.out, JSON.stringify(result));
  const status = result.status as number[];
  const converged = status.filter((s) => s === PnpStatus.Converged).length;
  console.log(`pnp: ${problems.B} problems of ${problems.n} points on ${tf.getBackend()}: ${converged} converged, ` +
    `${problems.B - converged} not (${ms.toFixed(1)} ms) -> ${values.out}`);
  process.exit(0);
}

main().catch((e: unknown) => {
  console.error(`pnp: ${(e as Error).stack ?? e}`);
  process.exit(1);
});
