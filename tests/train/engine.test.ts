/**
 * The training engine on the cpu backend: the tiny config learns on the fixture (loss falls) with a
 * flat tensor count, the pose loss's gradient reaches the first convolution, the split timing's
 * surrogate gives the fused tape's loss and norm (every gradient: engineStep.test.ts), a stop from another
 * task is seen between steps, stop -> checkpoint -> resume equals an uninterrupted run bit for bit, and a
 * network with stride-2 heatmaps learns and saves as such.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { useCpuBackend } from '../../src/kernels/setup';
import { checkpointFromFiles, checkpointToFiles } from '../../src/train/checkpoint';
import { heatmapSide } from '../../src/train/config';
import { TrainingEngine, type EngineEvent } from '../../src/train/engine';
import { projectKeypoints } from '../../src/train/batch';
import { gaussianTargets } from '../../src/train/heatmapTargets';
import { networkTerms, poseTerm } from '../../src/train/loss';
import { buildModel, normalise, runModel, trainableVariables } from '../../src/train/model';
import { exportEngine, kPoselabJson, importBundle } from '../../src/train/bundle';
import { evaluateBundle } from '../../src/train/bundleRuns';
import { evaluate, type EvalResult } from '../../src/train/evaluate';
import { bundlePredictor, enginePredictor, predictImages, type Predictor } from '../../src/train/predict';
import { so3Log } from '../../src/solver/so3';
import { fixtureData, tinyConfig } from './fixtureData';

async function weightsOf(e: TrainingEngine): Promise<Float32Array[]> {
  return Promise.all(trainableVariables(e.model).map(async (v) => Float32Array.from(await v.data())));
}

// Both CPU paths: tfjs's cpu backend and wasm, each with PoseLab's convolution gradients.
for (const backend of ['cpu', 'wasm'] as const) describe(`TrainingEngine (${backend})`, () => {
  beforeAll(async () => {
    await useCpuBackend(backend);
  });

  it('a batch read ahead that fails is the run\'s error at its step, never an unhandled rejection', async () => {
    const cfg = tinyConfig({ optim: { steps: 4 } });
    const data = await fixtureData(cfg);
    const { TrainBatches } = await import('../../src/train/trainBatches');
    const own = new TrainBatches(data, cfg);
    // Step 1's batch is read while step 0 computes; it fails at once, long before step 1 awaits it.
    const e = new TrainingEngine(data, cfg, { finalEval: false, batches: { load: (step) => (step === 0 ? own.load(0) : Promise.reject(new Error('the batches\' thread exited (code 3)'))) } });
    const steps: number[] = [];
    e.on((ev) => { if (ev.type === 'step') steps.push(ev.step); });
    await expect(e.start()).rejects.toThrow('the batches\' thread exited (code 3)');
    expect(steps).toEqual([1]);
    e.dispose();
  });

  it('tiny trains on the fixture: the loss falls and the tensor count stays flat (step 3 = step 10 = step 45)', async () => {
    // With the weight average kept: its update makes no tensor either.
    const cfg = tinyConfig({ loss: { warmupSteps: 15, betaRampSteps: 15 }, optim: { steps: 45, emaDecay: 0.9 } });
    const e = new TrainingEngine(await fixtureData(cfg), cfg, { finalEval: false });
    const totals: number[] = [];
    const tensors = new Map<number, number>();
    const events: EngineEvent['type'][] = [];
    e.on((ev) => {
      events.push(ev.type);
      if (ev.type !== 'step') return;
      totals.push(ev.losses.total);
      expect(Number.isFinite(ev.losses.total) && Number.isFinite(ev.gradNorm)).toBe(true);
      if (ev.step > 15) expect(ev.losses.pose).toBeGreaterThan(0);
      if ([3, 10, 45].includes(ev.step)) tensors.set(ev.step, tf.memory().numTensors);
    });
    const r = await e.start();
    expect(r).toMatchObject({ step: 45, reason: 'finished' });
    expect(events[0]).toBe('started');
    expect(events.at(-1)).toBe('done');
    const mean = (a: number[]) => a.reduce((s, x) => s + x, 0) / a.length;
    // first 5 steps around 3, last 5 around 1 in practice
    expect(mean(totals.slice(-5))).toBeLessThan(0.6 * mean(totals.slice(0, 5)));
    expect(tensors.get(10)).toBe(tensors.get(3));
    expect(tensors.get(45)).toBe(tensors.get(3));
    e.dispose();
  });

  it('heatmapStride 2: heatmaps at half the input side, the heatmap loss falls, the bundle says stride 2', async () => {
    const cfg = tinyConfig({ model: { heatmapStride: 2 }, loss: { warmupSteps: 15, betaRampSteps: 15 }, optim: { steps: 45 } });
    const model = buildModel(cfg.model, 5, cfg.seed);
    const S = cfg.model.inputPx;
    const out = runModel(model, tf.zeros([1, S, S, 3]) as tf.Tensor4D);
    expect(out.logits.shape).toEqual([1, S / 2, S / 2, 5]);
    expect(out.stride).toBe(2);
    out.logits.dispose();
    out.confidence?.dispose();
    model.dispose();
    const e = new TrainingEngine(await fixtureData(cfg), cfg, { finalEval: false });
    const totals: number[] = [];
    e.on((ev) => { if (ev.type === 'step') totals.push(ev.losses.heatmap); });
    await e.start();
    const mean = (a: number[]) => a.reduce((s, x) => s + x, 0) / a.length;
    // Measured: 3.21 -> 2.38 (cpu), 3.20 -> 2.22 (wasm): four times the cells of stride 4 start it higher.
    expect(mean(totals.slice(-5))).toBeLessThan(0.8 * mean(totals.slice(0, 5)));
    const files = await exportEngine(e);
    const loaded = await importBundle(files);
    expect(loaded.meta.outputs.stride).toBe(2);
    expect(loaded.model.outputs[0].shape).toEqual([null, S / 2, S / 2, 5]);
    // A poselab.json whose stride disagrees with its network is refused, naming the field.
    const meta = JSON.parse(new TextDecoder().decode(files.get(kPoselabJson)));
    const wrong = new Map(files).set(kPoselabJson, new TextEncoder().encode(JSON.stringify({ ...meta, outputs: { ...meta.outputs, stride: 4 } })));
    await expect(importBundle(wrong)).rejects.toThrow('poselab.json outputs.stride = 4, but the model\'s 16-cell heatmaps of a 32 px input are at stride 2');
    loaded.model.dispose();
    loaded.localiser?.dispose();
    e.dispose();
  });

  it('runs started, finished and disposed one after another leave no tensor behind', async () => {
    const cfg = tinyConfig({ loss: { warmupSteps: 1, betaRampSteps: 1 }, optim: { steps: 3 } });
    const data = await fixtureData(cfg);
    const before = tf.memory().numTensors;
    for (let run = 0; run < 4; run++) {
      // The last runs keep a weight average: its copy of the network goes with the engine too.
      const e = new TrainingEngine(data, { ...cfg, optim: { ...cfg.optim, emaDecay: run < 2 ? 0 : 0.5 } }, { finalEval: true });
      await e.start();
      e.dispose();
      expect(tf.memory().numTensors).toBe(before);
    }
  });

  it('initialisation is seeded: the same seed gives the same weights in every layer, another seed others', () => {
    const cfg = tinyConfig();
    const flat = (seed: number) => {
      const m = buildModel(cfg.model, 5, seed);
      const w = trainableVariables(m).filter((v) => v.shape.length === 4).map((v) => Array.from(v.dataSync()));
      m.dispose();
      return w;
    };
    const a = flat(0);
    expect(flat(0)).toEqual(a);
    const b = flat(1);
    a.forEach((w, i) => expect(b[i]).not.toEqual(w));
  });

  it('the pose loss alone sends finite, non-zero gradients to the first convolution and the confidence head', async () => {
    const cfg = tinyConfig();
    const data = await fixtureData(cfg);
    const model = buildModel(cfg.model, 5, cfg.seed);
    const B = 3;
    const S = cfg.model.inputPx;
    const samples = await Promise.all([0, 1, 2].map((i) => data.train(i, i, 0)));
    const img = new Float32Array(B * S * S * 3);
    const kCrop = new Float32Array(B * 9);
    const pose = new Float32Array(B * 6);
    const kp = new Float32Array(B * 5 * 2);
    samples.forEach((s, b) => {
      img.set(s.image, b * S * S * 3);
      kCrop.set(s.kCrop, 9 * b);
      pose.set(so3Log(new Float64Array(3), s.rM2c), 6 * b);
      pose.set(s.tM2cMm, 6 * b + 3);
      kp.set(projectKeypoints(data.object.keypointsMm, s.rM2c, s.tM2cMm, s.kCrop), 10 * b);
    });
    const H = heatmapSide(cfg.model);
    const batch = {
      kpGtPx: tf.tensor3d(kp, [B, 5, 2]),
      targets: tf.tensor4d(gaussianTargets(kp, B, 5, H, 1, 4), [B, H, H, 5]),
      kCrop: tf.tensor3d(kCrop, [B, 3, 3]),
      poseGt: tf.tensor2d(pose, [B, 6]),
    };
    const points = { keypointsMm: tf.tensor2d(Float32Array.from(data.object.keypointsMm), [5, 3]), posePointsMm: tf.tensor2d(Float32Array.from(data.object.keypointsMm), [5, 3]) };
    const x = normalise(tf.tensor4d(img, [B, S, S, 3]), cfg.data.mean, cfg.data.std);
    const vars = trainableVariables(model);
    const { value, grads } = tf.variableGrads(() => {
      const o = runModel(model, x);
      return poseTerm(networkTerms(o, batch).kpPx, o.confidence, batch, points, cfg.loss).loss;
    }, vars);
    expect(value.dataSync()[0]).toBeGreaterThan(0);
    const stem = model.getLayer('stem').getWeights()[0];
    const gStem = grads[(stem as tf.Variable).name];
    expect(gStem.shape).toEqual([3, 3, 3, cfg.model.width]);
    const g = gStem.dataSync();
    expect(g.every(Number.isFinite)).toBe(true);
    expect(Math.max(...g.map(Math.abs))).toBeGreaterThan(1e-8);
    const conf = model.getLayer('confidence_logits').getWeights()[0];
    expect(Math.max(...grads[(conf as tf.Variable).name].dataSync().map(Math.abs))).toBeGreaterThan(0);
    model.dispose();
  });

  it('split timing (network, PnP, surrogate) gives the same loss and gradient norm as one fused tape', async () => {
    const cfg = tinyConfig({ loss: { warmupSteps: 0, betaRampSteps: 0, betaMax: 1 }, optim: { steps: 1 } });
    const data = await fixtureData(cfg);
    const run = async (timing: 'split' | 'fused') => {
      const e = new TrainingEngine(data, cfg, { timePnpEvery: timing === 'split' ? 1 : 0, finalEval: false });
      let step: Extract<EngineEvent, { type: 'step' }> | undefined;
      e.on((ev) => { if (ev.type === 'step') step = ev; });
      await e.start();
      e.dispose();
      return step!;
    };
    const split = await run('split');
    const fused = await run('fused');
    expect(split.losses.pose).toBeGreaterThan(0);
    expect(split.losses.total).toBeCloseTo(fused.losses.total, 5);
    expect(split.gradNorm / fused.gradNorm).toBeCloseTo(1, 4);
    expect(split.pnpMs).toBeGreaterThan(0);
    expect(fused.pnpMs).toBeNaN();
  });

  it('timePnpEvery: every n-th step with the pose loss is timed in parts, the others run one tape (pnpMs NaN)', async () => {
    const cfg = tinyConfig({ loss: { warmupSteps: 2, betaRampSteps: 2, betaMax: 1 }, optim: { steps: 9 } });
    const e = new TrainingEngine(await fixtureData(cfg), cfg, { timePnpEvery: 3, finalEval: false });
    const pnpMs: number[] = [];
    e.on((ev) => { if (ev.type === 'step') pnpMs.push(ev.pnpMs); });
    await e.start();
    e.dispose();
    // Steps 0 and 1 (events 1 and 2) are before the pose loss: 0. Then steps 3 and 6 are timed.
    expect(pnpMs.slice(0, 2)).toEqual([0, 0]);
    expect(pnpMs.map((ms, i) => (i < 2 ? 'off' : Number.isNaN(ms) ? 'fused' : ms > 0 ? 'timed' : String(ms)))).toEqual(
      ['off', 'off', 'fused', 'timed', 'fused', 'fused', 'timed', 'fused', 'fused']);
  });

  it('a stop() from another task of the event loop (a worker message, a signal) ends the run between steps', async () => {
    const cfg = tinyConfig({ optim: { steps: 60 } });
    const e = new TrainingEngine(await fixtureData(cfg), cfg, { finalEval: false });
    // Not from the listener itself (that runs inside the step): from a timer, as a message or a signal
    // reaches the host. Each step takes far longer than the timer's 1 ms.
    e.on((ev) => { if (ev.type === 'step' && ev.step === 1) setTimeout(() => e.stop(), 0); });
    const r = await e.start();
    e.dispose();
    expect(r.reason).toBe('stopped');
    expect(r.step, 'steps taken before the stop was seen').toBeLessThanOrEqual(3);
  });

  it('the weight average follows the trained weights as TensorFlow\'s ExponentialMovingAverage does; evaluation and export read it', async () => {
    // 0.3: the warm-up term (1 + n) / (10 + n) is below it for n < 3 and above it after, so both are used.
    const decay = 0.3;
    const cfg = tinyConfig({ optim: { steps: 6, emaDecay: decay } });
    const e = new TrainingEngine(await fixtureData(cfg), cfg, { finalEval: false });
    expect(e.inferenceModel).not.toBe(e.model);
    // The float64 reference, from the weights before the first step and after each.
    let avg = (await weightsOf(e)).map((w) => Float64Array.from(w));
    e.on((ev) => {
      if (ev.type !== 'step') return;
      const d = Math.min(decay, (1 + ev.step) / (10 + ev.step));
      const w = trainableVariables(e.model).map((v) => v.dataSync());
      avg = avg.map((a, i) => a.map((x, j) => d * x + (1 - d) * w[i][j]));
    });
    await e.start();
    const raw = await weightsOf(e);
    const got = await Promise.all(trainableVariables(e.inferenceModel).map(async (v) => Float32Array.from(await v.data())));
    let err = 0, moved = 0;
    got.forEach((g, i) => g.forEach((x, j) => {
      err = Math.max(err, Math.abs(x - avg[i][j]));
      moved = Math.max(moved, Math.abs(raw[i][j] - avg[i][j]));
    }));
    expect(err).toBeLessThan(1e-6);
    expect(moved, 'the average is not the trained weights').toBeGreaterThan(1e3 * err);
    // Export: the bundle's network is the average, its checkpoint keeps the trained weights and the average.
    const b = await importBundle(await exportEngine(e, { withCheckpoint: true }));
    const bundled = await Promise.all(trainableVariables(b.model).map(async (v) => Float32Array.from(await v.data())));
    bundled.forEach((w, i) => expect(Array.from(w)).toEqual(Array.from(got[i])));
    b.checkpoint!.weights.forEach((w, i) => expect(Array.from(w.values)).toEqual(Array.from(raw[i])));
    b.checkpoint!.average!.forEach((w, i) => expect(Array.from(w)).toEqual(Array.from(got[i])));
    // Evaluation reads the average: its poses are the bundle's, not the trained network's.
    const posesOf = (r: EvalResult) => r.instances.map((x) => [...x.R, ...x.tMm]);
    const data = await fixtureData(cfg);
    const ev = posesOf(await e.evaluate(0));
    expect(ev).toEqual(posesOf(await evaluateBundle(b, data, { crops: 'detected' })));
    const crops = { from: 'detected', localiser: e.localiser.model, minScore: cfg.localiser.minScore } as const;
    const trained = posesOf(await evaluate(e.model, data, { norm: cfg.data, batchSize: cfg.optim.batchSize, crops }));
    expect(trained).not.toEqual(ev);
    // The page's predictions on a photo (Try-it, from the live engine) are the exported bundle's.
    const photo = { image: { widthPx: 80, heightPx: 60, rgba: Uint8Array.from({ length: 80 * 60 * 4 }, (_, i) => (i * 37) % 251) }, kPx: [90, 0, 40, 0, 90, 30, 0, 0, 1] };
    const keypointsOf = async (p: Predictor) => Array.from((await predictImages(p, [photo]))[0].keypointsImagePx);
    expect(await keypointsOf(enginePredictor(e))).toEqual(await keypointsOf(bundlePredictor(b)));
    b.model.dispose();
    b.localiser?.dispose();
    // A checkpoint without an average (a run that kept none) starts the average at its weights, not at the seeded start.
    const plain = await e.checkpoint();
    delete plain.average;
    const resumed = new TrainingEngine(data, cfg, { resume: plain, finalEval: false });
    const started = await Promise.all(trainableVariables(resumed.inferenceModel).map(async (v) => Array.from(await v.data())));
    expect(started).toEqual(raw.map((w) => Array.from(w)));
    resumed.dispose();
    e.dispose();
  });

  it('pause, resume, stop; a run continued from its checkpoint equals the uninterrupted run (weights and their average equal)', async () => {
    const cfg = tinyConfig({ optim: { steps: 8, emaDecay: 0.9 } });
    const data = await fixtureData(cfg);
    const whole = new TrainingEngine(data, cfg, { finalEval: false });
    await whole.start();
    const expected = await weightsOf(whole);
    const averageOf = (e: TrainingEngine) => Promise.all(trainableVariables(e.inferenceModel).map(async (v) => Array.from(await v.data())));
    const expectedAverage = await averageOf(whole);
    whole.dispose();

    const first = new TrainingEngine(data, cfg, { finalEval: false });
    const seen: string[] = [];
    first.on((ev) => {
      seen.push(ev.type === 'step' ? `step${ev.step}` : ev.type);
      if (ev.type === 'step' && ev.step === 2) {
        first.pause();
        setTimeout(() => first.resume(), 20);
      }
      if (ev.type === 'step' && ev.step === 5) first.stop();
    });
    const r1 = await first.start();
    expect(r1).toMatchObject({ step: 5, reason: 'stopped' });
    expect(seen).toEqual(['started', 'step1', 'step2', 'paused', 'resumed', 'step3', 'step4', 'step5', 'done']);
    // through the file form a bundle carries
    const ckpt = checkpointFromFiles(checkpointToFiles(await first.checkpoint()));
    expect(ckpt.step).toBe(5);
    expect(ckpt.rng).toEqual({ seed: cfg.seed, samplesSeen: 5 * cfg.optim.batchSize });
    first.dispose();

    const second = new TrainingEngine(data, cfg, { resume: ckpt, finalEval: false });
    expect(second.step).toBe(5);
    const r2 = await second.start();
    expect(r2).toMatchObject({ step: 8, reason: 'finished' });
    const got = await weightsOf(second);
    const gotAverage = await averageOf(second);
    second.dispose();
    expect(got.length).toBe(expected.length);
    got.forEach((w, i) => expect(Array.from(w)).toEqual(Array.from(expected[i])));
    expect(gotAverage).toEqual(expectedAverage);
  });
});
