/**
 * The one command-line style of every command (src/cli, the benchmarks, scripts/make-dataset.ts): the
 * argument syntax, the checks of numbers and lists, the output-path check and the exit codes (0 done,
 * 1 failure, 2 bad arguments: a usage error printed with the usage, or an input error alone; `--help`
 * prints the usage and exits 0). It imports
 * nothing but Node and fileKind (which imports nothing), so that a script which needs no tfjs (make-dataset)
 * starts without it.
 */
import { existsSync, lstatSync, readlinkSync } from 'node:fs';
import { mkdir, open, readFile, readlink, stat, unlink } from 'node:fs/promises';
import { dirname, extname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fileKind } from '../data/source/fileKind';

/** A mistake in the command line itself (a flag unknown, missing, repeated or malformed): printed with the usage, exit status 2. */
export class UsageError extends Error {}

/**
 * A well-formed command line naming something that cannot be used (a file that is missing or unreadable,
 * a file's contents, an output that cannot be written, a backend that cannot start): exit status 2 like a
 * usage error, printed alone, since the usage would not say what to change.
 */
export class InputError extends Error {}

/** `--help` or `-h`: runMain prints the usage and exits 0. */
class HelpRequest extends Error {}

export type FlagSpec = { type: 'string'; multiple?: boolean } | { type: 'boolean' };

type FlagValues<O extends Record<string, FlagSpec>> = {
  [K in keyof O]?: O[K] extends { type: 'boolean' } ? boolean : O[K] extends { multiple: true } ? string[] : string;
};

/**
 * The one argument syntax: `--name value` or `--name=value` for a value (which may begin with a minus:
 * `--K -1,0,320,240`, `--seed -0`), `--name` alone for a switch, anything else a positional (after `--`,
 * everything). Unknown flags, a value missing, empty or given to a switch, a flag that takes one value given
 * twice, and more positionals than allowed are UsageErrors.
 */
export function parseCommandLine<O extends Record<string, FlagSpec>>(argv: readonly string[], options: O, maxPositionals = 0): {
  values: FlagValues<O>; positionals: string[];
} {
  if (argv.includes('--help') || argv.includes('-h')) throw new HelpRequest();
  const values: Record<string, string | boolean | string[]> = {};
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith('--')) {
      positionals.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = a.slice(2, eq < 0 ? undefined : eq);
    const spec = Object.prototype.hasOwnProperty.call(options, name) ? options[name] : undefined;
    if (!spec) throw new UsageError(`Unknown option '--${name}'`);
    if (spec.type === 'boolean') {
      if (eq >= 0) throw new UsageError(`--${name} is a switch and takes no value`);
      values[name] = true;
      continue;
    }
    let value: string;
    if (eq >= 0) value = a.slice(eq + 1);
    else {
      // The next word is the value, even when it begins with a minus (a negative number), unless it is a flag.
      if (i + 1 >= argv.length || argv[i + 1].startsWith('--')) throw new UsageError(`--${name} needs a value`);
      value = argv[++i];
    }
    // An empty value is never meant (an unset shell variable, `--out ''`): taken as given, it would name the
    // current folder, or read as the flag left out.
    if (value.trim() === '') throw new UsageError(`--${name} has an empty value; give one, or leave the flag out`);
    if (spec.multiple) values[name] = [...((values[name] as string[] | undefined) ?? []), value];
    else if (values[name] !== undefined) throw new UsageError(`--${name} given twice (${String(values[name])} and ${value}); give it once`);
    else values[name] = value;
  }
  if (positionals.length > maxPositionals) {
    throw new UsageError(maxPositionals === 0 ? `unexpected argument ${positionals[0]}` : `unexpected argument ${positionals[maxPositionals]}`);
  }
  return { values: values as FlagValues<O>, positionals };
}

/** `--name value` flags only (no positionals). */
export function parseFlags<O extends Record<string, FlagSpec>>(argv: readonly string[], options: O): FlagValues<O> {
  return parseCommandLine(argv, options).values;
}

/** An integer of at least min (and at most max), or the UsageError naming the flag and the value. */
function integerOf(name: string, s: string, min: number, max = Infinity, what = 'an integer'): number {
  // Digits only (a sign where min < 0): 1e3, 0x10 or 10.0 are not what "an integer" asks for; and no more
  // than a double holds exactly (2^53 - 1), which 99999999999999999999 is not.
  const n = Number(s);
  if (!/^\s*[-+]?\d+\s*$/.test(s) || !Number.isSafeInteger(n) || n < min || n > max) {
    const range = max < Infinity ? ` from ${min} to ${max}` : min === 1 ? ' >= 1' : ` >= ${min}`;
    const expected = max === Infinity && min === 1 && what === 'an integer' ? 'a positive integer' : `${what}${range}`;
    const tooLarge = max === Infinity && /^\s*\+?\d+\s*$/.test(s) && !Number.isSafeInteger(n) ? `, at most ${Number.MAX_SAFE_INTEGER}` : '';
    throw new UsageError(`--${name} ${s}: expected ${expected}${tooLarge}`);
  }
  return n;
}

/** The largest seed: seeds are mixed as 32-bit words (data/rng.ts hashSeed), so a larger one would repeat a smaller one's run. */
export const kMaxSeed = 2 ** 32 - 1;

/** An integer option of at least min (and at most max), or undefined when absent. */
export function parseInteger(name: string, s: string | undefined, min: number, max = Infinity): number | undefined {
  return s === undefined ? undefined : integerOf(name, s, min, max);
}

export function parsePositiveInt(name: string, s: string | undefined): number | undefined {
  return parseInteger(name, s, 1);
}

/** A comma list of integers of at least min (`--seeds 1,2`, `--B 64,1024`), or undefined when absent. */
export function parseIntegerList(name: string, s: string | undefined, min: number, why = '', max = Infinity): number[] | undefined {
  if (s === undefined) return undefined;
  const range = max < Infinity ? `from ${min} to ${max}` : `>= ${min}`;
  const what = `a comma list of integers ${range}${why}`;
  const out = s.split(',').map((x) => {
    try {
      return integerOf(name, x, min, max);
    } catch {
      throw new UsageError(`--${name} ${s}: ${x.trim() === '' ? 'an empty item' : `${x} is not an integer ${range}`}; expected ${what}`);
    }
  });
  const twice = out.find((x, i) => out.indexOf(x) !== i);
  if (twice !== undefined) throw new UsageError(`--${name} ${s}: ${twice} is given twice; expected ${what}, each once`);
  return out;
}

/** A comma list of names each of which is one of `choices`, or undefined when absent. */
export function parseChoiceList<T extends string>(name: string, s: string | undefined, choices: readonly T[]): T[] | undefined {
  if (s === undefined) return undefined;
  const items = s.split(',');
  const bad = items.find((x) => !(choices as readonly string[]).includes(x));
  if (bad !== undefined) throw new UsageError(`--${name} ${s}: ${bad === '' ? 'an empty item' : `${bad} is not one of ${choices.join(', ')}`}`);
  return items as T[];
}

/**
 * Runs a command's main, mapping a UsageError to exit 2 with the usage, an InputError to exit 2 without
 * it, anything else to exit 1, and --help to `help` (the usage when not given) on stdout with exit 0. Exits
 * only once stdout and stderr have drained: a pipe takes output in 64 KiB pieces, and an exit before
 * the last one cuts the output short.
 */
export function runMain(main: () => Promise<number>, usage: string, help = usage): void {
  const exit = (code: number) => process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
  main().then(
    (code) => exit(code),
    (e: unknown) => {
      if (e instanceof HelpRequest) {
        console.log(help);
        exit(0);
        return;
      }
      if (e instanceof UsageError || e instanceof InputError) {
        console.error(e instanceof UsageError ? `${e.message}\n${usage}` : e.message);
        exit(2);
        return;
      }
      console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
      exit(1);
    },
  );
}

/**
 * mkdir -p for a path a user gave: the missing folders made one by one from the nearest one that exists.
 * Node's own recursive mkdir loops forever where a parent refuses new entries without reporting it as
 * read-only (under /proc it keeps retrying ENOENT); one level at a time, the first failure is thrown.
 */
export async function makeFolders(path: string): Promise<void> {
  const missing: string[] = [];
  let d = resolve(path);
  for (;;) {
    const s = await stat(d).catch(() => undefined);
    if (s) {
      if (!s.isDirectory()) throw new Error(`ENOTDIR: ${d} is a file, not a folder`);
      break;
    }
    missing.push(d);
    const up = dirname(d);
    if (up === d) break;
    d = up;
  }
  for (const m of missing.reverse()) {
    await mkdir(m).catch(async (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EEXIST') throw e;
      // Made meanwhile by someone else is what was wanted; a dangling symbolic link or a loop of them (which stat
      // took for nothing there) is not a folder.
      const s = await stat(m).catch((err: NodeJS.ErrnoException) => err);
      if (!(s instanceof Error) && s.isDirectory()) return;
      if (!(s instanceof Error)) throw new Error(`ENOTDIR: ${m} is a file, not a folder`);
      throw new Error(s.code === 'ELOOP' ? `ELOOP: ${m} is a loop of symbolic links`
        : `ENOENT: ${m} is a symbolic link to ${await readlink(m).catch(() => 'nothing readable')}, which does not exist`);
    });
  }
}

/** Creates a file in `folder` and removes it: the folder can be written now (not read-only, not a dangling link). */
export async function probeWritableFolder(folder: string): Promise<void> {
  await createAndRemove(join(folder, `.poselab-write-check-${process.pid}`));
}

/**
 * Checks before any long work that `path` can be written as a file (flag names the option in the
 * message), creating its folder: a run should not end in an error about where to put its result.
 * `opts.extensions` (lower case, with the dot) are the names it may have, so that a slip such as
 * `--csv README.md` is refused rather than written over; `opts.inputs` are files the run reads, which it
 * may not write over either.
 */
export async function prepareOutputFile(path: string, flag: string, opts: { extensions?: readonly string[]; inputs?: readonly (string | undefined)[] } = {}): Promise<void> {
  const s = await stat(path).catch(() => undefined);
  if (s?.isDirectory()) throw new InputError(`${flag} ${path}: is a folder, a file name is expected`);
  if (opts.extensions && !opts.extensions.includes(extname(path).toLowerCase())) {
    throw new UsageError(`${flag} ${path}: expected a ${opts.extensions.join(' or ')} file name`);
  }
  // The same file by another name too (a symbolic or hard link): the same device and inode.
  const sameFile = async (f: string) => resolve(f) === resolve(path)
    || (s !== undefined && await stat(f).then((fs) => fs.dev === s.dev && fs.ino === s.ino, () => false));
  for (const f of opts.inputs ?? []) {
    if (f !== undefined && await sameFile(f)) throw new InputError(`${flag} ${path}: is the file this run reads${resolve(f) === resolve(path) ? '' : ` (${f}, by a link)`}; give another name`);
  }
  try {
    await makeFolders(dirname(path));
  } catch (e) {
    throw new InputError(`${flag} ${path}: cannot create its folder (${e instanceof Error ? e.message : String(e)})`);
  }
  // Opened as the run will open it, so that a read-only file or folder, or a path no file can have (under
  // /proc, say), is refused now: an existing file for writing without truncating it, a new one created
  // and removed again.
  try {
    if (s) await (await open(path, 'r+')).close();
    else await createAndRemove(path);
  } catch (e) {
    throw new InputError(`${flag} ${path}: cannot be written (${e instanceof Error ? e.message : String(e)})`);
  }
}

/**
 * "no such file" (or `what`) for a path a person gave, with where a relative path was looked for when npm ran
 * the command from another folder than the one the person typed it in (npm runs scripts from the project's
 * root and says where it was called from in INIT_CWD).
 */
export function notFound(path: string, what = 'no such file or folder'): string {
  const from = process.env.INIT_CWD;
  if (isAbsolute(path) || !from || resolve(from) === process.cwd()) return what;
  const where = `a relative path is read from ${process.cwd()}, the project's root, where npm runs the command, not from ${from}`;
  // The path meant is named only where it is there.
  const meant = resolve(from, path);
  return existsSync(meant) ? `${what} (${where}; give ${relative(process.cwd(), meant)} or an absolute path)` : `${what} (${where})`;
}

/**
 * Whether `path` is `folder` or lies inside it (a name such as `..x` inside it too), as written or where the
 * system would put it, symbolic links followed (a link to the folder or into it, dangling or not, a `..` after a
 * link; the rest of the path need not exist yet).
 */
export function isWithin(path: string, folder: string): boolean {
  const inside = (p: string, f: string) => {
    const rel = relative(f, p);
    return !(rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel));
  };
  return inside(resolve(path), resolve(folder)) || inside(physicalPath(path), physicalPath(folder));
}

/**
 * The absolute path the system reaches by `path`: each component in turn, a symbolic link replaced by its target
 * and `..` taken from where the links led, not from the text as resolve() takes it (where `mkdir -p` or a shell's
 * redirection would put a file). Components that do not exist are kept as written. A dangling link is followed
 * for a file (writing through it creates its target) and kept as it is for a folder (`dangling: 'keep'`: mkdir
 * refuses it, and so does makeFolders, naming it).
 */
export function physicalPath(path: string, dangling: 'follow' | 'keep' = 'follow'): string {
  const parts = (isAbsolute(path) ? path : `${process.cwd()}${sep}${path}`).split(sep).filter((p) => p !== '' && p !== '.');
  let at: string = sep;
  // A loop of links ends the walk where it is (the system would refuse the path: ELOOP).
  for (let links = 0; parts.length > 0;) {
    const p = parts.shift()!;
    if (p === '..') {
      at = dirname(at);
      continue;
    }
    const next = join(at, p);
    const isLink = (() => {
      try {
        return lstatSync(next).isSymbolicLink();
      } catch {
        return false;
      }
    })();
    if (isLink && (dangling === 'follow' || existsSync(next)) && links++ < 40) {
      const target = readlinkSync(next);
      parts.unshift(...target.split(sep).filter((q) => q !== '' && q !== '.'));
      if (isAbsolute(target)) at = sep;
      continue;
    }
    at = next;
  }
  return at;
}

/**
 * The text of a file a flag names (`what` says what file is wanted: 'a JSON config file'), or an InputError
 * naming the flag, the path and why: no such file, a folder, empty, or the system's reason it cannot be read.
 */
export async function readInputText(path: string, flag: string, what: string): Promise<string> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? notFound(path, 'no such file') : code === 'EISDIR' ? `is a folder; give ${what}` : `cannot be read (${e instanceof Error ? e.message : String(e)})`;
    throw new InputError(`${flag} ${path}: ${why}`);
  }
  // An image or an archive given for a JSON file is named as what it is, not quoted byte by byte in a parse error.
  const kind = fileKind(bytes);
  if (kind !== 'text' && kind !== 'an empty file') throw new InputError(`${flag} ${path}: is ${kind ?? 'binary data, not text'}; give ${what}`);
  const text = new TextDecoder().decode(bytes);
  if (text.trim() === '') throw new InputError(`${flag} ${path}: is empty; give ${what}`);
  return text;
}

/**
 * An output given either as a file name ending in `extension` (lower case, with the dot; checked as
 * prepareOutputFile checks it) or as a folder, an existing one or a path ending in /, in which the command
 * writes a file of the name it chooses (created now, and found writable now: a probe file is made and
 * removed). Returns which; otherwise a UsageError (the name's form) or an InputError (the place) naming the flag.
 */
export async function prepareFileOrFolder(path: string, flag: string, extension: string): Promise<{ file: string } | { folder: string }> {
  if (!(await isFolderPath(path))) {
    if (extname(path).toLowerCase() !== extension) {
      throw new UsageError(`${flag} ${path}: expected a ${extension} file name, or a folder (an existing one, or a path ending in /) for a file named by the command`);
    }
    await prepareOutputFile(path, flag);
    return { file: path };
  }
  try {
    await makeFolders(path);
  } catch (e) {
    throw new InputError(`${flag} ${path}: cannot create the folder (${e instanceof Error ? e.message : String(e)})`);
  }
  try {
    await createAndRemove(join(path, `.poselab-write-probe-${process.pid}`));
  } catch (e) {
    throw new InputError(`${flag} ${path}: no file can be written in this folder (${e instanceof Error ? e.message : String(e)})`);
  }
  return { folder: path };
}

/** Makes the file `path`, which must not exist, and removes it: whether a file can be written there. */
async function createAndRemove(path: string): Promise<void> {
  await (await open(path, 'wx')).close();
  await unlink(path);
}

/** Whether `path` names a folder: an existing one, or a path written with a trailing slash. */
export async function isFolderPath(path: string): Promise<boolean> {
  return /[/\\]$/.test(path) || (await stat(path).then((s) => s.isDirectory(), () => false));
}
