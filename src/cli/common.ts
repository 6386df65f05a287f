/**
 * What every command of the command line shares: one argument syntax, one usage format, the same
 * exit codes (0 done, 1 failure, 2 bad arguments: a usage error printed with the usage, an input error
 * alone; `--help` prints the usage and exits 0; all in args.ts, re-exported here), the same --backend
 * choice and default (auto), and, for the commands around training, opening a dataset from a folder or
 * zip and reading and writing bundles as folders or zips. Everything about training itself stays in
 * src/train.
 */
import { readdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { totalmem } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { unzipSync } from 'fflate';
import { isUsable, type Dataset } from '../data/dataset';
import { problemLine } from '../data/problems';
import { loadDataset } from '../data/load';
import { openNodePath } from '../data/source/node';
import type { ByteSource } from '../data/source/source';
import { isBackendName, useBackend, type BackendName } from '../node/backend';
import { bundleRoot, bundleWriteOrder, importBundle, kPartial, kPoselabJson, laterSave, unzipBundle, zipBundle, type BundleFiles, type LaterSave, type LoadedBundle } from '../train/bundle';
import { InputError, makeFolders, notFound, physicalPath, prepareOutputFile, probeWritableFolder, UsageError } from './args';

export {
  InputError, isFolderPath, isWithin, kMaxSeed, notFound, parseChoiceList, parseCommandLine, parseFlags, parseInteger, parseIntegerList, parsePositiveInt, physicalPath, prepareFileOrFolder, prepareOutputFile, readInputText, runMain,
  UsageError,
  type FlagSpec,
} from './args';

export const kBackendUsage = '--backend auto|webgpu|wasm|cpu';

/** --backend's value; 'auto' (the default of every command): the fastest CPU path that starts here (wasm, else cpu). */
export function parseBackend(s: string | undefined): BackendName {
  if (s === undefined) return 'auto';
  if (isBackendName(s)) return s;
  throw new UsageError(`--backend ${s}: expected auto (the fastest CPU path: wasm, else cpu), webgpu, wasm or cpu`);
}

/**
 * Selects the backend and returns tfjs's name for it (printed by every command). A backend named
 * explicitly that cannot start is an input error (no silent fallback); 'auto' says on stderr when wasm
 * could not start and tfjs's slower cpu backend is used instead.
 */
export async function selectBackend(b: BackendName): Promise<string> {
  try {
    const { backend, notice } = await useBackend(b);
    if (notice) console.error(notice);
    return backend;
  } catch (e) {
    throw new InputError(`--backend ${b}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** A folder or zip given to `flag`, or an InputError naming the flag and the path as given (once). */
export async function openSource(path: string, flag: string): Promise<ByteSource> {
  try {
    return await openNodePath(path);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    const why = message.startsWith(`${path}: `) ? message.slice(path.length + 2) : message;
    throw new InputError(`${flag} ${path}: ${why === 'no such file or folder' ? notFound(path) : why}`);
  }
}

/** Loads a dataset, or throws an InputError listing why nothing trainable is in it. */
export async function openDataset(path: string): Promise<Dataset> {
  const ds = await loadDataset(await openSource(path, '--dataset'));
  if (!isUsable(ds)) {
    const lines = ds.problems.slice(0, 10).map((p) => `  ${p.file}${p.field ? ` (${p.field})` : ''}: ${p.message}`);
    const more = ds.problems.length > 10 ? [`  ... and ${ds.problems.length - 10} more`] : [];
    throw new InputError([`--dataset ${path}: nothing to train or evaluate on (no object with a model and an instance in an image)`, ...lines, ...more].join('\n'));
  }
  // What the problems name is not trained or evaluated on: said here, not left for `dataset inspect` to find.
  if (ds.problems.length > 0) {
    const n = ds.problems.length;
    console.error([
      `--dataset ${path}: ${n} problem${n === 1 ? '' : 's'} found reading it; what ${n === 1 ? 'it names is' : 'they name is'} not used:`,
      ...ds.problems.slice(0, 10).map((p) => `  ${problemLine(p)}`),
      ...(n > 10 ? [`  ... and ${n - 10} more (npm run dataset -- inspect ${path} lists them all)`] : []),
    ].join('\n'));
  }
  return ds;
}

/** A bundle from a folder (with poselab.json at its top or one level down) or a .zip file; flag names the option in errors. */
export async function readBundlePath(path: string, flag = '--model'): Promise<BundleFiles> {
  let s;
  try {
    s = await stat(path);
  } catch {
    throw new InputError(`${flag} ${path}: ${notFound(path)}`);
  }
  if (!s.isDirectory()) {
    try {
      return unzipBundle(new Uint8Array(await readFile(path)));
    } catch (e) {
      throw new InputError(`${flag} ${path}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  const files: BundleFiles = new Map();
  const walk = async (dir: string, depth: number): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const full = join(dir, e.name);
      if (e.isDirectory() && depth < 1) await walk(full, depth + 1);
      else if (e.isFile()) files.set(relative(path, full).split(sep).join('/'), new Uint8Array(await readFile(full)));
    }
  };
  await walk(path, 0);
  return files;
}

/**
 * A bundle to predict or evaluate with, read from a folder or zip (readBundlePath) and imported; its
 * problems are InputErrors naming the flag. Networks of another save than poselab.json's (a save cut among
 * its renames: LoadedBundle.filesProblem) are refused, with the remedy that holds for that bundle: the renames
 * that finish the later save where the folder holds it whole (cutSave), else continuing from its checkpoint. A
 * checkpoint it carries that cannot be read is said on stderr and set aside: only continuing the run needs it.
 */
export async function loadBundle(path: string, flag = '--model'): Promise<LoadedBundle> {
  const files = await readBundlePath(path, flag);
  // A later save whole in its .partial files is the run's newest state: each problem below names the renames that
  // finish it (a run's first save cut before poselab.json's rename has no poselab.json yet, and cannot be imported).
  const later = await cutSave(path, files);
  const b = await importBundle(files).catch((e: unknown) => {
    throw new InputError(`${flag} ${path}: ${e instanceof Error ? e.message : String(e)}${later ? `; ${finishCutSave(later)}` : ''}`);
  });
  if (b.filesProblem) {
    b.model.dispose();
    b.localiser?.dispose();
    if (later) throw new InputError(`${flag} ${path}: ${b.filesProblem}; ${finishCutSave(later)}`);
    const step = b.meta.step;
    // --resume takes the checkpoint's weights, poselab.json's step's, and its run's next save writes every file again.
    const extend = step >= b.meta.config.optim.steps ? ' --steps <a larger total>' : '';
    // The dataset as poselab.json records it (bundles written before it record none): its name, not its path.
    const recorded = b.meta.dataset;
    const dataset = recorded ? `<the folder or zip of dataset ${recorded.name} (${recorded.format})>` : '<its dataset>';
    const remedy = b.checkpoint
      ? `continue the run with npm run train -- --dataset ${dataset} --resume ${shellWord(path)} --out ${shellWord(path)}${extend} (its checkpoint carries the weights ` +
        `of step ${step}, so the resumed run's next save writes every file again)`
      : `it holds no whole checkpoint of step ${step} to rebuild them from: use another copy of this bundle, or another bundle of the run`;
    throw new InputError(`${flag} ${path}: ${b.filesProblem}; ${remedy}`);
  }
  if (b.checkpointProblem) {
    // Cut after poselab.json's rename, the networks are its own (evaluated as they are), the checkpoint the older one.
    console.error(`${flag} ${path}: ${b.checkpointProblem}; its weights are used as they are (only continuing the run needs the checkpoint)` +
      `${later ? `; before continuing it, ${finishCutSave(later)}` : ''}`);
  } else if (later) {
    // Cut before any rename: the older save is whole and is used, but it is not the run's newest.
    console.error(`${flag} ${path}: its save of step ${b.meta.step} is used; ${finishCutSave(later)}\nto use that one instead`);
  }
  return b;
}

/**
 * Settles a bundle's --out before training, so that a bad one is an input error, not a lost run: a new .zip
 * name (its folder created), or a folder, created now, that is new or empty. The bundle a resumed run
 * continues (`replaces`) may be written over in place; any other bundle, or a folder of other files, is
 * refused, named: a run never overwrites or mixes into what it was not given.
 */
export async function prepareBundlePath(out: string, replaces?: string): Promise<void> {
  const inPlace = replaces !== undefined && physicalPath(out) === physicalPath(replaces);
  const again = `give a new one (or continue that bundle in place: --resume ${out} --out ${out})`;
  const s = await stat(out).catch(() => undefined);
  // A new path named like another kind of archive would be made a folder of that name: not what was asked.
  const otherArchive = /\.(tar\.(gz|bz2|xz|zst|lz)|tar|tgz|tbz2?|txz|gz|bz2|xz|zst|lz|lzma|7z|rar)$/i.exec(out);
  if (otherArchive && !s?.isDirectory()) throw new InputError(`--out ${out}: a bundle is written as a folder or a .zip file, not as ${otherArchive[0]}; give a folder or a .zip name`);
  if (out.toLowerCase().endsWith('.zip')) {
    if (s?.isFile() && !inPlace) {
      // Only a bundle can be continued in place; any other zip (a dataset, say) is named as not one.
      const holdsBundle = await openNodePath(out).then((z) => z.paths.some((p) => p === kPoselabJson || p.endsWith(`/${kPoselabJson}`)), () => false);
      throw new InputError(`--out ${out}: exists; ${holdsBundle ? again : 'it is not a bundle, and a run writes over no other file: give a new name'}`);
    }
    return prepareOutputFile(out, '--out');
  }
  if (s && !s.isDirectory()) throw new InputError(`--out ${out}: is an existing file; give a folder or a .zip name for the bundle`);
  if (s && !inPlace) {
    const entries = await readdir(out);
    if (entries.includes(kPoselabJson)) throw new InputError(`--out ${out}: holds a bundle already; ${again}`);
    if (entries.length > 0) throw new InputError(`--out ${out}: is a folder with ${entries.length} other entries; give a new or empty folder for the bundle`);
  }
  try {
    await makeFolders(out);
  } catch (e) {
    throw new InputError(`--out ${out}: cannot create the folder (${e instanceof Error ? e.message : String(e)})`);
  }
  try {
    await probeWritableFolder(out);
  } catch (e) {
    throw new InputError(`--out ${out}: the folder cannot be written (${e instanceof Error ? e.message : String(e)})`);
  }
}

/**
 * Writes a bundle as a .zip when out ends in .zip, else as a folder; returns what was written. Every file is
 * written under a temporary name first and renamed over its old copy once all are written, in bundleWriteOrder:
 * a run saved again and again (train's checkpoints) and killed while it writes keeps its last save whole, and
 * one killed among the renames leaves a bundle that either continues exactly or is refused with a remedy that
 * holds, and that eval and predict refuse whenever its networks are not poselab.json's (tests/cli/common.test.ts
 * builds every such state).
 */
export async function writeBundlePath(files: BundleFiles, out: string): Promise<string> {
  const zip = out.toLowerCase().endsWith('.zip');
  await makeFolders(zip ? dirname(out) : out);
  const named: [string, Uint8Array][] = zip ? [[out, zipBundle(files)]]
    : bundleWriteOrder([...files.keys()]).map((n) => [join(out, n), files.get(n)!]);
  try {
    for (const [path, bytes] of named) await writeFile(path + kPartial, bytes);
  } catch (e) {
    // A save that could not be written leaves nothing behind (a full disk is not made fuller).
    await Promise.all(named.map(([path]) => unlink(path + kPartial).catch(() => undefined)));
    throw e;
  }
  for (const [path] of named) await rename(path + kPartial, path);
  return out;
}

/**
 * A save whose renames were cut, found whole (cutSave): in the folder it was written to (absolute), or in a zip made
 * of such a folder (the zip, absolute; the folder within it that holds the bundle, '' or 'name/'; the new folder to
 * unzip it into).
 */
export type CutSave = LaterSave & ({ folder: string; zip?: undefined } | { zip: { path: string; root: string; into: string }; folder?: undefined });

/**
 * The later save of a bundle cut among its renames, when the bundle holds all of it (laterSave): in its folder, or
 * in a zip made of such a folder. `files` is readBundlePath's, which reads a folder's .partial files too. Undefined
 * without .partial files and when the later save is not whole.
 */
export async function cutSave(path: string, files: BundleFiles): Promise<CutSave | undefined> {
  const later = laterSave(files);
  if (!later) return undefined;
  // Absolute: npm runs the command from the project's root, and the commands may be typed in another folder.
  if ((await stat(path)).isDirectory()) return { ...later, folder: join(resolve(path), bundleRoot(files)) };
  // A zip's files come rooted (unzipBundle): the folder that wraps them is read from its entries' names again.
  const names: BundleFiles = new Map();
  unzipSync(new Uint8Array(await readFile(path)), { filter: (entry) => { names.set(entry.name, new Uint8Array()); return false; } });
  // A new folder, named after the zip and the step: unzip into one that exists would ask before writing over its files.
  const stem = `${resolve(path).replace(/\.zip$/i, '')}-step-${later.step}`;
  let into = stem;
  for (let k = 2; await stat(into).then(() => true, () => false); k++) into = `${stem}-${k}`;
  return { ...later, zip: { path: resolve(path), root: bundleRoot(names), into } };
}

/**
 * What finishes a cut save: the renames left, as shell commands, one a line, in the order writeBundlePath does them;
 * for a zip, unzipped first into a new folder named after it and its step (`-2`, `-3`... where that one exists), which
 * is then the bundle.
 */
export function finishCutSave(s: CutSave): string {
  const mv = (folder: string) => s.left.map((name) => `  mv ${shellWord(join(folder, name + kPartial))} ${shellWord(join(folder, name))}`).join('\n');
  if (s.folder !== undefined) {
    return `the later save, of step ${s.step}, is whole in the ${kPartial} files beside it and is the run's newest state; finish its renames, in this order:\n${mv(s.folder)}`;
  }
  const { zip } = s;
  return `the later save, of step ${s.step}, is whole in the zip's ${kPartial} entries and is the run's newest state (the zip was made of a folder ` +
    `whose save was cut among its renames); unzip it into a new folder and finish its renames there, in this order, then use that folder:\n` +
    `  unzip -q ${shellWord(zip.path)} -d ${shellWord(zip.into)}\n${mv(join(zip.into, zip.root))}`;
}

/** s as one word of a POSIX shell's command line: as it is where nothing in it is special, else single-quoted. */
export function shellWord(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * Decoded-image cache for training on this machine: a quarter of its memory, at most 8 GiB. The page keeps
 * ImageStore's 512 MiB default (a browser tab's share); a Node process can hold a LINEMOD object's 1,200
 * decoded images and masks (about 3 GB), which a 512 MiB cache would decode again at every epoch.
 */
export function trainingImageCacheBytes(): number {
  return Math.min(totalmem() / 4, 8 * 2 ** 30);
}

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '--';
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : m > 0 ? `${m}m${String(sec).padStart(2, '0')}s` : `${sec}s`;
}
