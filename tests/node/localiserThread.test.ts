/**
 * The localiser trained on a second thread (`npm run train` on the CPU backends) is the same training
 * as on one thread: after a run, and after a run continued from a checkpoint into the thread, the
 * localiser's weights and Adam moments and the keypoint network's weights equal those of the
 * one-thread run bit for bit (both threads on wasm, deterministic on one core each). An error on the
 * thread ends the run with its message; a thread that cannot start its backend, or was stopped, says so
 * instead of leaving a step waiting.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { useCpuBackend } from '../../src/kernels/setup';
import { startLocaliserThread } from '../../src/node/localiserThread';
import type { Checkpoint } from '../../src/train/checkpoint';
import { TrainingEngine, type EngineOptions } from '../../src/train/engine';
import { trainableVariables } from '../../src/train/model';
import type { TrainConfig } from '../../src/train/config';
import type { LocaliserSteps } from '../../src/train/localiser';
import { fixtureData, tinyConfig } from '../train/fixtureData';

async function run(cfg: TrainConfig, opts: EngineOptions, data: Awaited<ReturnType<typeof fixtureData>>, stopAt = 0) {
  const e = new TrainingEngine(data, cfg, { finalEval: false, ...opts });
  const localiserLosses: number[] = [];
  e.on((ev) => {
    if (ev.type !== 'step') return;
    localiserLosses.push(ev.losses.localiser);
    if (ev.step === stopAt) e.stop();
  });
  await e.start();
  const ckpt = await e.checkpoint();
  const keypointNet = await Promise.all(trainableVariables(e.model).map(async (v) => Array.from(await v.data())));
  // what detection reads: the first thread's copy of the localiser
  const detectionWeights = (await e.localiser.getWeights()).map((w) => Array.from(w));
  e.dispose();
  return { ckpt, keypointNet, detectionWeights, localiserLosses };
}

const flat = (c: Checkpoint) => ({
  weights: c.localiser!.weights.map((w) => Array.from(w.values)),
  m: c.localiser!.optimizer.m.map((a) => Array.from(a)),
  v: c.localiser!.optimizer.v.map((a) => Array.from(a)),
  t: c.localiser!.optimizer.t,
});

describe('the localiser on a second thread', () => {
  beforeAll(async () => {
    await useCpuBackend('wasm');
  });

  it('trains exactly as on one thread, fresh and continued from a checkpoint', async () => {
    const cfg = tinyConfig({ optim: { steps: 6 } });
    const data = await fixtureData(cfg);
    const one = await run(cfg, {}, data);
    const two = await run(cfg, { localiserSteps: await startLocaliserThread('wasm', cfg.localiser, cfg.optim) }, data);
    expect(two.localiserLosses).toEqual(one.localiserLosses);
    expect(flat(two.ckpt)).toEqual(flat(one.ckpt));
    expect(two.detectionWeights).toEqual(flat(one.ckpt).weights);
    expect(two.keypointNet).toEqual(one.keypointNet);
    // The step changes the weights (a test of equality between two runs that never trained would pass).
    const fresh = new TrainingEngine(data, cfg, { finalEval: false });
    const before = (await fresh.localiser.getWeights()).map((w) => Array.from(w));
    fresh.dispose();
    expect(two.detectionWeights).not.toEqual(before);

    // 3 steps on one thread, then 3 more with the thread, equal 6 on one thread.
    const half = await run(cfg, {}, data, 3);
    expect(half.ckpt.step).toBe(3);
    const resumed = await run(cfg, { resume: half.ckpt, localiserSteps: await startLocaliserThread('wasm', cfg.localiser, cfg.optim) }, data);
    expect(flat(resumed.ckpt)).toEqual(flat(one.ckpt));
    expect(resumed.keypointNet).toEqual(one.keypointNet);
  }, 120_000);

  it('an error on the thread ends the run with its message (an error event, start() rejects)', async () => {
    const cfg = tinyConfig({ optim: { steps: 6 } });
    const steps = await startLocaliserThread('wasm', cfg.localiser, cfg.optim);
    let n = 0;
    // The third step sends a view of the wrong size: the thread's localiser throws, as any fault there would.
    const faulty: LocaliserSteps = {
      ...steps,
      trainStep: (views, lr, norm) => steps.trainStep(++n === 3 ? [{ ...views[0], image: new Float32Array(3) }] : views, lr, norm),
    };
    const e = new TrainingEngine(await fixtureData(cfg), cfg, { finalEval: false, localiserSteps: faulty });
    const errors: string[] = [];
    e.on((ev) => { if (ev.type === 'error') errors.push(`${ev.step}: ${ev.message}`); });
    await expect(e.start()).rejects.toThrow(/localiser view 0: image has 3 values/);
    expect(errors).toEqual([expect.stringMatching(/^2: localiser view 0: image has 3 values/)]);
    e.dispose();
    await expect(steps.getState()).rejects.toThrow(/stopped/);
  }, 60_000);

  it('a thread that cannot start its backend, or was stopped, rejects with the reason', async () => {
    const cfg = tinyConfig();
    await expect(startLocaliserThread('webgl' as never, cfg.localiser, cfg.optim)).rejects.toThrow(/could not initialise its webgl backend/);
    const steps = await startLocaliserThread('wasm', cfg.localiser, cfg.optim);
    steps.dispose();
    await expect(steps.getState()).rejects.toThrow(/stopped|released|closed/i);
  }, 60_000);
});
