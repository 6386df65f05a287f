/**
 * Bundles in the worker: the run's model exported (a zip, or the BOP results CSV of its evaluation),
 * and a bundle imported to be evaluated on the loaded dataset or continued as a run (src/train's
 * bundleRuns.ts, as the command line does both).
 */
import type { Dataset } from '../data/dataset';
import { decodeBrowser } from '../data/decode/browser';
import { bopCsv } from '../train/bopCsv';
import { exportEngine, importBundle as readBundle, unzipBundle, zipBundle, type LoadedBundle } from '../train/bundle';
import { bundleData, bundleObject, bundleResume, evaluateBundle } from '../train/bundleRuns';
import { settingsOf } from '../train/settings';
import type { EngineUiEvent, ImportResult, PresetName } from './protocol';
import type { RunHost } from './runHost';

/** The run's model as a PoseLab bundle zip, with the checkpoint to continue it. */
export async function exportRunBundle(run: RunHost): Promise<Uint8Array> {
  const { engine, data } = run.requireEngine();
  await run.whenIdle();
  return zipBundle(await exportEngine(engine, { withCheckpoint: true, split: data.split, dataset: data.dataset }));
}

/** The run's model evaluated on the test split (less its training images, after an automatic split), as BOP results CSV text. */
export async function exportRunBopCsv(run: RunHost): Promise<string> {
  const { engine } = run.requireEngine();
  await run.whenIdle();
  const r = await engine.evaluate(0);
  return bopCsv(r.instances);
}

export interface ImportTarget {
  ds: Dataset;
  run: RunHost;
  emit: (e: EngineUiEvent) => void;
  /** The bundle's keypoints for its object: the dataset view draws them. */
  useKeypoints: (objId: number, keypointsMm: Float64Array) => void;
}

/**
 * What an imported bundle holds, in words for the page; a checkpoint that cannot be read is said (evaluation
 * and Try-it use the weights alone; continuing refuses it, naming the file).
 */
export function importSummary(b: LoadedBundle, obj: { id: number; name: string }): string {
  const model = `model for object ${obj.id} (${obj.name}) at step ${b.meta.step}`;
  return b.checkpointProblem ? `${model}; its checkpoint cannot be read (${b.checkpointProblem}), so only its weights are used` : model;
}

/** Reads a bundle; 'evaluate' runs it on the test split (an 'eval' event), 'continue' resumes its training. */
export async function importRunBundle(bytes: Uint8Array, mode: 'evaluate' | 'continue', t: ImportTarget): Promise<ImportResult> {
  await t.run.stop();
  const b = await readBundle(unzipBundle(bytes));
  try {
    const obj = bundleObject(t.ds, b);
    t.useKeypoints(obj.id, b.keypointsMm);
    const summary = importSummary(b, obj);
    const config = b.meta.config;
    const result = { summary, step: b.meta.step, hasCheckpoint: !!b.checkpoint };
    if (mode === 'continue') {
      const preset: PresetName = config.name !== 'custom' ? config.name : 'default';
      t.run.setHistory([], []);
      await t.run.begin(t.ds, settingsOf(config, preset, obj.id), { resume: (await bundleResume(b)).checkpoint });
      return result;
    }
    const data = bundleData(t.ds, b, { decode: decodeBrowser });
    // Bundles of runs without a localiser can only be evaluated on oracle crops; the metrics say so.
    const r = await evaluateBundle(b, data, { crops: b.localiser ? 'detected' : 'oracle', samples: Math.max(4, config.evalSamples) });
    t.emit({ type: 'eval', step: b.meta.step, final: true, metrics: r.metrics, samples: r.samples, source: 'imported' });
    return result;
  } finally {
    b.model.dispose();
    b.localiser?.dispose();
  }
}
