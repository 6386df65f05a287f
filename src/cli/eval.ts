/**
 * `npm run eval -- --model <bundle folder|zip> --dataset <folder|zip> [--split test|train] [--csv results.csv|folder/]
 *                  [--crops detected|oracle] [--backend auto|webgpu|wasm|cpu] [--json]`
 *
 * Evaluates an exported bundle on a dataset's split with the bundle's own crop policy and keypoints:
 * ADD(-S)-0.1d, 2D projection 5 px, 5cm5deg, mean errors, PnP failures, time per image; optionally the
 * per-instance poses as a BOP results CSV (given a folder, named `poselab_<dataset>-<split>.csv` as the BOP
 * toolkit's scripts parse). With test_targets_bop19.json the test set is its targets; where training split
 * the dataset automatically (a test-only dataset), the images the run trained on are left out. Both are said
 * on stderr. Bad arguments, unreadable bundles, unusable datasets: exit 2.
 */
import { stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodePure } from '../data/decode/pure';
import { bopResultsName } from '../data/bopNames';
import { bopCsv } from '../train/bopCsv';
import { bundleCrops } from '../train/bundle';
import { bundleData, evaluateBundle } from '../train/bundleRuns';
import { metricsLine } from '../train/metrics';
import { InputError, isWithin, loadBundle, openDataset, parseBackend, parseFlags, prepareFileOrFolder, prepareOutputFile, runMain, selectBackend, UsageError } from './common';

const kUsage = 'usage: npm run eval -- --model <bundle> --dataset <folder|zip> [--split test|train] [--csv results.csv|folder/] [--crops detected|oracle] [--backend auto|webgpu|wasm|cpu] [--json]';

const kHelp = `${kUsage}

Evaluates a bundle on a dataset's split with the bundle's own keypoints, normalisation and crops, and prints
detection recall (IoU >= 0.5), ADD(-S)-0.1d, 2D-5px, 5cm5deg, the rotation and translation errors, PnP failures
and the time per image.
--model    a bundle folder or .zip written by npm run train or the page.
--dataset  a BOP or PVNet-LINEMOD dataset, folder or .zip, holding the bundle's object.
--split    test (default: the dataset's test split, or exactly its test_targets_bop19.json) or train.
--crops    detected (default: the bundle's localiser, then the crop refined around the first pose; a miss counts
           as a failure) or oracle (around the ground truth's box, for reference: labelled so).
--csv      the poses as a BOP results CSV; a folder gets poselab_<dataset>-<split>.csv.
--json     the metrics as JSON on stdout.
Exit codes: 0 done, 1 failure (no instance could be evaluated among them), 2 bad arguments.`;

async function main(argv: string[]): Promise<number> {
  const values = parseFlags(argv, {
    model: { type: 'string' }, dataset: { type: 'string' }, split: { type: 'string' }, csv: { type: 'string' },
    backend: { type: 'string' }, json: { type: 'boolean' }, crops: { type: 'string' },
  });
  if (!values.model) throw new UsageError('--model is required');
  if (!values.dataset) throw new UsageError('--dataset is required');
  const split = values.split ?? 'test';
  if (split !== 'test' && split !== 'train') throw new UsageError(`--split ${split}: expected test or train`);
  const cropsFrom = values.crops ?? 'detected';
  if (cropsFrom !== 'detected' && cropsFrom !== 'oracle') throw new UsageError(`--crops ${cropsFrom}: expected detected (the bundle's localiser) or oracle (the ground truth's box)`);
  const backend = await selectBackend(parseBackend(values.backend));
  const bundle = await loadBundle(values.model);
  const { meta } = bundle;
  const ds = await openDataset(values.dataset);
  let data;
  try {
    data = bundleData(ds, bundle, { decode: decodePure, evalSplit: split });
  } catch (e) {
    throw new InputError(`--dataset ${values.dataset}: ${e instanceof Error ? e.message : String(e)}`);
  }
  try {
    // Checked before the CSV's path and the evaluation: a bundle without a localiser is an input error.
    bundleCrops(bundle, cropsFrom);
  } catch (e) {
    throw new InputError(`--model ${values.model}: ${e instanceof Error ? e.message : String(e)}`);
  }
  // Where the CSV goes is settled before the evaluation: a bad path is an input error, not a lost run.
  let csvPath: string | undefined;
  let replaces = false;
  if (values.csv) {
    // Nothing this run reads is written into: the bundle's folder.
    if (isWithin(values.csv, values.model)) throw new InputError(`--csv ${values.csv}: is inside the bundle --model ${values.model}, which this run reads; give a path outside it`);
    const where = await prepareFileOrFolder(values.csv, '--csv', '.csv');
    const evalSplitName = ds.images.find((im) => im.split !== 'all' && !im.split.startsWith('train'))?.split ?? 'test';
    // Oracle-crop results carry it in the method name, so that a folder of CSVs tells them from honest ones.
    const method = cropsFrom === 'oracle' ? 'poselab-oracle' : 'poselab';
    csvPath = 'file' in where ? where.file : join(where.folder, bopResultsName(method, ds.name, split === 'train' ? 'train' : evalSplitName));
    if ('folder' in where) await prepareOutputFile(csvPath, '--csv');
    replaces = (await stat(csvPath).catch(() => undefined))?.isFile() ?? false;
  }
  console.error(`evaluating ${meta.class.name} (object ${meta.class.id}, step ${meta.step}) on ${data.testCount} ${split} instances, ${backend} backend`);
  // Said beside the dataset evaluated, whose name and format the reader can compare.
  console.error(meta.dataset ? `trained on dataset ${meta.dataset.name} (${meta.dataset.format}); evaluated on ${ds.name} (${ds.format})`
    : `evaluated on ${ds.name} (${ds.format}); the bundle does not record the dataset it was trained on (written before bundles did)`);
  if (data.split.automatic) console.error(`split: ${data.split.how}`);
  console.error(`evaluation set: ${data.evalSet}`);
  if (cropsFrom === 'oracle') console.error('crops: ORACLE (around the ground truth\'s box, cut once, not refined: a reference an image without ground truth cannot have)');
  else if (bundle.outlineMm) console.error('crops: from the bundle\'s localiser, refined around the first pose');
  else console.error('crops: from the bundle\'s localiser; this bundle has no crop.outlineMm (written before crop refinement): poses from the localiser\'s crop alone, unrefined, as `predict` gives them');
  const r = await evaluateBundle(bundle, data, {
    crops: cropsFrom,
    onProgress: (done, total) => { if (process.stderr.isTTY) process.stderr.write(`\r${done}/${total}\x1b[K`); },
  });
  if (process.stderr.isTTY) process.stderr.write('\n');
  if (cropsFrom === 'detected' && bundle.outlineMm) {
    const refined = r.instances.filter((x) => x.refinedBoxPx !== undefined).length;
    const why = refined < r.instances.length ? ' (the others\' first pose could not place a crop: not converged, or at or behind the camera)' : '';
    console.error(`refined: ${refined} of ${r.instances.length} instances${why}`);
  }
  for (const u of r.unreadable) console.error(`skipped ${split} instance ${u.item}: ${u.reason}`);
  if (r.unreadable.length) console.error(`${r.unreadable.length} ${split} instances could not be read and are left out of the metrics and the CSV`);
  if (csvPath) {
    await writeFile(csvPath, bopCsv(r.instances));
    console.error(`BOP results: ${csvPath} (${r.instances.length} line${r.instances.length === 1 ? '' : 's'}${replaces ? ', in place of the file of that name' : ''})`);
  }
  bundle.model.dispose();
  // Metrics over nothing read as 0%, a model that fails: none are printed, and the run fails.
  if (r.metrics.instances === 0) {
    console.error(`no ${split} instance could be evaluated: ${r.unreadable.length ? 'every one was unreadable (above)' : 'the split has none'}`);
    return 1;
  }
  console.log(values.json ? JSON.stringify(r.metrics, null, 2) : `${split} (${r.metrics.instances} instances): ${metricsLine(r.metrics)}`);
  return 0;
}

runMain(() => main(process.argv.slice(2)), kUsage, kHelp);
