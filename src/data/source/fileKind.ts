/**
 * What a file that is not a zip archive holds, from its first bytes: said beside "not a zip archive" so that
 * a person who gave a photo, a tarball or a text file where a dataset, a bundle or a zip was wanted reads
 * what they gave, and an image file that no decoder here reads is named as the format it is (a phone's HEIC
 * saved as .jpg). Signatures from each format's own specification (PNG, JFIF/EXIF, GIF89a, RIFF WebP,
 * TIFF 6.0, BMP, ISO BMFF's ftyp box for HEIF and AVIF, APPNOTE's local file header, RFC 1952 gzip, POSIX
 * ustar, bzip2, xz, Zstandard, 7-Zip, RAR, PDF).
 */

/** Bytes fileKind needs from the file's start (ustar's magic sits at offset 257). */
export const kFileKindHeadBytes = 512;

const ascii = (s: string): number[] => Array.from(s, (c) => c.charCodeAt(0));
const at = (head: Uint8Array, offset: number, bytes: number[]): boolean =>
  head.length >= offset + bytes.length && bytes.every((b, i) => head[offset + i] === b);

const text4 = (h: Uint8Array, offset: number): string => String.fromCharCode(...h.subarray(offset, offset + 4));

/** Each format's test: its kind in words where head is one, else undefined. */
const kSignatures: ((head: Uint8Array) => string | undefined)[] = [
  (h) => at(h, 0, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]) ? 'a PNG image' : undefined,
  (h) => at(h, 0, [0xff, 0xd8, 0xff]) ? 'a JPEG image' : undefined,
  (h) => at(h, 0, ascii('GIF87a')) || at(h, 0, ascii('GIF89a')) ? 'a GIF image' : undefined,
  (h) => at(h, 0, ascii('RIFF')) && at(h, 8, ascii('WEBP')) ? 'a WebP image' : undefined,
  (h) => at(h, 0, [0x49, 0x49, 0x2a, 0x00]) || at(h, 0, [0x4d, 0x4d, 0x00, 0x2a]) ? 'a TIFF image' : undefined,
  // "BM" and the header's two reserved words, zero: text that starts with "BM" is not taken for one.
  (h) => at(h, 0, ascii('BM')) && at(h, 6, [0, 0, 0, 0]) ? 'a BMP image' : undefined,
  // ISO BMFF's ftyp box: its major brand says HEIC/HEIF (a phone's photo), AVIF, or another media file.
  (h) => {
    if (!at(h, 4, ascii('ftyp')) || h.length < 12) return undefined;
    const brand = text4(h, 8);
    return /^(heic|heix|heim|heis|hevc|hevx|mif1|msf1)$/.test(brand) ? 'a HEIC/HEIF image'
      : /^avi[fs]$/.test(brand) ? 'an AVIF image' : `an ISO media file (brand '${brand}')`;
  },
  // A zip's first local header (where a reader of the whole archive failed, one cut short: zip.ts says so).
  (h) => at(h, 0, [0x50, 0x4b, 0x03, 0x04]) ? 'a zip archive' : undefined,
  (h) => at(h, 0, [0x1f, 0x8b]) ? 'a gzip file, perhaps a .tar.gz' : undefined,
  (h) => at(h, 257, ascii('ustar')) ? 'a tar archive' : undefined,
  // "BZh" and a block size digit: text that starts with "BZh" is not taken for one.
  (h) => at(h, 0, ascii('BZh')) && h.length > 3 && h[3] >= 0x31 && h[3] <= 0x39 ? 'a bzip2 file' : undefined,
  (h) => at(h, 0, [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]) ? 'an xz file' : undefined,
  (h) => at(h, 0, [0x28, 0xb5, 0x2f, 0xfd]) ? 'a Zstandard file' : undefined,
  (h) => at(h, 0, [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c]) ? 'a 7-Zip archive' : undefined,
  (h) => at(h, 0, [0x52, 0x61, 0x72, 0x21, 0x1a, 0x07]) ? 'a RAR archive' : undefined,
  (h) => at(h, 0, ascii('%PDF-')) ? 'a PDF document' : undefined,
  // A byte order mark of UTF-16 (what some Windows editors save "Unicode" text as): text, but not UTF-8.
  (h) => at(h, 0, [0xff, 0xfe]) || at(h, 0, [0xfe, 0xff]) ? 'UTF-16 text (JSON files are read as UTF-8)' : undefined,
];

/**
 * bytes: the file's start, at least its first kFileKindHeadBytes bytes (all of a shorter file; any beyond are
 * not read). Returns the kind in words ('a PNG image', 'text', 'an empty file'), or undefined when the bytes
 * match nothing known.
 */
export function fileKind(bytes: Uint8Array): string | undefined {
  const head = bytes.subarray(0, kFileKindHeadBytes);
  if (head.length === 0) return 'an empty file';
  for (const test of kSignatures) {
    const kind = test(head);
    if (kind) return kind;
  }
  return isText(head) ? 'text' : undefined;
}

/** UTF-8 without control characters other than tab, newline, carriage return and form feed. */
function isText(head: Uint8Array): boolean {
  let s: string;
  try {
    s = new TextDecoder('utf-8', { fatal: true }).decode(head.subarray(0, wholeCharacters(head)));
  } catch {
    return false;
  }
  return !/[\u0000-\u0008\u000b\u000e-\u001f\u007f]/.test(s);
}

/**
 * head's length less the start of a multi-byte character that the head's end cut (only a full head can
 * end inside a character; a shorter file ends where it ends, and a partial character there is not text).
 */
function wholeCharacters(head: Uint8Array): number {
  if (head.length < kFileKindHeadBytes) return head.length;
  let i = head.length - 1;
  let continuations = 0;
  while (i >= 0 && continuations < 3 && (head[i] & 0xc0) === 0x80) { i--; continuations++; }
  if (i < 0) return head.length;
  const lead = head[i];
  // UTF-8's lead bytes (RFC 3629): C2-DF start 2 bytes, E0-EF 3, F0-F4 4; any other byte is no lead.
  const length = lead >= 0xc2 && lead <= 0xdf ? 2 : lead >= 0xe0 && lead <= 0xef ? 3 : lead >= 0xf0 && lead <= 0xf4 ? 4 : 1;
  return length > continuations + 1 ? i : head.length;
}
