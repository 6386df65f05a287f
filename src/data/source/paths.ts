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
