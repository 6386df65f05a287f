/**
 * `npm run train -- --dataset <folder|zip> [--config tiny|small|default|large] [--steps N] [--backend auto|webgpu|wasm|cpu]
 *                   [--config-file my.json] [--out <dir|file.zip>] [--resume <bundle>] [--object <obj_id>] [--seed S]`
 * `npm run train -- --print-config [--config NAME] [--config-file my.json] [--steps N] [--seed S]`
 *
 * A thin host of src/train's engine: loads the dataset, runs the engine with a progress bar (ETA and
 * losses) on stderr, writes the bundle (with its checkpoint, so --resume continues exactly) at every
 * checkpoint of the config and at the end, and prints the final metrics. Ctrl-C stops after the current
 * step and still writes the bundle. Bad arguments, config files and unusable datasets: a message and exit 2.
 *
 * --config-file: a partial config merged onto the preset it names, else --config's (configFile.ts);
 * --steps and --seed apply on top. --print-config prints the config a run would train with and exits.
 * --resume trains on with the bundle's own config: --config, --config-file and --seed are usage errors
 * there, and --steps gives the run's new total.
 */
import { constants as osConstants } from 'node:os';
import { basename } from 'node:path';
import { decodePure } from '../data/decode/pure';
import { exportEngine, importBundle, recordedDataset } from '../train/bundle';
import { learningRateAt } from '../train/schedule';
import { bundleResume } from '../train/bundleRuns';
import type { Checkpoint } from '../train/checkpoint';
import { applyOverrides, isConfigName, kConfigs, type ConfigName, type ConfigOverrides, type TrainConfig } from '../train/config';
import { configText, resolveConfigText } from '../train/configFile';
import { datasetTrainingData } from '../train/datasetTrainingData';
import { TrainingEngine, type EngineEvent } from '../train/engine';
import { placeBatches } from '../node/batchThread';
import { TrainBatches } from '../train/trainBatches';
import { placeLocaliser } from '../node/localiserThread';
import { metricsLine } from '../train/metrics';
import {
  cutSave, finishCutSave, formatDuration, shellWord, InputError, isWithin, kMaxSeed, openDataset, parseBackend, parseFlags, parseInteger, parsePositiveInt, physicalPath, prepareBundlePath, readBundlePath,
  readInputText, runMain, selectBackend, trainingImageCacheBytes, UsageError, writeBundlePath,
} from './common';

const kUsage = 'usage: npm run train -- --dataset <folder|zip> [--config tiny|small|default|large] [--config-file my.json] [--steps N] ' +
  '[--backend auto|webgpu|wasm|cpu] [--out <dir|file.zip>] [--resume <bundle>] [--object <obj_id>] [--seed S]\n' +
  '       npm run train -- --print-config [--config tiny|small|default|large] [--config-file my.json] [--steps N] [--seed S]';

/** The flags that set a new run's config: with --resume each is a usage error (the bundle's config is used). */
const kConfigFlags = ['config', 'config-file', 'seed'] as const;

async function main(argv: string[]): Promise<number> {
  const values = parseFlags(argv, {
    dataset: { type: 'string' }, config: { type: 'string' }, steps: { type: 'string' }, backend: { type: 'string' },
    out: { type: 'string' }, resume: { type: 'string' }, object: { type: 'string' }, seed: { type: 'string' },
    'config-file': { type: 'string' }, 'print-config': { type: 'boolean' },
  });
  if (values.resume !== undefined) {
    // One rule: a resumed run trains with its bundle's own config; --steps, the run's new total, alone extends it.
    for (const flag of kConfigFlags) {
      if (values[flag] !== undefined) {
        throw new UsageError(`--${flag} ${values[flag]}: a resumed run uses the config of its bundle (--resume ${values.resume}); ` +
          'only --steps may be given, to extend the run');
      }
    }
    if (values['print-config']) throw new UsageError('--print-config prints a new run\'s config; a bundle\'s is in its poselab.json');
  }
  if (values.config !== undefined && !isConfigName(values.config)) {
    throw new UsageError(`--config ${values.config}: expected ${Object.keys(kConfigs).join(', ')}`);
  }
  if (!values.dataset && !values['print-config']) throw new UsageError('--dataset is required');
  const steps = parsePositiveInt('steps', values.steps);
  const objId = parsePositiveInt('object', values.object);
  const seed = parseInteger('seed', values.seed, 0, kMaxSeed);
  const backend = parseBackend(values.backend);

  // The backend first: a resumed bundle's networks are built on it.
  const backendName = await selectBackend(backend);
  let resume: Checkpoint | undefined;
  let config: TrainConfig;
  let keypointsMm: Float64Array | undefined;
  let resumeObj: number | undefined;
  let resumeExact = true;
  let resumeDataset: { name: string; format: string } | undefined;
  /** Networks of another save beside poselab.json's whole checkpoint: continued from the checkpoint, and said. */
  let resumeNotice: string | undefined;
  if (values.resume) {
    const asInput = (e: unknown) => {
      throw new InputError(`--resume ${values.resume}: ${e instanceof Error ? e.message : String(e)}`);
    };
    const files = await readBundlePath(values.resume, '--resume');
    // A save cut among its renames, whole under its temporary names, is the run's newest state, whatever the renamed
    // files look like (whole and older, networks of another save, a checkpoint of another step, no poselab.json yet):
    // continuing from them would go back a save, and in place its first save would write over the later one;
    // removing a checkpoint of another step (that problem's own remedy) would drop Adam's moments.
    const later = await cutSave(values.resume, files);
    if (later) {
      const problem = await importBundle(files).then((b) => {
        b.model.dispose();
        b.localiser?.dispose();
        return b.filesProblem ?? b.checkpointProblem;
      }, (e: unknown) => (e instanceof Error ? e.message : String(e)));
      throw new InputError(`--resume ${values.resume}: ${problem ? `${problem}; ` : ''}${finishCutSave(later)}\nthen --resume ${later.zip ? 'that folder' : 'it again'}` +
        `${later.step >= later.steps ? ' with --steps <a larger total> (it is at its run\'s last step)' : ''}, to continue from step ${later.step}`);
    }
    const b = await importBundle(files).catch(asInput);
    // --steps names the run's new total; everything else stays as trained.
    const oldOptim = b.meta.config.optim;
    const r = await bundleResume(b, steps).catch(asInput);
    b.model.dispose();
    b.localiser?.dispose();
    resume = r.checkpoint;
    config = resume.config;
    keypointsMm = r.keypointsMm;
    resumeObj = r.objId;
    resumeExact = r.exact;
    resumeDataset = b.meta.dataset;
    resumeNotice = r.notice;
    // The learning rate's cosine decay runs to the run's total: a new total moves the rest of the curve, and a
    // finished run (at its floor) starts again from higher up. Said, not silently done.
    // (A total the bundle has already reached is refused below, so nothing is said of it here.)
    if (oldOptim.steps !== config.optim.steps && resume.step > 0 && resume.step < config.optim.steps) {
      const before = learningRateAt(resume.step - 1, oldOptim);
      const after = learningRateAt(resume.step, config.optim);
      console.error(`the learning-rate schedule now decays over ${config.optim.steps} steps instead of ${oldOptim.steps}: ` +
        `the rate goes from ${before.toExponential(1)} at step ${resume.step} to ${after.toExponential(1)} at step ${resume.step + 1}` +
        `${after > 1.5 * before ? ' (a warm restart)' : ''}`);
    }
    if (objId !== undefined && objId !== resumeObj) throw new InputError(`--object ${objId}: the bundle was trained for object ${resumeObj}`);
  } else {
    const preset = values.config !== undefined && isConfigName(values.config) ? values.config : undefined;
    const base = values['config-file'] !== undefined ? await configFromFile(values['config-file'], preset) : structuredClone(kConfigs[preset ?? 'default']);
    const over: ConfigOverrides = { ...(steps !== undefined ? { optim: { steps } } : {}), ...(seed !== undefined ? { seed } : {}) };
    config = applyOverrides(base, over);
  }
  if (values['print-config']) {
    process.stdout.write(configText(config));
    return 0;
  }
  if (!values.dataset) throw new UsageError('--dataset is required');

  const ds = await openDataset(values.dataset);
  let data;
  try {
    // Half the image cache's budget here (evaluation's images, and training's when no thread cuts the batches), half on
    // the batches' thread.
    data = datasetTrainingData(ds, config, { decode: decodePure, objId: resumeObj ?? objId, keypointsMm, cacheBytes: trainingImageCacheBytes() / 2, onUnreadable: skippedInTraining });
  } catch (e) {
    throw new InputError(`--dataset ${values.dataset}: ${e instanceof Error ? e.message : String(e)}`);
  }
  console.error(`dataset ${ds.name} (${ds.format}): object ${data.object.id} ${data.object.name}, ${data.trainCount} train / ${data.testCount} test instances; ${data.split.how}`);
  // The bundle will record the dataset this run reads: the one its first steps read is said now.
  const reading = recordedDataset(data.dataset);
  if (resumeDataset && (resumeDataset.name !== reading.name || resumeDataset.format !== reading.format)) {
    console.error(`the bundle was trained on dataset ${resumeDataset.name} (${resumeDataset.format}); this run continues it on ${reading.name} (${reading.format}), which the bundle will record`);
  }
  // Where the bundle goes is settled before training: a bad --out is an input error, not a lost run.
  // Where the system puts it: a `..` after a symbolic link climbs from where the link led (as `mkdir -p` does; a
  // dangling link is kept, for prepareBundlePath to refuse as mkdir does).
  const out = physicalPath(values.out ?? `runs/${config.name}-${basename(values.dataset).replace(/\.zip$/i, '')}-${stamp()}`, 'keep');
  if (resume && resume.step >= config.optim.steps) {
    throw new InputError(steps === undefined
      ? `--resume ${values.resume}: the bundle is already at step ${resume.step}, its run's total; give --steps with a larger total to train further`
      : `--steps ${steps}: the bundle is already at step ${resume.step}; give a larger total to train further`);
  }
  // The dataset is read for the whole run (its images decoded as training needs them): nothing is written into it.
  if (isWithin(out, values.dataset)) throw new InputError(`--out ${out}: is inside the dataset --dataset ${values.dataset}, which this run reads; give a path outside it`);
  // A dataset none of whose training instances can be read is refused here, named: the first step would fail on it
  // (on the batches' thread, which names only the first of the files it could not read). Read apart from `data`, so
  // that files found unreadable here are said once, where training meets them.
  try {
    await datasetTrainingData(ds, config, { decode: decodePure, objId: data.object.id, keypointsMm: data.object.keypointsMm, cacheBytes: 0 }).train(0, 0, config.seed);
  } catch (e) {
    throw new InputError(`--dataset ${values.dataset}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const trainData = data;
  // The batches' thread reads the training images from here on; this thread's data serves evaluation.
  const [localiser, batches] = await Promise.all([
    placeLocaliser(backendName, config.localiser, config.optim),
    placeBatches(backendName, {
      datasetPath: values.dataset, config, objId: data.object.id, keypointsMm: data.object.keypointsMm,
      cacheBytes: trainingImageCacheBytes() / 2, trainKeys: data.trainKeys,
    }, skippedInTraining, () => new TrainBatches(trainData, config), (message) => console.error(`\n${message}`)),
  ]);
  let engine: TrainingEngine;
  try {
    engine = new TrainingEngine(data, config, { resume, localiserSteps: localiser.steps, batches: batches.batches });
  } catch (e) {
    localiser.steps?.dispose();
    batches.batches?.dispose();
    const from = resume ? `--resume ${values.resume}` : values['config-file'] !== undefined ? `--config-file ${values['config-file']}` : `--config ${config.name}`;
    throw new InputError(`${from}: ${e instanceof Error ? e.message : String(e)}`);
  }
  // Made once the run is known to start: a refused bundle or config leaves no empty folder behind.
  await prepareBundlePath(out, values.resume);
  if (resumeNotice) console.error(`${resumeNotice}, and its next save writes every file again`);
  if (resume) {
    console.error(`resuming from step ${resume.step}${resumeExact ? '' : ' (the bundle has no checkpoint: its weights with fresh Adam moments, not an exact continuation)'}`);
  }
  const bar = new ProgressBar();
  engine.on((e) => bar.onEvent(e));
  // The bundle is saved at every checkpoint (config.checkpointEvery), the engine paused meanwhile so that it
  // holds one step's state: a run killed later (out of memory, a closed terminal) continues from there.
  let saving = Promise.resolve();
  let lastSaved: number | undefined;
  engine.on((e) => {
    if (e.type !== 'checkpoint' || e.step >= config.optim.steps) return;
    engine.pause();
    saving = saving
      .then(() => exportEngine(engine, { withCheckpoint: e.checkpoint, split: data.split, dataset: data.dataset }))
      .then((files) => writeBundlePath(files, out))
      .then(
        (path) => {
          lastSaved = e.step;
          bar.end();
          console.error(`step ${e.step} saved: ${path} (--resume it to continue should the run end before its last step)`);
        },
        // The run goes on: a later save, or the final one, may well succeed (space freed, say).
        (err: unknown) => { bar.end(); console.error(`step ${e.step} could not be saved to ${out}: ${err instanceof Error ? err.message : String(err)}; training goes on`); })
      .finally(() => engine.resume());
  });
  // One Ctrl-C can arrive more than once: the terminal signals the whole foreground process group, and
  // npm forwards the signal to the script it runs as well. The copies come together, in the same turn of
  // the event loop (a step blocks it); only a press more than a second after the first quits unsaved.
  let interruptedAt: number | undefined;
  // The signal that stopped the run before its last step: its exit code says so once the bundle is written.
  let stoppedBy: NodeJS.Signals | undefined;
  // SIGTERM (a scheduler pre-empting the job, `kill`) and SIGHUP (its terminal closed) stop it as Ctrl-C does.
  const onStop = (signal: NodeJS.Signals) => {
    const now = performance.now();
    if (interruptedAt !== undefined) {
      // The shell's code for a process ended by the signal: 128 + its number.
      if (now - interruptedAt > 1000) process.exit(128 + osConstants.signals[signal]);
      return;
    }
    interruptedAt = now;
    if (engine.step < config.optim.steps) stoppedBy = signal;
    const again = signal === 'SIGINT' ? 'Ctrl-C again' : `${signal} again`;
    // After the last step there is nothing left to stop: the final evaluation and the bundle follow.
    console.error(engine.step >= config.optim.steps
      ? `\nthe last step is done: the final evaluation and the bundle follow (${again} to quit without saving)`
      : `\nstopping after this step${signal === 'SIGINT' ? '' : ` (${signal})`} (${again} to quit without saving)`);
    engine.stop();
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, onStop);
  // Once its terminal is closed, writing to it fails (EIO): the progress is dropped, the run goes on to its save.
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);
  console.error(`training ${config.name} on ${backendName}: ${config.optim.steps} steps of ${config.optim.batchSize}, input ${config.model.inputPx} px; ${localiser.where}; ${batches.where}`);
  if (config.loss.betaMax > 0 && config.loss.warmupSteps >= config.optim.steps) {
    console.error(`the pose loss starts after step ${config.loss.warmupSteps} (loss.warmupSteps), beyond this run's ${config.optim.steps} steps: this run trains the heatmaps alone`);
  }
  const result = await engine.start();
  bar.end();
  await saving;

  // out is absolute (physicalPath): npm runs the command from the project's root, not from the folder it was typed in.
  let written: string | undefined;
  try {
    written = await writeBundlePath(await exportEngine(engine, { withCheckpoint: true, metrics: result.eval?.metrics, split: data.split, dataset: data.dataset }), out);
  } catch (e) {
    // The run's metrics are still printed below; what is on disk is said.
    console.error(`the bundle could not be written to ${out} (${e instanceof Error ? e.message : String(e)}); ` +
      (lastSaved !== undefined ? `its save of step ${lastSaved} is there, which --resume continues (or, where the renames failed, names those that finish this one)` : 'nothing of this run is saved'));
  }
  engine.dispose();
  if (written) console.log(`${result.reason} at step ${result.step}; bundle: ${written}`);
  // Training images are read on the batches' thread, and on this one once that thread failed (if it did).
  const unreadable = [...new Map([...batches.batches?.unreadable() ?? [], ...data.unreadable()].map((u) => [u.file, u])).values()];
  if (unreadable.length) console.error(`${unreadable.length} training image files could not be read; the instances that need them were skipped: ${unreadable.map((u) => u.file).join(', ')}`);
  if (result.eval?.unreadable.length) console.error(`${result.eval.unreadable.length} test instances could not be read and are left out of the metrics: ${result.eval.unreadable.map((u) => u.reason).join('; ')}`);
  if (result.eval && result.eval.metrics.instances === 0) {
    // Metrics over nothing read as 0%, a model that fails: the bundle is written, the run said to have failed.
    console.error(`no test instance could be evaluated: ${result.eval.unreadable.length ? 'every one was unreadable (above)' : 'the split has none'}; the bundle holds no metrics to trust`);
    return 1;
  }
  if (result.eval) console.log(`test (${result.eval.metrics.instances} instances): ${metricsLine(result.eval.metrics)}`);
  else if (result.reason === 'stopped' && written) {
    // As typed, on the backend asked for: a path with a space stays one argument, and a run continues where it ran.
    const on = values.backend !== undefined ? ` --backend ${shellWord(values.backend)}` : '';
    console.log(`continue with: npm run train -- --dataset ${shellWord(values.dataset!)} --resume ${shellWord(written)} --out ${shellWord(written)}${on}`);
  }
  if (!written) return 1;
  // A run stopped short ends as the shell reports a process ended by the signal (128 + its number), bundle
  // written: `train && eval` does not go on to a half-trained model, and a scheduler sees a pre-empted job.
  return result.reason === 'stopped' && stoppedBy ? 128 + osConstants.signals[stoppedBy] : 0;
}

/** Said as soon as a training image is found unreadable, on whichever thread cut the batch. */
function skippedInTraining(reason: string): void {
  console.error(`\nskipped in training (samples drawn from the next image): ${reason}`);
}

/** A config file merged onto its preset; its problems, all of them, are the input error. */
async function configFromFile(path: string, preset: ConfigName | undefined): Promise<TrainConfig> {
  const text = await readInputText(path, '--config-file', 'a JSON config file');
  const r = resolveConfigText(text, { file: path, preset });
  if (!r.ok) throw new InputError(r.errors.map((e) => `--config-file ${e}`).join('\n'));
  // Two presets asked for: which one the person meant cannot be guessed.
  if (preset !== undefined && r.presetFromFile && r.preset !== preset) {
    throw new InputError(`--config ${preset}: ${path} is for preset ${r.preset}; give one of the two`);
  }
  return r.config;
}

function stamp(): string {
  return new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}

/** One line on stderr: redrawn in place on a terminal, every 5% of the run otherwise (logs, CI). */
class ProgressBar {
  private readonly tty = !!process.stderr.isTTY;
  private lastPrinted = -1;
  /** The PnP layer's share of the latest timed step (one step in EngineOptions.timePnpEvery is timed). */
  private pnpShare = '';

  onEvent(e: EngineEvent): void {
    if (e.type === 'step') {
      if (e.beta === 0) this.pnpShare = '';
      else if (Number.isFinite(e.pnpMs)) this.pnpShare = `  pnp ${((100 * e.pnpMs) / e.stepMs).toFixed(1)}%`;
      const frac = e.step / e.totalSteps;
      const width = 24;
      const filled = Math.round(frac * width);
      const line = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${e.step}/${e.totalSteps} ETA ${formatDuration(e.etaMs)}  ` +
        `loss ${e.losses.total.toFixed(4)} (heatmap ${e.losses.heatmap.toFixed(3)} kp ${e.losses.keypoint.toFixed(2)} pose ${e.losses.pose.toFixed(2)}; localiser ${e.losses.localiser.toFixed(3)})  ` +
        `lr ${e.lr.toExponential(1)}  ${e.imagesPerSec.toFixed(1)} img/s${this.pnpShare}`;
      if (this.tty) process.stderr.write(`\r${line}\x1b[K`);
      else {
        const bucket = Math.floor(frac * 20);
        if (bucket !== this.lastPrinted || e.step === e.totalSteps) {
          this.lastPrinted = bucket;
          process.stderr.write(`${line}\n`);
        }
      }
    } else if (e.type === 'eval' && !e.final) {
      this.end();
      process.stderr.write(`eval at step ${e.step}: ${metricsLine(e.metrics)}\n`);
    } else if (e.type === 'error') {
      this.end();
      process.stderr.write(`error at step ${e.step}: ${e.message}\n`);
    }
  }

  end(): void {
    if (this.tty) process.stderr.write('\n');
  }
}

runMain(() => main(process.argv.slice(2)), kUsage);
