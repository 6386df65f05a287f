/**
 * npm run demo -- pose|sfm|calib [--backend webgpu|cpu] [--seed S] [--iterations N] [--every K]
 *
 * Runs one of the BPnP paper's three experiments (src/demos) and prints its curve: iteration, loss and
 * the demo's accuracy measure every K iterations, then a final line with the accuracy reached.
 * Exit codes: 0 done, 2 bad arguments.
 */
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { createDemo, isDemoKind, kDefaultIterations, type AnyDemoStep } from '../demos';
import { kIntrinsicNames } from '../demos/calibration';
import { useCpuBackend } from '../kernels/setup';
import { useNodeWebgpu } from '../node/webgpu';

const usage = 'usage: npm run demo -- pose|sfm|calib [--backend webgpu|cpu] [--seed S] [--iterations N] [--every K]';

function fail(message: string): never {
  console.error(`demo: ${message}\n${usage}`);
  process.exit(2);
}

/** A non-negative integer option, or the default when absent. */
function intOption(name: string, value: string | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  const v = Number(value);
  if (!Number.isInteger(v) || v < min) fail(`--${name} must be an integer >= ${min}, got ${value}`);
  return v;
}

/** What each demo adds to its final line beyond its error measure. */
function details(step: AnyDemoStep): string {
  if ('intrinsics' in step) {
    return kIntrinsicNames.map((name, i) => `${name} ${step.intrinsics[i].toFixed(2)}`).join(', ');
  }
  if ('relativeError' in step) return `relative to the structure's radius ${(100 * step.relativeError).toFixed(3)}%`;
  return `projected-point error ${step.projectedError.toFixed(4)} px`;
}

const options = {
  backend: { type: 'string', default: 'webgpu' },
  seed: { type: 'string' },
  iterations: { type: 'string' },
  every: { type: 'string' },
} as const;

async function main(): Promise<void> {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof options; allowPositionals: true }>>;
  try {
    parsed = parseArgs({ options, allowPositionals: true });
  } catch (e) {
    fail((e as Error).message);
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 1) fail(`expected one demo name, got ${positionals.length ? positionals.join(' ') : 'none'}`);
  const kind = positionals[0];
  if (!isDemoKind(kind)) fail(`unknown demo ${kind}`);
  if (values.backend !== 'webgpu' && values.backend !== 'cpu') fail(`--backend must be webgpu or cpu, got ${values.backend}`);
  const seed = intOption('seed', values.seed, 1, 0);
  const iterations = intOption('iterations', values.iterations, kDefaultIterations[kind], 1);
  const every = intOption('every', values.every, Math.max(1, Math.round(iterations / 20)), 1);

  if (values.backend === 'webgpu') await useNodeWebgpu();
  else await useCpuBackend();

  const demo = createDemo(kind, { seed });
  console.log(`demo ${kind} on ${tf.getBackend()}, seed ${seed}, ${iterations} iterations; error = ${demo.errorName}`);
  console.log('iteration        loss       error  failedPnp');
  const t0 = performance.now();
  let last: AnyDemoStep | null = null;
  for (let i = 0; i < iterations; i++) {
    last = await demo.step();
    if (i % every === 0 || i === iterations - 1) {
      console.log(`${String(last.iteration).padStart(9)} ${last.loss.toExponential(4).padStart(11)} ${last.error.toPrecision(5).padStart(11)} ${String(last.failedPnp).padStart(10)}`);
    }
  }
  const ms = performance.now() - t0;
  demo.dispose();
  // The error of the last step is that before its update: the accuracy after `iterations - 1` updates.
  console.log(`final: ${demo.errorName} ${last!.error.toPrecision(5)} after ${iterations} iterations (${details(last!)}); ` +
    `${(ms / iterations).toFixed(1)} ms per iteration on ${tf.getBackend()}`);
  process.exit(0);
}

main().catch((e: unknown) => {
  console.error(`demo: ${(e as Error).stack ?? e}`);
  process.exit(1);
});
