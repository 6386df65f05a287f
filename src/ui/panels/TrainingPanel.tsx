import { useRef } from 'react';
import type { PresetName, TrainSettings } from '../../worker/protocol';
import { engine, message } from '../workerClient';
import { download, fmtDuration, fmtNum, fmtTime } from '../format';
import { useApp, type AppState } from '../state/store';
import { useLiveNode, useLiveText } from '../useLive';

interface Field {
  key: 'steps' | 'batchSize' | 'lr' | 'betaMax' | 'keypoints' | 'evalEvery' | 'checkpointEvery';
  label: string;
  unit: string;
  step: number;
  min: number;
  integer: boolean;
}

const kFields: Field[] = [
  { key: 'steps', label: 'Steps', unit: 'steps', step: 1, min: 1, integer: true },
  { key: 'batchSize', label: 'Batch', unit: 'crops / step', step: 1, min: 1, integer: true },
  { key: 'lr', label: 'Learning rate', unit: 'Adam, peak', step: 0.0001, min: 0, integer: false },
  { key: 'betaMax', label: 'β (pose loss)', unit: 'weight', step: 0.001, min: 0, integer: false },
  { key: 'keypoints', label: 'Keypoints', unit: 'FPS + centre', step: 1, min: 3, integer: true },
  { key: 'evalEvery', label: 'Evaluate every', unit: 'steps', step: 1, min: 0, integer: true },
  { key: 'checkpointEvery', label: 'Checkpoint every', unit: 'steps', step: 1, min: 0, integer: true },
];

const kPresetText: Record<PresetName, string> = {
  tiny: 'tiny · 32 px',
  small: 'small · 64 px, for CPUs',
  default: 'default · 128 px',
  large: 'large · 128 px, wide',
};

/**
 * Progress bar, step counter, throughput and ETA: per-step fields, written into their nodes on store
 * changes (useLive) so that a batch of steps from the worker re-renders nothing.
 */
function RunProgress() {
  const bar = useLiveNode<HTMLProgressElement>((el, s) => {
    const max = Math.max(1, s.totalSteps);
    if (el.max !== max) el.max = max;
    if (el.value !== s.step) el.value = s.step;
  });
  const step = useLiveText((s) => String(s.step));
  const total = useLiveText((s: AppState) => String(s.totalSteps || (s.settings?.steps ?? 0)));
  const ips = useLiveText((s) => `${fmtNum(s.imagesPerSec, 1)} images/s`);
  const eta = useLiveText((s) => `ETA ${s.status === 'running' ? fmtDuration(s.etaMs) : '—'}`);
  return (
    <>
      <progress ref={bar} data-testid="train-progress" />
      <div className="row spread small">
        <span data-testid="step-counter">step <b ref={step} /> / <span ref={total} /></span>
        <span ref={ips} />
        <span ref={eta} />
      </div>
    </>
  );
}

/**
 * Config (with units and the preset's defaults), the four commands, and the progress bar. "Load config…"
 * reads the JSON of `npm run train -- --config-file` (checked in the worker, problems listed by field
 * path); "Save config" writes the config the next run would train with, which both read back.
 */
export function TrainingPanel() {
  const presets = useApp((s) => s.presets);
  const settings = useApp((s) => s.settings);
  const setSettings = useApp((s) => s.setSettings);
  const status = useApp((s) => s.status);
  const runError = useApp((s) => s.runError);
  const objName = useApp((s) => s.objName);
  const parameters = useApp((s) => s.parameters);
  const checkpoint = useApp((s) => s.lastCheckpoint);
  const dataset = useApp((s) => s.dataset);
  const setStatus = useApp((s) => s.setStatus);
  const loadedConfig = useApp((s) => s.loadedConfig);
  const configErrors = useApp((s) => s.configErrors);
  const setLoadedConfig = useApp((s) => s.setLoadedConfig);
  const setConfigErrors = useApp((s) => s.setConfigErrors);
  const configInput = useRef<HTMLInputElement>(null);

  if (!presets || !settings) return <section className="card muted">Starting the training worker…</section>;
  const active = status === 'running' || status === 'paused' || status === 'starting' || status === 'stopping';
  const canStart = !!dataset?.usable && !active;
  const trainable = dataset?.objects.filter((o) => o.hasMesh && o.instances > 0) ?? [];

  const start = async () => {
    setStatus('starting');
    try {
      await engine().start(settings, loadedConfig?.config);
    } catch (e) {
      setStatus('error', message(e));
    }
  };
  // A preset's own fields replace the file's: the loaded config no longer describes the next run.
  const choosePreset = (p: PresetName) => {
    setLoadedConfig(undefined);
    setSettings({ ...presets[p], objId: settings.objId });
  };
  const loadConfig = async (f: File) => {
    try {
      const r = await engine().resolveConfig(await f.text(), f.name, settings.preset);
      if (!r.ok) { setConfigErrors(r.errors); return; }
      setSettings({ ...r.settings, objId: settings.objId });
      setLoadedConfig({ file: f.name, config: r.config });
    } catch (e) {
      setConfigErrors([`${f.name}: ${message(e)}`]);
    }
  };
  const saveConfig = async () => {
    try {
      const text = await engine().configText(settings, loadedConfig?.config);
      setConfigErrors(undefined);
      download(loadedConfig?.file ?? `poselab-${settings.preset}.json`, text, 'application/json');
    } catch (e) {
      setConfigErrors([message(e)]);
    }
  };
  const pause = () => { void engine().pause(); };
  const resume = () => { void engine().resume(); };
  const stop = () => { setStatus('stopping'); void engine().stop(); };

  return (
    <section className="card" data-testid="training-panel">
      <div className="row spread">
        <h2>Training</h2>
        <span className={`badge status-${status}`} data-testid="run-status">{status}</span>
      </div>
      <div className="config-grid">
        <label className="field">
          <span>Size preset</span>
          <select
            value={settings.preset}
            disabled={active}
            data-testid="preset"
            onChange={(e) => choosePreset(e.target.value as PresetName)}
          >
            {(Object.keys(presets) as PresetName[]).map((p) => <option key={p} value={p}>{kPresetText[p]}</option>)}
          </select>
        </label>
        <label className="field">
          <span>Object</span>
          <select
            value={settings.objId ?? ''}
            disabled={active}
            onChange={(e) => setSettings({ ...settings, objId: e.target.value === '' ? undefined : Number(e.target.value) })}
          >
            <option value="">most frequent</option>
            {trainable.map((o) => <option key={o.id} value={o.id}>#{o.id} {o.name}</option>)}
          </select>
        </label>
        {kFields.map((f) => (
          <label className="field" key={f.key}>
            <span>{f.label} <em>{f.unit}</em></span>
            <input
              type="number"
              data-testid={`cfg-${f.key}`}
              value={settings[f.key]}
              step={f.step}
              min={f.min}
              disabled={active}
              onChange={(e) => {
                const v = Number(e.target.value);
                if (Number.isFinite(v)) setSettings({ ...settings, [f.key]: f.integer ? Math.round(v) : v } as TrainSettings);
              }}
            />
          </label>
        ))}
      </div>
      <div className="row gap buttons">
        <button type="button" className="primary" disabled={!canStart} onClick={() => void start()} data-testid="btn-start">Start</button>
        <button type="button" disabled={status !== 'running'} onClick={pause} data-testid="btn-pause">Pause</button>
        <button type="button" disabled={status !== 'paused'} onClick={resume} data-testid="btn-resume">Resume</button>
        <button type="button" disabled={status !== 'running' && status !== 'paused'} onClick={stop} data-testid="btn-stop">Stop</button>
        <button type="button" className="ghost" disabled={active} onClick={() => choosePreset(settings.preset)}>Defaults</button>
        <button type="button" className="ghost" disabled={active} onClick={() => configInput.current?.click()} data-testid="btn-load-config">Load config…</button>
        <button type="button" className="ghost" onClick={() => void saveConfig()} data-testid="btn-save-config">Save config</button>
        <input ref={configInput} type="file" accept=".json,application/json" hidden data-testid="config-input"
          onChange={(e) => {
            const f = e.target.files?.[0];
            // Cleared so that picking the same file again, after editing it, reads it again.
            e.target.value = '';
            if (f) void loadConfig(f);
          }} />
      </div>
      {loadedConfig && (
        <p className="muted small" data-testid="config-loaded">
          Config from {loadedConfig.file} ({loadedConfig.config.name}): the next run trains with all of it, the fields above as set here.
          Defaults or another preset forget it.
        </p>
      )}
      {configErrors && (
        <ul className="error-text small" data-testid="config-errors">
          {configErrors.map((m) => <li key={m}>{m}</li>)}
        </ul>
      )}
      <div className="progress-block">
        <RunProgress />
        <div className="muted small">
          {objName && <>object {objName} · {parameters?.toLocaleString()} parameters · </>}
          {checkpoint ? <span data-testid="checkpoint-info">checkpoint at step {checkpoint.step}, {fmtTime(checkpoint.savedAt)}</span> : 'no checkpoint yet'}
        </div>
      </div>
      {runError && <p className="error-text" data-testid="run-error">{runError}</p>}
      {!dataset?.usable && <p className="muted small">Load a usable dataset to train.</p>}
    </section>
  );
}
