/**
 * Bundles in the worker: the run's model exported (a zip, or the BOP results CSV of its evaluation),
 * and a bundle imported to be evaluated on the loaded dataset or continued as a run (src/train's
 * bundleRuns.ts, as the command line does both).
 */
import type { Dataset } from '../data/dataset';
import { decodeBrowser } from '../data/decode/browser';
import { bopCsv } from '../train/bopCsv';
import { exportEngine, importBundle as readBundle, kPartial, laterSave, unzipBundle, zipBundle, type BundleFiles, type LoadedBundle } from '../train/bundle';
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
  /** What an import does with the run: stops it, and continues the bundle's. */
  run: Pick<RunHost, 'stop' | 'setHistory' | 'begin'>;
  emit: (e: EngineUiEvent) => void;
  /** The bundle's keypoints for its object: the dataset view draws them. */
  useKeypoints: (objId: number, keypointsMm: Float64Array) => void;
}

/**
 * What an imported bundle holds, in words for the page; a checkpoint that cannot be read is said (evaluation
 * and Try-it use the weights alone; continuing refuses it, naming the file), and so is bundleResume's notice
 * when continuing one whose networks are of another save, with what it means on the page: the page writes no
 * folder, it exports bundles, and the next one holds the files of one save.
 */
export function importSummary(b: LoadedBundle, obj: { id: number; name: string }, resumeNotice?: string): string {
  const model = `model for object ${obj.id} (${obj.name}) at step ${b.meta.step}`;
  if (resumeNotice) return `${model}; ${resumeNotice}, and the bundle it exports next holds every file of one save`;
  return b.checkpointProblem ? `${model}; its checkpoint cannot be read (${b.checkpointProblem}), so only its weights are used` : model;
}

/**
 * A bundle's files read from a zip for the page, refused when the zip was made of a folder whose save was cut among
 * its renames and holds the later save whole under its temporary names (laterSave): that save is the run's newest
 * state, so evaluating, trying or continuing whatever the renamed files hold would go back a save, or mix two. The
 * page cannot rename inside a zip: the message says what to do with it.
 */
export function unzipWholeSave(bytes: Uint8Array): BundleFiles {
  const files = unzipBundle(bytes);
  const later = laterSave(files);
  if (later) {
    throw new Error(`bundle: the zip was made of a folder whose save was cut among its renames: its later save, of step ${later.step}, is whole in its ` +
      `${kPartial} entries and is the run's newest state; unzip it, rename ${later.left.map((n) => `${n}${kPartial} to ${n}`).join(', then ')}, ` +
      'and import the folder zipped again');
  }
  return files;
}

/**
 * Throws when the bundle's networks are of another save than its poselab.json's (LoadedBundle.filesProblem: a
 * folder zipped after a save cut among its renames), with the page's remedy: evaluated or tried, they would be
 * shown as poselab.json's step and metrics. Importing it to continue takes the checkpoint's weights instead: the
 * message names that import as the Export and import panel shows it (src/ui/panels/ExportPanel.tsx).
 */
export function refuseNetworksOfAnotherSave(b: LoadedBundle): void {
  if (!b.filesProblem) return;
  const step = b.meta.step;
  throw new Error(`${b.filesProblem}; ${b.checkpoint
    ? `continue its run instead: import it with "import to continue training" in the Export and import panel (its checkpoint carries the weights of step ${step}, ` +
      'and the bundle the run then exports holds every file of one save)'
    : `it holds no whole checkpoint of step ${step} to rebuild them from: import another copy of this bundle, or another bundle of the run`}`);
}

/**
 * Reads a bundle; 'evaluate' runs it on the test split (an 'eval' event), 'continue' resumes its training.
 * Throws, saying why, for a bundle that cannot be used that way (unzipWholeSave, refuseNetworksOfAnotherSave, bundleResume).
 */
export async function importRunBundle(bytes: Uint8Array, mode: 'evaluate' | 'continue', t: ImportTarget): Promise<ImportResult> {
  const b = await readBundle(unzipWholeSave(bytes));
  try {
    // Every refusal comes before the live run is stopped: a bundle that cannot be used leaves the run going.
    if (mode === 'evaluate') refuseNetworksOfAnotherSave(b);
    const obj = bundleObject(t.ds, b);
    const r = mode === 'continue' ? await bundleResume(b) : undefined;
    await t.run.stop();
    t.useKeypoints(obj.id, b.keypointsMm);
    const config = b.meta.config;
    if (r) {
      const preset: PresetName = config.name !== 'custom' ? config.name : 'default';
      t.run.setHistory([], []);
      await t.run.begin(t.ds, settingsOf(config, preset, obj.id), { resume: r.checkpoint });
      return { summary: importSummary(b, obj, r.notice), step: b.meta.step, hasCheckpoint: !!b.checkpoint };
    }
    const result = { summary: importSummary(b, obj), step: b.meta.step, hasCheckpoint: !!b.checkpoint };
    const data = bundleData(t.ds, b, { decode: decodeBrowser });
    // Bundles of runs without a localiser can only be evaluated on oracle crops; the metrics say so.
    const ev = await evaluateBundle(b, data, { crops: b.localiser ? 'detected' : 'oracle', samples: Math.max(4, config.evalSamples) });
    t.emit({ type: 'eval', step: b.meta.step, final: true, metrics: ev.metrics, samples: ev.samples, source: 'imported' });
    return result;
  } finally {
    b.model.dispose();
    b.localiser?.dispose();
  }
}
