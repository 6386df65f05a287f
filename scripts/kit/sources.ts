/**
 * What a kit was built from: the tracked files under src/, bench/ and scripts/, and package-lock.json, as the working
 * tree holds them (`git ls-files`, so a file git ignores or does not know is not in it). `npm run kit` writes them to
 * .kit/sources.sha256 in sha256sum's own format and their digest, the sha256 of that file, to .kit/manifest.json;
 * scripts/device-check.sh recomputes the digest on the GPU machine's copy of the tree with bash and sha256sum alone
 * (that copy may have no .git) and refuses a kit built from other sources before anything else: a stale kit would
 * spend the lease measuring code that is not the tree's.
 *
 * bench/results/ is left out: results are what the kit brings back, not what its bundles are built from, and
 * committing one must not make a kit stale.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The `git ls-files` pathspecs of the sources (device-check.sh reads the list, not these). */
export const kSourcePathspecs: readonly string[] = ['src', 'bench', 'scripts', 'package-lock.json', ':(exclude)bench/results'];

export interface KitSources {
  /** One line a file, `<sha256>  <path>`, as `sha256sum <path>...` prints it from the repository root; git's order. */
  list: string;
  /** The sha256 of `list`: what `sha256sum <paths> | sha256sum` prints on a tree with the same contents. */
  sha256: string;
  /** How many files. */
  files: number;
}

/**
 * The sources of `repo`'s working tree. A tracked file deleted there is left out (the tree carried to the GPU
 * machine lacks it too). Throws naming a path sha256sum would escape (a backslash or a newline in it: the list's
 * format could not hold it), or git's failure.
 */
export function kitSources(repo: string): KitSources {
  const r = spawnSync('git', ['ls-files', '-z', '--', ...kSourcePathspecs], { cwd: repo, encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  if (r.error) throw new Error(`git ls-files in ${repo}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`git ls-files in ${repo}: exit ${r.status}: ${r.stderr.trim()}`);
  const paths = r.stdout.split('\0').filter((p) => p !== '' && existsSync(join(repo, p)));
  const odd = paths.find((p) => /[\\\n\r]/.test(p));
  if (odd !== undefined) throw new Error(`${JSON.stringify(odd)}: a source path with a backslash or a line break, which sha256sum's list cannot hold as it is; rename it`);
  const list = paths.map((p) => `${sha256File(join(repo, p))}  ${p}\n`).join('');
  return { list, sha256: createHash('sha256').update(list).digest('hex'), files: paths.length };
}

/** A file's sha256, hex, as sha256sum prints it. */
export function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** The paths whose line differs between two lists (changed, added or gone), for a message. */
export function changedSources(before: string, after: string): string[] {
  const lines = (s: string) => new Map(s.split('\n').filter(Boolean).map((l) => [l.slice(66), l.slice(0, 64)]));
  const a = lines(before);
  const b = lines(after);
  return [...new Set([...a.keys(), ...b.keys()])].filter((p) => a.get(p) !== b.get(p));
}
