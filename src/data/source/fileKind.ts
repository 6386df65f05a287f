/**
 * What a file that is not a zip archive holds, from its first bytes: said beside "not a zip archive" so that
 * a person who gave a photo, a tarball or a text file where a dataset, a bundle or a zip was wanted reads
 * what they gave. Signatures from each format's own specification (PNG, JFIF/EXIF, RFC 1952 gzip, POSIX
 * ustar, bzip2, xz, Zstandard, 7-Zip, RAR, PDF).
 */

/** Bytes fileKind needs from the file's start (ustar's magic sits at offset 257). */
export const kFileKindHeadBytes = 512;

const kSignatures: { at: number; bytes: number[]; kind: string }[] = [
  { at: 0, bytes: [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], kind: 'a PNG image' },
  { at: 0, bytes: [0xff, 0xd8, 0xff], kind: 'a JPEG image' },
  { at: 0, bytes: [0x1f, 0x8b], kind: 'a gzip file (a .tar.gz?)' },
  { at: 257, bytes: [0x75, 0x73, 0x74, 0x61, 0x72], kind: 'a tar archive' },
  { at: 0, bytes: [0x42, 0x5a, 0x68], kind: 'a bzip2 file' },
  { at: 0, bytes: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], kind: 'an xz file' },
  { at: 0, bytes: [0x28, 0xb5, 0x2f, 0xfd], kind: 'a Zstandard file' },
  { at: 0, bytes: [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c], kind: 'a 7-Zip archive' },
  { at: 0, bytes: [0x52, 0x61, 0x72, 0x21, 0x1a, 0x07], kind: 'a RAR archive' },
  { at: 0, bytes: [0x25, 0x50, 0x44, 0x46, 0x2d], kind: 'a PDF document' },
];

/**
 * head: the file's first kFileKindHeadBytes bytes (fewer for a shorter file). Returns the kind in words
 * ('a PNG image', 'text', 'an empty file'), or undefined when the bytes match nothing known.
 */
export function fileKind(head: Uint8Array): string | undefined {
  if (head.length === 0) return 'an empty file';
  for (const s of kSignatures) {
    if (head.length >= s.at + s.bytes.length && s.bytes.every((b, i) => head[s.at + i] === b)) return s.kind;
  }
  return isText(head) ? 'text' : undefined;
}

/** UTF-8 without control characters other than tab, newline, carriage return and form feed. */
function isText(head: Uint8Array): boolean {
  let s: string;
  try {
    // A multi-byte character cut at the end of head is not a reason to call the file binary.
    s = new TextDecoder('utf-8', { fatal: true }).decode(head.subarray(0, lastWholeChar(head)));
  } catch {
    return false;
  }
  return !/[\u0000-\u0008\u000b\u000e-\u001f\u007f]/.test(s);
}

/** head's length less a trailing, incomplete UTF-8 sequence. */
function lastWholeChar(head: Uint8Array): number {
  let i = head.length;
  let back = 0;
  while (i > 0 && back < 3 && (head[i - 1] & 0xc0) === 0x80) { i--; back++; }
  if (i === 0) return head.length;
  const lead = head[i - 1];
  const need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
  return need > back + 1 ? i - 1 : head.length;
}
