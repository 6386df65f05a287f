/**
 * The page's training options and a TrainConfig, each way (src/train/settings.ts): a preset read as
 * settings and laid back gives the preset; a loaded config keeps every field the settings do not name.
 */
import { describe, expect, it } from 'vitest';
import { isConfigName, kConfigs, makeConfig, type ConfigName } from '../../src/train/config';
import { configOf, loadSettings, presetSettings, settingsOf } from '../../src/train/settings';

describe('training settings', () => {
  it('every preset as settings; the end-only cadences get the host\'s', () => {
    const presets = presetSettings(50);
    expect(Object.keys(presets).sort()).toEqual(Object.keys(kConfigs).sort());
    for (const [name, s] of Object.entries(presets)) {
      const c = kConfigs[name as ConfigName];
      expect(s).toEqual({
        preset: name, steps: c.optim.steps, batchSize: c.optim.batchSize, lr: c.optim.lr, betaMax: c.loss.betaMax, keypoints: c.data.keypoints,
        evalEvery: c.evalEvery || 50, checkpointEvery: c.checkpointEvery || 50, objId: undefined,
      });
    }
  });

  it('settings laid onto their preset give the preset with those fields (and at least 4 sample predictions)', () => {
    for (const name of Object.keys(kConfigs).filter(isConfigName)) {
      const s = { ...settingsOf(kConfigs[name], name), steps: 123, lr: 2e-4, keypoints: 6 };
      const c = configOf(s);
      const want = makeConfig(name, { optim: { steps: 123, lr: 2e-4 }, data: { keypoints: 6 }, evalSamples: Math.max(4, kConfigs[name].evalSamples) });
      expect(c).toEqual(want);
      expect(settingsOf(c, name)).toEqual(s);
    }
  });

  it('a loaded config keeps its own fields; the settings replace theirs; a broken one is named', () => {
    const r = loadSettings(JSON.stringify({ preset: 'small', model: { width: 12 }, optim: { lr: 5e-4 } }), 'mine.json', 'default');
    if (!r.ok) throw new Error(r.errors.join('\n'));
    expect(r.settings.preset).toBe('small');
    expect(r.settings.lr).toBe(5e-4);
    const c = configOf({ ...r.settings, batchSize: 3 }, r.config);
    expect(c.model.width).toBe(12);
    expect(c.optim.batchSize).toBe(3);
    expect(c.optim.lr).toBe(5e-4);
    expect(() => configOf(r.settings, { ...r.config, optim: { ...r.config.optim, beta1: 2 } })).toThrow('the loaded config: optim.beta1 = 2');
    expect(loadSettings('{', 'x.json', 'tiny')).toMatchObject({ ok: false, errors: [expect.stringMatching(/^x\.json: not valid JSON/)] });
  });
});
