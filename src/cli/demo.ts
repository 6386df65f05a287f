/**
 * `npm run demo -- pose|sfm|calib [--backend auto|webgpu|wasm|cpu] [--seed S] [--iterations N] [--every K]`
 *
 * Runs one of the BPnP paper's three experiments (src/demos) and prints its curve: iteration, loss and
 * the demo's accuracy measure every K iterations, then a final line with the accuracy reached.
 * Exit codes: 0 done, 1 failure, 2 bad arguments.
 */
import { createDemo, isDemoKind, kDefaultIterations, type AnyDemoStep } from '../demos/createDemo';
import { kIntrinsicNames } from '../demos/calibration';
import { kMaxSeed, parseBackend, parseCommandLine, parseInteger, runMain, selectBackend, UsageError } from './common';

const kUsage = 'usage: npm run demo -- pose|sfm|calib [--backend auto|webgpu|wasm|cpu] [--seed S] [--iterations N] [--every K]';

/** What each demo adds to its final line beyond its error measure. */
function details(step: AnyDemoStep): string {
  if ('intrinsics' in step) {
    return kIntrinsicNames.map((name, i) => `${name} ${step.intrinsics[i].toFixed(2)}`).join(', ');
  }
  if ('relativeError' in step) return `relative to the structure's radius ${(100 * step.relativeError).toFixed(3)}%`;
  return `projected-point error ${step.projectedError.toFixed(4)} px`;
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(argv, {
    backend: { type: 'string' }, seed: { type: 'string' }, iterations: { type: 'string' }, every: { type: 'string' },
  }, 1);
  if (positionals.length !== 1) throw new UsageError('expected one demo name');
  const kind = positionals[0];
  if (!isDemoKind(kind)) throw new UsageError(`unknown demo ${kind}`);
  const backendChoice = parseBackend(values.backend);
  const seed = parseInteger('seed', values.seed, 0, kMaxSeed) ?? 1;
  const iterations = parseInteger('iterations', values.iterations, 1) ?? kDefaultIterations[kind];
  const every = parseInteger('every', values.every, 1) ?? Math.max(1, Math.round(iterations / 20));
  const backend = await selectBackend(backendChoice);

  const demo = createDemo(kind, { seed });
  console.log(`demo ${kind} on ${backend}, seed ${seed}, ${iterations} iterations; error = ${demo.errorName}`);
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
    `${(ms / iterations).toFixed(1)} ms per iteration on ${backend}`);
  return 0;
}

runMain(() => main(process.argv.slice(2)), kUsage);
