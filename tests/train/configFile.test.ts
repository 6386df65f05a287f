/**
 * Config files (src/train/configFile.ts): what --print-config and "Save config" write reads back as the
 * same config; partial files change only what they name; every kind of problem is reported under the
 * field's full path with the value, all problems at once.
 */
import { describe, expect, it } from 'vitest';
import { kConfigs, makeConfig, type ConfigName, type TrainConfig } from '../../src/train/config';
import { configText, resolveConfigJson, resolveConfigText, type ResolveOptions } from '../../src/train/configFile';

function resolved(text: string, opts: ResolveOptions = {}): TrainConfig {
  const r = resolveConfigText(text, opts);
  if (!r.ok) throw new Error(`expected a config, got:\n${r.errors.join('\n')}`);
  return r.config;
}

function errorsOf(json: unknown, opts: ResolveOptions = { file: 'my.json' }): string[] {
  const r = resolveConfigJson(json, opts);
  if (r.ok) throw new Error(`expected errors, got a config: ${configText(r.config)}`);
  return r.errors;
}

describe('config files', () => {
  it('round trip: every preset, printed and read back, is the same config', () => {
    for (const name of Object.keys(kConfigs) as ConfigName[]) {
      const text = configText(kConfigs[name]);
      // Read back with another fallback preset: the printed name decides the base, and every field is set.
      expect(resolved(text, { preset: name === 'tiny' ? 'large' : 'tiny' })).toEqual(kConfigs[name]);
      expect(configText(resolved(text))).toBe(text);
    }
    // A config of no preset ('custom', as an older bundle may hold) reads back as itself too.
    const custom: TrainConfig = { ...makeConfig('small', { optim: { lr: 5e-4 }, model: { width: 12 } }), name: 'custom' };
    expect(resolved(configText(custom), { preset: 'large' })).toEqual(custom);
  });

  it('a partial file is merged deeply onto its preset: the fields it names change, all others keep the preset values', () => {
    const c = resolved(JSON.stringify({ optim: { lr: 5e-4 }, localiser: { model: { width: 12 } }, data: { mean: [0.5, 0.5, 0.5] }, evalCrops: 'oracle' }), { preset: 'small' });
    const want = structuredClone(kConfigs.small);
    want.optim.lr = 5e-4;
    want.localiser.model.width = 12;
    want.data.mean = [0.5, 0.5, 0.5];
    want.evalCrops = 'oracle';
    expect(c).toEqual(want);
    // The empty file is the fallback preset, 'default' when none is given.
    expect(resolved('{}')).toEqual(kConfigs.default);
    expect(resolved('{}', { preset: 'tiny' })).toEqual(kConfigs.tiny);
  });

  it('"preset" or "name" in the file chooses the base over the caller\'s fallback', () => {
    const r = resolveConfigText('{"preset": "tiny", "optim": {"steps": 7}}', { preset: 'large' });
    expect(r.ok && r.preset).toBe('tiny');
    expect(r.ok && r.presetFromFile).toBe(true);
    expect(r.ok && r.config.model).toEqual(kConfigs.tiny.model);
    expect(r.ok && r.config.optim.steps).toBe(7);
    expect(r.ok && r.config.name).toBe('tiny');
    const byName = resolveConfigText('{"name": "small"}');
    expect(byName.ok && byName.config).toEqual(kConfigs.small);
    // 'custom' keeps the fallback as base and the name as written.
    const custom = resolveConfigText('{"name": "custom", "preset": "small"}');
    expect(custom.ok && custom.config).toEqual({ ...kConfigs.small, name: 'custom' });
    const fallback = resolveConfigText('{"seed": 3}', { preset: 'small' });
    expect(fallback.ok && fallback.presetFromFile).toBe(false);
  });

  it('the merged config is a copy: resolving twice, or editing the result, leaves the presets alone', () => {
    const before = configText(kConfigs.default);
    const c = resolved('{"data": {"mean": [0, 0, 0]}}');
    c.model.width = 99;
    c.data.std[0] = 9;
    expect(configText(kConfigs.default)).toBe(before);
    expect(resolved('{}')).toEqual(kConfigs.default);
  });

  it('names the path and the value of a field of the wrong type', () => {
    expect(errorsOf({ optim: { lr: 'fast' } })).toEqual(['my.json: optim.lr = "fast": expected a number']);
    expect(errorsOf(JSON.parse('{"optim": {"lr": 1e999}}'))).toEqual(['my.json: optim.lr = Infinity (beyond a double): expected a number']);
    expect(errorsOf({ model: { confidence: 1 } })).toEqual(['my.json: model.confidence = 1: expected true or false']);
    expect(errorsOf({ localiser: { model: { width: 2.5 } } })).toEqual(['my.json: localiser.model.width = 2.5: expected an integer']);
    expect(errorsOf({ data: { std: [0.2, 0.2] } })).toEqual(['my.json: data.std = [0.2,0.2]: expected an array of 3 numbers > 0']);
    expect(errorsOf({ loss: null })).toEqual([
      'my.json: loss = null: expected an object with any of sigmaCells, keypointWeight, betaMax, warmupSteps, betaRampSteps, posePoints, pnpInit, poseError',
    ]);
    expect(errorsOf({ evalCrops: 0 })).toEqual(['my.json: evalCrops = 0: expected a string']);
  });

  it('names the path and the value of a field out of range, for checks of this file and of config.ts alike', () => {
    expect(errorsOf({ optim: { lr: -1 } })).toEqual(['my.json: optim.lr = -1: must be > 0']);
    expect(errorsOf({ optim: { beta2: 1 } })).toEqual(['my.json: optim.beta2 = 1: expected a number in [0, 1)']);
    expect(errorsOf({ optim: { emaDecay: 1 } })).toEqual(['my.json: optim.emaDecay = 1: expected a number in [0, 1)']);
    expect(errorsOf({ data: { fineShare: 1.5 } })).toEqual(['my.json: data.fineShare = 1.5: must be in [0, 1]']);
    expect(errorsOf({ data: { fineScaleJitter: 1 } })).toEqual(['my.json: data.fineScaleJitter = 1: must be in [0, 1)']);
    expect(errorsOf({ data: { fineShiftJitter: -0.1 } })).toEqual(['my.json: data.fineShiftJitter = -0.1: must be >= 0']);
    expect(errorsOf({ data: { occlusionProb: 1.2 } })).toEqual(['my.json: data.occlusionProb = 1.2: must be in [0, 1]']);
    expect(errorsOf({ data: { backgroundProb: -0.5 } })).toEqual(['my.json: data.backgroundProb = -0.5: must be in [0, 1]']);
    expect(errorsOf({ optim: { steps: 0 } })).toEqual(['my.json: optim.steps = 0: must be >= 1 (a run of no steps trains nothing)']);
    expect(errorsOf({ optim: { epsilon: 0 } })).toEqual(['my.json: optim.epsilon = 0: expected a number > 0']);
    expect(errorsOf({ localiser: { minScore: 1.5 } })).toEqual(['my.json: localiser.minScore = 1.5: expected a number in [0, 1]']);
    expect(errorsOf({ seed: -1 })).toEqual([`my.json: seed = -1: expected an integer in 0..${2 ** 32 - 1}`]);
    expect(errorsOf({ evalEvery: -5 })).toEqual(['my.json: evalEvery = -5: expected an integer >= 0']);
    expect(errorsOf({ localiser: { model: { depth: 4 } } })).toEqual(['my.json: localiser.model.depth = 4: must be 0..3']);
    // A check across fields (config.ts): the input side must suit the depth of the merged config.
    expect(errorsOf({ model: { inputPx: 100 } })).toEqual(['my.json: model.inputPx = 100: must be a multiple of 16 (4 x 2^depth)']);
    expect(errorsOf({ model: { inputPx: 40 } })).toEqual(['my.json: model.inputPx = 40: must be a multiple of 16 (4 x 2^depth)']);
    expect(resolveConfigJson({ model: { inputPx: 40 } }, { preset: 'tiny' }).ok).toBe(true); // tiny's depth 1: multiples of 8
    expect(errorsOf({ model: { inputPx: 0 } })).toEqual(['my.json: model.inputPx = 0: must be a multiple of 16 (4 x 2^depth)']);
    // A depth out of range is the one fault named, not the input side that would suit another depth.
    expect(errorsOf({ model: { depth: 6 } })).toEqual(['my.json: model.depth = 6: must be 0..3']);
    expect(errorsOf({ model: { heatmapStride: 3 } })).toEqual(['my.json: model.heatmapStride = 3: must be 2 or 4']);
    expect(errorsOf({ localiser: { model: { heatmapStride: 8 } } })).toEqual(['my.json: localiser.model.heatmapStride = 8: expected an integer in 2..4']);
  });

  it('names unknown keys at any depth, with the keys that are known there', () => {
    expect(errorsOf({ optim: { learningRate: 0.1 } })).toEqual([
      'my.json: optim.learningRate = 0.1: unknown key (optim has batchSize, steps, lr, lrWarmupSteps, minLrFactor, clipNorm, emaDecay, beta1, beta2, epsilon)',
    ]);
    expect(errorsOf({ localiser: { model: { witdh: 8 } } })[0]).toMatch(/^my\.json: localiser\.model\.witdh = 8: unknown key \(localiser\.model has inputPx, width, /);
    expect(errorsOf({ epochs: 3 })[0]).toMatch(/^my\.json: epochs = 3: unknown key \(known keys: preset, name, seed, model, /);
  });

  it('names bad enum values with the allowed ones', () => {
    expect(errorsOf({ loss: { pnpInit: 'sqpnp' } })).toEqual(["my.json: loss.pnpInit = \"sqpnp\": expected one of 'epnp', 'gt'"]);
    expect(errorsOf({ data: { cropFrom: 'box' } })).toEqual(["my.json: data.cropFrom = \"box\": expected one of 'mask', 'model'"]);
    expect(errorsOf({ evalCrops: 'gt' })).toEqual(["my.json: evalCrops = \"gt\": must be 'detected' or 'oracle'"]);
    expect(errorsOf({ preset: 'huge' })).toEqual(["my.json: preset = \"huge\": expected one of 'tiny', 'small', 'default', 'large'"]);
    expect(errorsOf({ name: 3 })).toEqual(["my.json: name = 3: expected one of 'tiny', 'small', 'default', 'large' or 'custom'"]);
    expect(errorsOf({ preset: 'small', name: 'tiny' })).toEqual([`my.json: name = "tiny": names another preset than "preset" ('small'): give one of the two`]);
  });

  it('reports every problem at once, each path once', () => {
    const errors = errorsOf({ optim: { lr: 'fast', steps: -1 }, model: { width: 0, blocks: 'two' }, data: { keypoints: 2 }, extra: true });
    expect(errors).toHaveLength(6);
    expect(errors.map((e) => e.split(' = ')[0]).sort()).toEqual(
      ['my.json: data.keypoints', 'my.json: extra', 'my.json: model.blocks', 'my.json: model.width', 'my.json: optim.lr', 'my.json: optim.steps'],
    );
  });

  it('names the file when the text is not JSON, or not an object', () => {
    const r = resolveConfigText('{"optim": {"lr": 0.001,}}', { file: 'runs/my.json' });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.errors).toHaveLength(1);
    expect(!r.ok && r.errors[0]).toMatch(/^runs\/my\.json: not valid JSON \(.+\)$/);
    expect(errorsOf([1, 2])).toEqual(['my.json: [1,2]: expected a JSON object holding training config fields']);
    expect(!resolveConfigText('').ok).toBe(true);
  });

  it('names a key given twice in one object by its path, beside the other problems; the same key in two objects is fine', () => {
    const r = resolveConfigText('{"optim": {"lr": 0.01, "steps": 5, "lr": 0.02}, "seed": 1, "seed": 2, "model": {"witdh": 3}}', { file: 'my.json' });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.errors.slice(0, 2)).toEqual(['my.json: optim.lr: given more than once; give it once', 'my.json: seed: given more than once; give it once']);
    expect(!r.ok && r.errors.some((e) => e.startsWith('my.json: model.witdh = 3: unknown key'))).toBe(true);
    const fine = resolveConfigText('{"model": {"width": 8}, "localiser": {"model": {"width": 8}}}');
    expect(fine.ok).toBe(true);
  });
});
