/**
 * `npm run bench:pnp [-- --quick] [--B 1024] [--n 8] [--impls wgsl,...] [--out <file.json|folder/>]`: batched PnP
 * throughput, forward and forward+backward, for the WGSL kernels (the bpnp op on tfjs's webgpu backend), the bpnp op
 * on tfjs's cpu backend (the float64 solver, with the tensors' conversions), the float64 solver called directly
 * (src/solver), and loops over OpenCV.js solvePnP ITERATIVE and SQPnP (forward only, one problem per call
 * as the public BPnP code does; SQPnP alone, without a refinement), all in one run on one machine, so the
 * ratios compare like with like. --B and --n run one configuration alone (each may be a comma list); --impls
 * times only the implementations it names (at B = 10^6 a CPU implementation takes minutes a call), and a ratio
 * whose reference row was not timed is '-'. Prints a table and writes bench/results/pnp-<device>[-B<B>-n<n>][-<impls>].json
 * (or --out: a .json file, or a folder to write that name in). Arguments are checked before the run
 * (bench/args.ts): exit 2 naming the flag.
 */
import * as tf from '@tensorflow/tfjs';
import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { useBackend } from '../src/node/backend';
import { adapterName, useNodeWebgpu } from '../src/node/webgpu';
import { bpnp } from '../src/ops/bpnp';
import { pnpBackwardBatch, solvePnpBatch } from '../src/solver/pnp';
import { makeProblems, type Problems } from '../src/synthetic/pnpProblems';
import { InputError, prepareOutputFile, runMain } from '../src/cli/args';
import { benchOutPath, kPnpBenchUsage, parsePnpBenchArgs, prepareBenchOut, refuseForeignResults, type PnpImpl } from './args';
import { deviceSlug } from './device';
import { loadOpenCv, solvePnpOpenCv, type OpenCv } from './opencv';

/** Repeat a measurement until this much time has been spent (at least once, at most kMaxReps): 1500 ms, 300 with --quick. */
let minMs = 1500;
const kMaxReps = 20;

interface Timing {
  /** median wall time of one call, ms */
  ms: number;
  reps: number;
}

async function time(fn: () => Promise<void> | void): Promise<Timing> {
  // Warm-up: pipeline compilation, allocation, and the JIT, which for the first implementation measured needs
  // more than one call (its first row's forward took longer than its forward+backward measured after it).
  for (let i = 0; i < 3; i++) await fn();
  const samples: number[] = [];
  const start = performance.now();
  while (samples.length < kMaxReps && (samples.length === 0 || performance.now() - start < minMs)) {
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
  impl: PnpImpl;
  forward: Timing;
  forwardBackward?: Timing;
}

/** The bpnp op on the current tfjs backend: 'wgsl' on webgpu, 'op-cpu' on cpu (the float64 solver). */
async function benchOp(p: Problems, gradPose: Float32Array, impl: 'wgsl' | 'op-cpu'): Promise<Row> {
  const { B, n } = p;
  const want = impl === 'wgsl' ? 'webgpu' : 'cpu';
  if (tf.getBackend() !== want) throw new Error(`bench:pnp: the ${impl} row needs tfjs's ${want} backend, and ${tf.getBackend()} is active`);
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
  return { B, n, impl, forward, forwardBackward };
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

/** Plain SQPnP (Terzakis & Lourakis, ECCV 2020), OpenCV's fastest global solver: one call per problem. */
async function benchSqpnp(cv: OpenCv, p: Problems): Promise<Row> {
  const { B, n } = p;
  const dist = cv.matFromArray(1, 4, cv.CV_64F, [0, 0, 0, 0]);
  const rvec = new cv.Mat(), tvec = new cv.Mat();
  const obj = cv.matFromArray(n, 3, cv.CV_64F, p.pts3d);
  const cam = cv.matFromArray(3, 3, cv.CV_64F, p.K);
  const forward = await time(() => {
    for (let b = 0; b < B; b++) {
      const img = cv.matFromArray(n, 2, cv.CV_64F, p.pts2d.subarray(2 * n * b, 2 * n * (b + 1)));
      cv.solvePnP(obj, img, cam, dist, rvec, tvec, false, cv.SOLVEPNP_SQPNP);
      img.delete();
    }
  });
  for (const m of [dist, rvec, tvec, obj, cam]) m.delete();
  return { B, n, impl: 'opencv-sqpnp', forward };
}

const fmtMs = (t?: Timing) => (t ? t.ms.toFixed(t.ms < 10 ? 2 : 1) : '-');
const fmtRate = (B: number, t?: Timing) => (t ? Math.round((1000 * B) / t.ms).toLocaleString('en-US') : '-');

async function main(argv: string[]): Promise<number> {
  const { quick, batches: kBatches, points: kPoints, impls: chosen, out: outArg, sizes } = parsePnpBenchArgs(argv);
  if (quick) minMs = 300;
  // Where the results go is settled before the run: a bad --out is an input error, not a lost benchmark.
  const outTo = await prepareBenchOut(outArg);
  // WebGPU and OpenCV.js only where a chosen row needs them: a run of the CPU rows runs where no adapter is.
  if (chosen.includes('wgsl')) {
    await useNodeWebgpu().catch((e: unknown) => {
      throw new InputError(`--impls ${chosen.join(',')}: wgsl needs WebGPU: ${e instanceof Error ? e.message : String(e)} (leave wgsl out to run the CPU rows)`);
    });
  }
  const cv = chosen.includes('opencv') || chosen.includes('opencv-sqpnp') ? await loadOpenCv() : undefined;
  const machine = {
    cpu: `${cpus()[0]?.model ?? 'unknown CPU'} x ${cpus().length}`,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    adapter: await adapterName(),
    node: process.version,
    date: new Date().toISOString(),
  };
  const out = benchOutPath(outTo, join(dirname(fileURLToPath(import.meta.url)), 'results'), `pnp-${deviceSlug(machine.adapter)}${quick ? '-quick' : ''}${sizes}.json`);
  // Results of before carry no benchmark field: their machine, rows and table tell them.
  refuseForeignResults(out, 'pnp', (j) => j.benchmark === 'pnp' || (j.benchmark === undefined && 'machine' in j && 'rows' in j && 'table' in j));
  console.log(`PnP benchmark on ${machine.cpu}; WebGPU adapter: ${machine.adapter}`);
  const rows: Row[] = [];
  for (const n of kPoints) {
    for (const B of kBatches) {
      const p = makeProblems({ B, n, noisePx: 1, seed: 1000 + B + n });
      const gradPose = Float64Array.from({ length: 6 * B }, (_, i) => Math.sin(i));
      const impls: Record<PnpImpl, () => Promise<Row>> = {
        'op-cpu': async () => {
          await useBackend('cpu');
          return benchOp(p, Float32Array.from(gradPose), 'op-cpu');
        },
        float64: () => benchFloat64(p, gradPose),
        opencv: () => benchOpenCv(cv!, p),
        'opencv-sqpnp': () => benchSqpnp(cv!, p),
        wgsl: async () => {
          // useNodeWebgpu starts the backend once; the cpu rows above switched away from it since.
          await useNodeWebgpu();
          await tf.setBackend('webgpu');
          return benchOp(p, Float32Array.from(gradPose), 'wgsl');
        },
      };
      for (const impl of chosen) {
        const row = await impls[impl]();
        rows.push(row);
        process.stderr.write(`  B=${B} n=${n} ${row.impl}: ${fmtMs(row.forward)} ms forward\n`);
      }
    }
  }
  const table = rows.map((r) => {
    const cvRow = rows.find((c) => c.impl === 'opencv' && c.B === r.B && c.n === r.n);
    const sqRow = rows.find((c) => c.impl === 'opencv-sqpnp' && c.B === r.B && c.n === r.n);
    // A reference --impls left out has no ratio.
    const vs = (ref: Row | undefined, t?: Timing) => (ref && t ? (ref.forward.ms / t.ms).toFixed(2) : '-');
    return {
      B: r.B, n: r.n, impl: r.impl,
      'fwd ms': fmtMs(r.forward), 'fwd problems/s': fmtRate(r.B, r.forward),
      'fwd+bwd ms': fmtMs(r.forwardBackward), 'fwd+bwd problems/s': fmtRate(r.B, r.forwardBackward),
      'fwd+bwd vs ITERATIVE fwd': vs(cvRow, r.forwardBackward), 'fwd+bwd vs SQPnP fwd': vs(sqRow, r.forwardBackward),
    };
  });
  console.table(table);
  await prepareOutputFile(out, '--out');
  const note = 'median wall time per call; wgsl timings end with one readback of the results; op-cpu is the bpnp op on ' +
    "tfjs's cpu backend (the float64 solver plus tensor conversions); opencv-sqpnp is SQPnP alone, without refinement";
  writeFileSync(out, JSON.stringify({ benchmark: 'pnp', machine, note, argv, rows, table }, null, 2) + '\n');
  console.log(`wrote ${out}`);
  return 0;
}

runMain(() => main(process.argv.slice(2)), kPnpBenchUsage);
