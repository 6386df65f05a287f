/**
 * What `npm run train` and `npm run eval` share as hosts of src/train: argument errors that exit 2,
 * choosing the tfjs backend, opening a dataset from a folder or zip, and reading and writing bundles
 * as folders or zips. Everything about training itself stays in src/train.
 */
import * as tf from '@tensorflow/tfjs';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { isUsable, type Dataset } from '../data/dataset';
import { loadDataset } from '../data/load';
import { openNodePath } from '../data/source/node';
import { useCpuBackend, useFastestCpuBackend } from '../kernels/setup';
import { unzipBundle, zipBundle, type BundleFiles } from '../train/bundle';
import { useNodeWebgpu } from '../node/webgpu';

/** A problem with what the user asked for: printed with the usage, exit status 2. */
export class UsageError extends Error {}

/** `--help` or `-h`: runMain prints the usage and exits 0. */
class HelpRequest extends Error {}

/** `--name value` flags only (no positionals, no unknown flags); a parse error is a UsageError. */
export function parseFlags<O extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: O) {
  if (argv.includes('--help') || argv.includes('-h')) throw new HelpRequest();
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values;
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e));
  }
}

/** 'auto': the fastest CPU path that starts here (wasm, else tfjs's plain JavaScript cpu backend). */
export type Backend = 'auto' | 'webgpu' | 'wasm' | 'cpu';
export const kBackendUsage = '--backend auto|webgpu|wasm|cpu';

export function parseBackend(s: string | undefined): Backend {
  if (s === undefined) return 'auto';
  if (s === 'auto' || s === 'webgpu' || s === 'wasm' || s === 'cpu') return s;
  throw new UsageError(`--backend ${s}: expected auto (the fastest CPU path: wasm, else cpu), webgpu, wasm or cpu`);
}

export function parsePositiveInt(name: string, s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  const n = Number(s);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name} ${s}: expected a positive integer`);
  return n;
}

/**
 * Selects the backend and returns tfjs's name for it (printed by every command). A backend named
 * explicitly that cannot start is a usage error (no silent fallback); 'auto' says on stderr when wasm
 * could not start and tfjs's slower cpu backend is used instead.
 */
export async function selectBackend(b: Backend): Promise<string> {
  try {
    if (b === 'webgpu') await useNodeWebgpu();
    else if (b !== 'auto') await useCpuBackend(b);
    else {
      const { notice } = await useFastestCpuBackend();
      if (notice) console.error(notice);
    }
  } catch (e) {
    throw new UsageError(`--backend ${b}: ${e instanceof Error ? e.message : String(e)}`);
  }
  return tf.getBackend();
}

/** Loads a dataset, or throws a UsageError listing why nothing trainable is in it. */
export async function openDataset(path: string): Promise<Dataset> {
  let source;
  try {
    source = await openNodePath(path);
  } catch (e) {
    throw new UsageError(`--dataset ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const ds = await loadDataset(source);
  if (!isUsable(ds)) {
    const lines = ds.problems.slice(0, 10).map((p) => `  ${p.file}${p.field ? ` (${p.field})` : ''}: ${p.message}`);
    const more = ds.problems.length > 10 ? [`  ... and ${ds.problems.length - 10} more`] : [];
    throw new UsageError([`--dataset ${path}: nothing to train or evaluate on (no object with a model and an instance in an image)`, ...lines, ...more].join('\n'));
  }
  return ds;
}

/** A bundle from a folder (with poselab.json at its top or one level down) or a .zip file; flag names the option in errors. */
export async function readBundlePath(path: string, flag = '--model'): Promise<BundleFiles> {
  let s;
  try {
    s = await stat(path);
  } catch {
    throw new UsageError(`${flag} ${path}: no such file or folder`);
  }
  if (!s.isDirectory()) {
    try {
      return unzipBundle(new Uint8Array(await readFile(path)));
    } catch (e) {
      throw new UsageError(`${flag} ${path}: ${e instanceof Error ? e.message : String(e)}`);
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

/** Checks before training that --out can take a bundle: a .zip file name, or a folder (not an existing file). */
export async function prepareBundlePath(out: string): Promise<void> {
  if (out.toLowerCase().endsWith('.zip')) return prepareOutputFile(out, '--out');
  const s = await stat(out).catch(() => undefined);
  if (s && !s.isDirectory()) throw new UsageError(`--out ${out}: is an existing file; give a folder or a .zip name for the bundle`);
}

/** Writes a bundle as a .zip when out ends in .zip, else as a folder; returns what was written. */
export async function writeBundlePath(files: BundleFiles, out: string): Promise<string> {
  if (out.toLowerCase().endsWith('.zip')) {
    await mkdir(dirname(out), { recursive: true });
    await writeFile(out, zipBundle(files));
    return out;
  }
  await mkdir(out, { recursive: true });
  for (const [name, bytes] of files) await writeFile(join(out, name), bytes);
  return out;
}

/**
 * Runs a command's main, mapping a UsageError to exit 2 with the usage, anything else to exit 1. Exits
 * only once stdout and stderr have drained: a pipe takes output in 64 KiB pieces, and an exit before
 * the last one cuts the output short.
 */
export function runMain(main: () => Promise<number>, usage: string): void {
  const exit = (code: number) => process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
  main().then(
    (code) => exit(code),
    (e: unknown) => {
      if (e instanceof HelpRequest) {
        console.log(usage);
        exit(0);
        return;
      }
      if (e instanceof UsageError) {
        console.error(`${e.message}\n${usage}`);
        exit(2);
        return;
      }
      console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
      exit(1);
    },
  );
}

/**
 * Checks before any long work that `path` can be written as a file (flag names the option in the
 * message), creating its folder: a run should not end in an error about where to put its result.
 */
export async function prepareOutputFile(path: string, flag: string): Promise<void> {
  const s = await stat(path).catch(() => undefined);
  if (s?.isDirectory()) throw new UsageError(`${flag} ${path}: is a folder, a file name is expected`);
  try {
    await mkdir(dirname(path), { recursive: true });
  } catch (e) {
    throw new UsageError(`${flag} ${path}: cannot create its folder (${e instanceof Error ? e.message : String(e)})`);
  }
}

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '--';
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : m > 0 ? `${m}m${String(sec).padStart(2, '0')}s` : `${sec}s`;
}
