/**
 * Paths inside a byte source: '/'-separated, relative, no '.' or '..' segments. A path that would climb
 * out of its root ('..'), is absolute, or holds a NUL is refused with a reason, never silently rewritten.
 */
export type SafePath = { ok: true; path: string } | { ok: false; reason: string };

export function safePath(raw: string): SafePath {
  if (raw.includes('\u0000')) return { ok: false, reason: 'path holds a NUL character' };
  const slashed = raw.replace(/\\/g, '/');
  if (slashed.startsWith('/') || /^[A-Za-z]:/.test(slashed)) return { ok: false, reason: 'absolute path' };
  const parts = slashed.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.some((p) => p === '..')) return { ok: false, reason: "path climbs out of its folder with '..'" };
  return { ok: true, path: parts.join('/') };
}

export function basename(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? path : path.slice(i + 1);
}

export function dirname(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}

/** File name without its last extension: '000012.png' -> '000012'. */
export function stem(path: string): string {
  const b = basename(path);
  const i = b.lastIndexOf('.');
  return i <= 0 ? b : b.slice(0, i);
}

/**
 * Why a path is operating-system or tool litter rather than dataset content, or undefined when it is
 * content. macOS's Archive Utility adds a __MACOSX/ shadow tree of AppleDouble '._<name>' twins (same
 * names as the real files, so a layout search would find the dataset twice); Finder leaves .DS_Store,
 * Windows Thumbs.db and desktop.ini; editors and version control leave hidden ('.'-prefixed) files and
 * folders. None of these is ever part of a BOP or PVNet dataset, so every source leaves them out and
 * counts them (ByteSource.ignored) instead of reporting each as a problem.
 */
export function litterReason(path: string): string | undefined {
  return litterAt(path)?.reason;
}

/** The first segment of path that makes it litter: its index among the segments, and why. */
function litterAt(path: string): { parts: string[]; index: number; reason: string } | undefined {
  const parts = path.split('/').filter((p) => p !== '');
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    const last = i === parts.length - 1;
    const reason = p === '__MACOSX' ? 'macOS resource-fork folder (__MACOSX/)'
      : p.startsWith('._') ? "macOS AppleDouble file ('._' prefix)"
      : p === '.DS_Store' ? 'macOS Finder file (.DS_Store)'
      : last && /^thumbs\.db$/i.test(p) ? 'Windows thumbnail cache (Thumbs.db)'
      : last && /^desktop\.ini$/i.test(p) ? 'Windows folder settings (desktop.ini)'
      : p.startsWith('.') && p !== '.' && p !== '..' ? `hidden ${last ? 'file' : 'folder'} ('.' prefix)`
      : undefined;
    if (reason) return { parts, index: i, reason };
  }
  return undefined;
}

/**
 * What a source left out as litter: how many entries, and a few of them to show. An entry is a litter
 * file, or a litter folder (`a/__MACOSX/`, `a/.git/`) counted once whatever it holds, so that a folder, its
 * zip and its drop onto the page give one count: a folder source never walks a litter folder, a zip
 * lists every file in it.
 */
export interface IgnoredLitter {
  count: number;
  examples: string[];
}

/**
 * What a source left out, in one line, wherever it is said (the page's problem list, `npm run dataset`,
 * `npm run predict`): "2 OS or tool entries ignored (__MACOSX/, ...), e.g. a/.DS_Store, a/__MACOSX/".
 */
export function ignoredMessage(ignored: IgnoredLitter): string {
  return `${ignored.count} OS or tool ${ignored.count === 1 ? 'entry' : 'entries'} ignored (__MACOSX/, ._*, .DS_Store, Thumbs.db, desktop.ini, hidden entries; a folder counts once), e.g. ${ignored.examples.slice(0, 3).join(', ')}`;
}

export class LitterTally implements IgnoredLitter {
  count = 0;
  examples: string[] = [];
  private readonly seen = new Set<string>();
  /**
   * True when path is litter, counted by its litter entry: the path up to its first litter segment,
   * with a '/' where that is a folder (a segment with more below it, or `folder` for the path itself).
   */
  skip(path: string, folder = false): boolean {
    const at = litterAt(path);
    if (!at) return false;
    const isFolder = at.index < at.parts.length - 1 || folder;
    this.note(at.parts.slice(0, at.index + 1).join('/') + (isFolder ? '/' : ''));
    return true;
  }

  /**
   * Counts another source's litter into this one, as the entries of one merged tree: an entry both hold
   * (the __MACOSX/ of each of two split zips rooted at one folder) counts once, as their files merge.
   */
  add(other: IgnoredLitter): void {
    if (other instanceof LitterTally) {
      for (const e of other.seen) this.note(e);
      return;
    }
    this.count += other.count;
    this.examples.push(...other.examples.slice(0, 5 - this.examples.length));
  }

  private note(entry: string): void {
    if (this.seen.has(entry)) return;
    this.seen.add(entry);
    this.count++;
    if (this.examples.length < 5) this.examples.push(entry);
  }
}
