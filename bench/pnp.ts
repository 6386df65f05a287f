/**
 * `npm run bench:pnp [-- --quick]`: batched PnP throughput, forward and forward+backward, for the WGSL
 * kernels (through the bpnp op on tfjs's webgpu backend), the float64 reference (src/solver) and a loop
 * over OpenCV.js solvePnP ITERATIVE (forward only, one problem per call as the public BPnP code does), all
 * in one run on one machine, so the ratios compare like with like. Prints a table and writes
 * bench/results/pnp-<device>.json.
 */
import * as tf from '@tensorflow/tfjs';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { adapterName, useNodeWebgpu } from '../src/node/webgpu';
import { bpnp } from '../src/ops/bpnp';
import { pnpBackwardBatch, solvePnpBatch } from '../src/solver/pnp';
import { makeProblems, type Problems } from '../tests/helpers/problems';
import { deviceSlug } from './device';
import { loadOpenCv, solvePnpOpenCv, type OpenCv } from './opencv';

const quick = process.argv.includes('--quick');
const kBatches = quick ? [1, 64, 1024] : [1, 64, 1024, 16384];
const kPoints = [8, 64];
/** Repeat a measurement until this much time has been spent (at least once, at most kMaxReps). */
const kMinMs = quick ? 300 : 1500;
const kMaxReps = 20;

interface Timing {
  /** median wall time of one call, ms */
  ms: number;
  reps: number;
}

async function time(fn: () => Promise<void> | void): Promise<Timing> {
  await fn(); // warm-up: pipeline compilation, JIT, allocation
  const samples: number[] = [];
  const start = performance.now();
  while (samples.length < kMaxReps && (samples.length === 0 || performance.now() - start < kMinMs)) {
    const t0 = performance.now();
    await fn();
    samples.push(performance.now() - t0);
  }
  samples.sort((a, b) => a - b);
  return { ms: samples[samples.length >> 1], reps: samples.length };
}

interface Row {
  B: number;
  n: number;
  impl: 'wgsl' | 'float64' | 'opencv';
  forward: Timing;
  forwardBackward?: Timing;
}

async function benchWgsl(p: Problems, gradPose: Float32Array): Promise<Row> {
  const { B, n } = p;
  const pts2d = tf.tensor3d(Float32Array.from(p.pts2d), [B, n, 2]);
  const pts3d = tf.tensor2d(Float32Array.from(p.pts3d), [n, 3]);
  const K = tf.tensor2d(Float32Array.from(p.K), [3, 3]);
  const dPose = tf.tensor2d(gradPose, [B, 6]);
  const grad = tf.grads((x2: tf.Tensor, x3: tf.Tensor, k: tf.Tensor) => bpnp(x2 as tf.Tensor3D, x3 as tf.Tensor2D, k as tf.Tensor2D).pose);
  // One readback per call ends the timing: the GPU work is done when its results are on the CPU.
  const forward = await time(async () => {
    const { pose, status } = bpnp(pts2d, pts3d, K);
    await pose.data();
    tf.dispose([pose, status]);
  });
  const forwardBackward = await time(async () => {
    const g = grad([pts2d, pts3d, K], dPose);
    await Promise.all(g.map((t) => t.data()));
    tf.dispose(g);
  });
  tf.dispose([pts2d, pts3d, K, dPose]);
  return { B, n, impl: 'wgsl', forward, forwardBackward };
}

async function benchFloat64(p: Problems, gradPose: Float64Array): Promise<Row> {
  const forward = await time(() => void solvePnpBatch(p));
  const forwardBackward = await time(() => {
    const out = solvePnpBatch(p);
    pnpBackwardBatch({ ...p, pose: out.pose, status: out.status, gradPose });
  });
  return { B: p.B, n: p.n, impl: 'float64', forward, forwardBackward };
}

async function benchOpenCv(cv: OpenCv, p: Problems): Promise<Row> {
  const { B, n } = p;
  const forward = await time(() => {
    for (let b = 0; b < B; b++) solvePnpOpenCv(cv, 'iterative', p.pts2d.subarray(2 * n * b, 2 * n * (b + 1)), p.pts3d, p.K, n);
  });
  return { B, n, impl: 'opencv', forward };
}

const fmtMs = (t?: Timing) => (t ? t.ms.toFixed(t.ms < 10 ? 2 : 1) : '-');
const fmtRate = (B: number, t?: Timing) => (t ? Math.round((1000 * B) / t.ms).toLocaleString('en-US') : '-');

async function main(): Promise<void> {
  await useNodeWebgpu();
  const cv = await loadOpenCv();
  const machine = {
    cpu: `${cpus()[0]?.model ?? 'unknown CPU'} x ${cpus().length}`,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    adapter: await adapterName(),
    node: process.version,
    date: new Date().toISOString(),
  };
  console.log(`PnP benchmark on ${machine.cpu}; WebGPU adapter: ${machine.adapter}`);
  const rows: Row[] = [];
  for (const n of kPoints) {
    for (const B of kBatches) {
      const p = makeProblems({ B, n, noisePx: 1, seed: 1000 + B + n });
      const gradPose = Float64Array.from({ length: 6 * B }, (_, i) => Math.sin(i));
      for (const row of [await benchWgsl(p, Float32Array.from(gradPose)), await benchFloat64(p, gradPose), await benchOpenCv(cv, p)]) {
        rows.push(row);
        process.stderr.write(`  B=${B} n=${n} ${row.impl}: ${fmtMs(row.forward)} ms forward\n`);
      }
    }
  }
  const table = rows.map((r) => {
    const cvRow = rows.find((c) => c.impl === 'opencv' && c.B === r.B && c.n === r.n)!;
    const vsOpenCv = (t?: Timing) => (t ? (cvRow.forward.ms / t.ms).toFixed(2) : '-');
    return {
      B: r.B, n: r.n, impl: r.impl,
      'fwd ms': fmtMs(r.forward), 'fwd problems/s': fmtRate(r.B, r.forward),
      'fwd+bwd ms': fmtMs(r.forwardBackward), 'fwd+bwd problems/s': fmtRate(r.B, r.forwardBackward),
      'fwd vs OpenCV fwd': vsOpenCv(r.forward), 'fwd+bwd vs OpenCV fwd': vsOpenCv(r.forwardBackward),
    };
  });
  console.table(table);
  const out = join(dirname(fileURLToPath(import.meta.url)), 'results', `pnp-${deviceSlug(machine.adapter)}${quick ? '-quick' : ''}.json`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify({ machine, note: 'median wall time per call; wgsl timings end with one readback of the results', rows, table }, null, 2) + '\n');
  console.log(`wrote ${out}`);
}

main().then(() => process.exit(0), (e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
