/**
 * The page's "Load config…" and "Save config" through the worker (EngineHost, no dataset needed): a file
 * fills the panel's fields and keeps all its other fields for the run; the panel's edits apply on top;
 * a bad file comes back as the same field-path messages as the command line's.
 */
import { describe, expect, it } from 'vitest';
import { kConfigs } from '../../src/train/config';
import { resolveConfigText } from '../../src/train/configFile';
import { EngineHost } from '../../src/worker/host';

describe('config files in the worker', () => {
  const host = new EngineHost();

  it('a loaded file fills the settings; the saved config is the file\'s with the panel\'s edits, and reads back as itself', () => {
    const r = host.resolveConfig(JSON.stringify({ preset: 'small', model: { width: 12 }, optim: { lr: 5e-4 }, evalEvery: 0 }), 'mine.json', 'default');
    if (!r.ok) throw new Error(r.errors.join('\n'));
    expect(r.settings).toEqual({
      preset: 'small', steps: kConfigs.small.optim.steps, batchSize: kConfigs.small.optim.batchSize, lr: 5e-4, betaMax: kConfigs.small.loss.betaMax,
      keypoints: kConfigs.small.data.keypoints, evalEvery: 0, checkpointEvery: kConfigs.small.checkpointEvery, objId: undefined,
    });
    const saved = host.configText({ ...r.settings, steps: 7, keypoints: 5 }, r.config);
    const want = structuredClone(r.config);
    want.optim.steps = 7;
    want.data.keypoints = 5;
    expect(JSON.parse(saved)).toEqual(want);
    expect(want.model.width).toBe(12);
    const back = resolveConfigText(saved);
    expect(back.ok && back.config).toEqual(want);
    // Without a loaded config, the preset with the panel's fields, as before.
    const plain = JSON.parse(host.configText(host.presets().tiny)) as typeof kConfigs.tiny;
    expect(plain.model).toEqual(kConfigs.tiny.model);
  });

  it('a bad file comes back as its problems, each with its path and value', () => {
    const r = host.resolveConfig('{"optim": {"lr": "fast"}, "localiser": {"model": {"depth": 7}}}', 'mine.json', 'default');
    expect(r).toEqual({ ok: false, errors: ['mine.json: optim.lr = "fast": expected a number', 'mine.json: localiser.model.depth = 7: must be 0..3'] });
    const t = host.resolveConfig('{', 'mine.json', 'default');
    expect(!t.ok && t.errors[0]).toMatch(/^mine\.json: not valid JSON/);
  });

  it('a config the page holds is checked again before use', () => {
    const broken = { ...structuredClone(kConfigs.tiny), optim: { ...kConfigs.tiny.optim, beta1: 2 } };
    expect(() => host.configText(host.presets().tiny, broken)).toThrow('the loaded config: optim.beta1 = 2: expected a number in [0, 1)');
  });
});
