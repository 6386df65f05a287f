/**
 * The few training options a host shows beside a preset (the page's training panel), and the one
 * mapping between them and a TrainConfig in each direction: a config's fields as settings, and
 * settings laid onto a preset or onto a config loaded from a file. Pure: no tfjs, no host.
 */
import { applyOverrides, kConfigs, makeConfig, type ConfigName, type ConfigOverrides, type TrainConfig } from './config';
import { resolveConfigJson, resolveConfigText } from './configFile';

/** The training options the page shows; everything else comes from the preset (or a loaded config). */
export interface TrainSettings {
  preset: ConfigName;
  /** Optimiser steps. */
  steps: number;
  /** Crops per step. */
  batchSize: number;
  /** Adam's peak learning rate. */
  lr: number;
  /** Final weight of the pose (PnP) loss. */
  betaMax: number;
  /** FPS keypoints on the surface (the centre comes on top). */
  keypoints: number;
  /** Evaluate on test images every this many steps (0 = only at the end). */
  evalEvery: number;
  /** Save a checkpoint every this many steps (0 = only on pause and at the end). */
  checkpointEvery: number;
  /** Object to train for; the most frequent one by default. */
  objId?: number;
}

/** A config file read for the panel: the config and the settings filled from it, or every problem by field path. */
export type SettingsLoad =
  | { ok: true; config: TrainConfig; settings: TrainSettings }
  | { ok: false; errors: string[] };

/** The settings' view of a config. */
export function settingsOf(c: TrainConfig, preset: ConfigName, objId?: number): TrainSettings {
  return {
    preset, steps: c.optim.steps, batchSize: c.optim.batchSize, lr: c.optim.lr, betaMax: c.loss.betaMax, keypoints: c.data.keypoints,
    evalEvery: c.evalEvery, checkpointEvery: c.checkpointEvery, objId,
  };
}

/** Every preset as settings. A host that shows progress as it goes gives the presets that only evaluate and save at the end a cadence. */
export function presetSettings(cadence = 50): Record<ConfigName, TrainSettings> {
  const out = {} as Record<ConfigName, TrainSettings>;
  for (const name of Object.keys(kConfigs) as ConfigName[]) {
    const s = settingsOf(kConfigs[name], name);
    out[name] = { ...s, evalEvery: s.evalEvery || cadence, checkpointEvery: s.checkpointEvery || cadence };
  }
  return out;
}

/** The config fields the settings stand for. */
function overridesOf(s: TrainSettings): ConfigOverrides {
  return {
    optim: { steps: s.steps, batchSize: s.batchSize, lr: s.lr },
    loss: { betaMax: s.betaMax },
    data: { keypoints: s.keypoints },
    evalEvery: s.evalEvery,
    checkpointEvery: s.checkpointEvery,
  };
}

/**
 * The run's config: the settings onto a loaded config when there is one (checked again here, as a
 * file would be: a host may have held it since), else onto their preset, with at least 4 sample
 * predictions per evaluation to show.
 */
export function configOf(s: TrainSettings, loaded?: TrainConfig): TrainConfig {
  const fields = overridesOf(s);
  if (loaded) {
    const r = resolveConfigJson(loaded, { file: 'the loaded config', preset: s.preset });
    if (!r.ok) throw new Error(r.errors.join('\n'));
    return applyOverrides(r.config, fields);
  }
  return makeConfig(s.preset, { ...fields, evalSamples: Math.max(4, kConfigs[s.preset].evalSamples) });
}

/** A config file's text merged onto the preset it names, else onto `preset` (as `npm run train -- --config-file`), with its settings. */
export function loadSettings(text: string, fileName: string, preset: ConfigName): SettingsLoad {
  const r = resolveConfigText(text, { file: fileName, preset });
  return r.ok ? { ok: true, config: r.config, settings: settingsOf(r.config, r.preset) } : r;
}
