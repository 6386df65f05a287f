/**
 * Decoded images and the decoder seam: Node (CLI, tests) decodes with pure-JS fast-png / jpeg-js
 * (decode/pure.ts), the browser with createImageBitmap (decode/browser.ts). Everything is RGBA8,
 * row-major, top row first.
 */
import { fileKind } from './source/fileKind';

export interface RgbaImage {
  widthPx: number;
  heightPx: number;
  /** [heightPx, widthPx, 4] */
  rgba: Uint8Array;
}

export type ImageKind = 'png' | 'jpeg';

/** Throws on a corrupt or unsupported image (callers turn that into a problem line). */
export type DecodeImage = (bytes: Uint8Array, kind: ImageKind) => Promise<RgbaImage>;

export function imageKindOf(path: string): ImageKind | undefined {
  if (/\.png$/i.test(path)) return 'png';
  if (/\.jpe?g$/i.test(path)) return 'jpeg';
  return undefined;
}

/** An image file that cannot be read or decoded: `path` names it (a mask's, not the rgb's, when the mask failed). */
export class ImageFileError extends Error {
  constructor(readonly path: string, readonly why: string) {
    super(`${path}: ${why}`);
  }
}

/**
 * Reads and decodes the image at `path`. Decoders say what is wrong, not where ("Error while decompressing
 * the data:"): every error names the file and what failed, then keeps the decoder's own words.
 */
export async function readImageFile<T extends RgbaImage = RgbaImage>(path: string, read: () => Promise<Uint8Array>,
  decode: (bytes: Uint8Array, kind: ImageKind) => Promise<T>): Promise<T> {
  const kind = imageKindOf(path);
  if (!kind) throw new ImageFileError(path, 'not a .png or .jpg image');
  const words = (e: unknown) => (e instanceof Error ? e.message : String(e)).trim().replace(/:$/, '');
  let bytes: Uint8Array;
  try {
    bytes = await read();
  } catch (e) {
    throw new ImageFileError(path, `cannot be read (${words(e)})`);
  }
  if (bytes.length === 0) throw new ImageFileError(path, 'an empty file (0 bytes)');
  // What the bytes are (PNG's signature, JPEG's SOI) wins over the name, as in browsers: a PNG saved as .jpg
  // decodes; a file that is neither is named for what it is.
  const content = contentKindOf(bytes);
  // Neither: no decoder here can read it, whatever its name says (a phone's HEIC saved as .jpg, say).
  if (!content) throw new ImageFileError(path, `cannot be decoded: ${foreignContent(bytes)}`);
  try {
    return await decode(bytes, content);
  } catch (e) {
    throw new ImageFileError(path, `cannot be decoded as a ${content === 'png' ? 'PNG' : 'JPEG'} image, truncated or corrupt (the decoder: ${words(e)})`);
  }
}

/**
 * What a file that is neither PNG nor JPEG is, from its first bytes (fileKind: the other image formats a
 * camera or phone writes, an archive, text), for the message.
 */
function foreignContent(bytes: Uint8Array): string {
  const kind = fileKind(bytes);
  if (kind?.endsWith(' image')) return `its content is ${kind}, not a JPEG or PNG: convert it to JPEG or PNG`;
  if (kind) return `its content is ${kind}, not a JPEG or PNG image`;
  const hex = Array.from(bytes.subarray(0, 8), (b) => b.toString(16).toUpperCase().padStart(2, '0')).join(' ');
  return `its first bytes (${hex}) are neither JPEG's start marker (FF D8 FF) nor PNG's signature (89 50 4E 47 0D 0A 1A 0A)`;
}

/** PNG's 8-byte signature (PNG spec 5.2). */
const kPngSignature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** 'png' or 'jpeg' from a file's first bytes (PNG's 8-byte signature, JPEG's SOI marker FFD8FF), else undefined. */
export function contentKindOf(bytes: Uint8Array): ImageKind | undefined {
  if (bytes.length >= 8 && kPngSignature.every((b, i) => bytes[i] === b)) return 'png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  return undefined;
}

export type SniffedSize = { ok: true; widthPx: number; heightPx: number } | { ok: false; reason: string };

/**
 * Width and height from a PNG (IHDR) or JPEG (first SOFn marker) header, without decoding; the cheap
 * check that runs over every image and mask of a large dataset. head: the file's first bytes (64 KiB
 * covers JPEG EXIF/ICC blocks in practice; a longer head is asked for when the SOF is further on).
 */
export function sniffImageSize(head: Uint8Array, kind: ImageKind): SniffedSize {
  const v = new DataView(head.buffer, head.byteOffset, head.byteLength);
  if (kind === 'png') {
    if (head.length < 24 || kPngSignature.some((b, i) => head[i] !== b)) return { ok: false, reason: 'not a PNG (bad signature)' };
    if (v.getUint32(12) !== 0x49484452) return { ok: false, reason: 'PNG without IHDR first' };
    const widthPx = v.getUint32(16);
    const heightPx = v.getUint32(20);
    if (widthPx === 0 || heightPx === 0) return { ok: false, reason: 'PNG with zero size' };
    return { ok: true, widthPx, heightPx };
  }
  if (head.length < 4 || head[0] !== 0xff || head[1] !== 0xd8) return { ok: false, reason: 'not a JPEG (no SOI marker)' };
  let p = 2;
  while (p + 4 <= head.length) {
    if (head[p] !== 0xff) return { ok: false, reason: `JPEG marker expected at byte ${p}` };
    const marker = head[p + 1];
    if (marker === 0xff) { p++; continue; }
    if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) { p += 2; continue; }
    const len = v.getUint16(p + 2);
    // SOF0..SOF15 except DHT (c4), JPG (c8), DAC (cc)
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      if (p + 9 > head.length) break;
      const heightPx = v.getUint16(p + 5);
      const widthPx = v.getUint16(p + 7);
      if (widthPx === 0 || heightPx === 0) return { ok: false, reason: 'JPEG with zero size' };
      return { ok: true, widthPx, heightPx };
    }
    if (marker === 0xda || marker === 0xd9) return { ok: false, reason: 'JPEG without a frame header before its scan' };
    p += 2 + len;
  }
  return { ok: false, reason: 'JPEG frame header not found in the first bytes (truncated?)' };
}
