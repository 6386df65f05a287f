import { Inflate } from 'fflate';
import type { Problem } from '../problems';
import { LitterTally, safePath } from './paths';
import { fileKind, kFileKindHeadBytes } from './fileKind';
import type { RandomAccess } from './randomAccess';
import type { ByteSource } from './source';

/**
 * A zip archive as a ByteSource. Only the central directory is read up front; each entry is read in
 * chunks from the RandomAccess and inflated by fflate's streaming Inflate when asked for, so a dropped
 * archive is never whole in memory (and never twice). Format: PKWARE APPNOTE 6.3.x, sections 4.3.7
 * (local header), 4.3.12 (central directory header), 4.3.14-16 (zip64 end records), 4.5.3 (zip64 extra).
 *
 * Zip-bomb limits: the declared sizes are checked before anything is inflated (total size, entry count,
 * per-entry size, compression ratio), and while inflating an entry may not produce a byte more than it
 * declared, so a lying header is caught too.
 */
export interface ZipLimits {
  /** Sum of all entries' uncompressed sizes. */
  maxTotalBytes: number;
  maxEntries: number;
  maxEntryBytes: number;
  /** Uncompressed / compressed, checked for entries larger than ratioMinBytes. */
  maxRatio: number;
  ratioMinBytes: number;
}

export const kDefaultZipLimits: ZipLimits = {
  maxTotalBytes: 8 * 2 ** 30,
  maxEntries: 500_000,
  maxEntryBytes: 2 ** 30,
  maxRatio: 200,
  ratioMinBytes: 2 ** 20,
};

interface ZipEntry {
  path: string;
  method: number;
  compressedBytes: number;
  sizeBytes: number;
  crc32: number;
  localHeaderOffset: number;
}

const kSigEocd = 0x06054b50;
const kSigZip64Locator = 0x07064b50;
const kSigZip64Eocd = 0x06064b50;
const kSigCentral = 0x02014b50;
const kSigLocal = 0x04034b50;
const kChunkBytes = 1 << 20;

export class ZipError extends Error {}

export class ZipSource implements ByteSource {
  readonly paths: string[];
  private constructor(
    readonly label: string,
    private readonly access: RandomAccess,
    private readonly entries: Map<string, ZipEntry>,
    readonly problems: Problem[],
    readonly ignored: LitterTally,
  ) {
    this.paths = [...entries.keys()].sort();
  }

  /**
   * Reads the central directory. Throws ZipError (with a message meant for the user) when the archive
   * is not a zip or breaks a whole-archive limit; single bad entries become problems and are left out.
   */
  static async open(label: string, access: RandomAccess, limits: ZipLimits = kDefaultZipLimits): Promise<ZipSource> {
    const { cdOffset, cdBytes, count } = await readEndRecord(label, access);
    if (count > limits.maxEntries) {
      throw new ZipError(`${label}: ${count} entries, over the limit of ${limits.maxEntries}; refusing it (a zip bomb, or not a dataset)`);
    }
    if (cdOffset + cdBytes > access.sizeBytes) throw new ZipError(`${label}: central directory runs past the end of the file (truncated zip?)`);
    const cd = await access.read(cdOffset, cdBytes);
    const view = new DataView(cd.buffer, cd.byteOffset, cd.byteLength);
    const problems: Problem[] = [];
    const entries = new Map<string, ZipEntry>();
    const ignored = new LitterTally();
    let totalBytes = 0;
    let p = 0;
    const utf8 = new TextDecoder('utf-8');
    for (let i = 0; i < count; i++) {
      if (p + 46 > cd.length || view.getUint32(p, true) !== kSigCentral) {
        throw new ZipError(`${label}: central directory entry ${i} is damaged`);
      }
      const flags = view.getUint16(p + 8, true);
      const method = view.getUint16(p + 10, true);
      const crc32 = view.getUint32(p + 16, true);
      let compressedBytes = view.getUint32(p + 20, true);
      let sizeBytes = view.getUint32(p + 24, true);
      const nameLen = view.getUint16(p + 28, true);
      const extraLen = view.getUint16(p + 30, true);
      const commentLen = view.getUint16(p + 32, true);
      let localHeaderOffset = view.getUint32(p + 42, true);
      const rawName = utf8.decode(cd.subarray(p + 46, p + 46 + nameLen));
      // zip64 extra field (APPNOTE 4.5.3): only the fields whose 32-bit value is 0xFFFFFFFF are present, in this order.
      let e = p + 46 + nameLen;
      const extraEnd = e + extraLen;
      while (e + 4 <= extraEnd) {
        const id = view.getUint16(e, true);
        const len = view.getUint16(e + 2, true);
        if (id === 0x0001) {
          let q = e + 4;
          if (sizeBytes === 0xffffffff) { sizeBytes = Number(view.getBigUint64(q, true)); q += 8; }
          if (compressedBytes === 0xffffffff) { compressedBytes = Number(view.getBigUint64(q, true)); q += 8; }
          if (localHeaderOffset === 0xffffffff) { localHeaderOffset = Number(view.getBigUint64(q, true)); q += 8; }
        }
        e += 4 + len;
      }
      p = extraEnd + commentLen;
      // A directory: its files come as entries of their own, but an empty litter folder is counted here as
      // a folder source counts it (the key its files would give: once either way).
      if (rawName.endsWith('/')) { ignored.skip(rawName.replace(/\\/g, '/'), true); continue; }
      // Litter is left out before the limits: a __MACOSX/ twin is not counted against the dataset's size.
      if (ignored.skip(rawName.replace(/\\/g, '/'))) continue;
      const safe = safePath(rawName);
      if (!safe.ok) {
        problems.push({ file: `${label}:${rawName}`, field: 'path', message: `${safe.reason}; entry left out` });
        continue;
      }
      const path = safe.path;
      if (flags & 1) {
        problems.push({ file: path, field: 'zip entry', message: 'encrypted; entry left out' });
        continue;
      }
      if (method !== 0 && method !== 8) {
        problems.push({ file: path, field: 'zip entry', message: `compression method ${method} is not supported (only stored and deflate); entry left out` });
        continue;
      }
      if (sizeBytes > limits.maxEntryBytes) {
        problems.push({ file: path, field: 'uncompressed size', message: `${fmtBytes(sizeBytes)} is over the per-entry limit of ${fmtBytes(limits.maxEntryBytes)}; entry left out` });
        continue;
      }
      if (sizeBytes > limits.ratioMinBytes && sizeBytes > limits.maxRatio * Math.max(1, compressedBytes)) {
        problems.push({
          file: path,
          field: 'compression ratio',
          message: `${fmtBytes(compressedBytes)} expands to ${fmtBytes(sizeBytes)} (ratio ${(sizeBytes / Math.max(1, compressedBytes)).toFixed(0)}, limit ${limits.maxRatio}); looks like a zip bomb, entry left out`,
        });
        continue;
      }
      if (entries.has(path)) {
        problems.push({ file: path, field: 'path', message: 'appears twice in the zip; the first is used' });
        continue;
      }
      totalBytes += sizeBytes;
      entries.set(path, { path, method, compressedBytes, sizeBytes, crc32, localHeaderOffset });
    }
    if (totalBytes > limits.maxTotalBytes) {
      throw new ZipError(
        `${label}: would expand to ${fmtBytes(totalBytes)}, over the limit of ${fmtBytes(limits.maxTotalBytes)}; refusing it (a zip bomb, or a dataset too large for the browser)`,
      );
    }
    return new ZipSource(label, access, entries, problems, ignored);
  }

  sizeOf(path: string): number | undefined {
    return this.entries.get(path)?.sizeBytes;
  }

  read(path: string): Promise<Uint8Array> {
    return this.readEntry(path, Infinity);
  }

  readHead(path: string, maxBytes: number): Promise<Uint8Array> {
    return this.readEntry(path, maxBytes);
  }

  /** Inflates an entry chunk by chunk, stopping after maxBytes of output (then the CRC is not checked). */
  private async readEntry(path: string, maxBytes: number): Promise<Uint8Array> {
    const entry = this.entries.get(path);
    if (!entry) throw new ZipError(`${this.label}: no entry ${path}`);
    const local = await this.access.read(entry.localHeaderOffset, 30);
    const lv = new DataView(local.buffer, local.byteOffset, local.byteLength);
    if (local.length < 30 || lv.getUint32(0, true) !== kSigLocal) throw new ZipError(`${path}: local header is damaged`);
    const dataStart = entry.localHeaderOffset + 30 + lv.getUint16(26, true) + lv.getUint16(28, true);
    if (dataStart + entry.compressedBytes > this.access.sizeBytes) throw new ZipError(`${path}: data runs past the end of the zip (truncated?)`);
    const want = Math.min(entry.sizeBytes, maxBytes);
    if (entry.method === 0) {
      const data = await this.access.read(dataStart, want);
      if (want === entry.sizeBytes && crc32(data) !== entry.crc32) throw new ZipError(`${path}: CRC mismatch (corrupt zip entry)`);
      return data;
    }
    const out = new Uint8Array(want);
    let written = 0;
    let overflow = false;
    let done = false;
    const inflater = new Inflate((chunk, final) => {
      const room = want - written;
      if (chunk.length > room) {
        if (want === entry.sizeBytes) overflow = true;
        out.set(chunk.subarray(0, room), written);
        written = want;
      } else {
        out.set(chunk, written);
        written += chunk.length;
      }
      if (final) done = true;
    });
    try {
      for (let off = 0; off < entry.compressedBytes && written < want && !overflow; off += kChunkBytes) {
        const n = Math.min(kChunkBytes, entry.compressedBytes - off);
        const chunk = await this.access.read(dataStart + off, n);
        inflater.push(chunk, off + n >= entry.compressedBytes);
      }
    } catch (e) {
      throw new ZipError(`${path}: deflate data is corrupt (${e instanceof Error ? e.message : String(e)})`);
    }
    if (overflow) throw new ZipError(`${path}: inflates past its declared ${fmtBytes(entry.sizeBytes)}; refused as a zip bomb`);
    if (written < want) throw new ZipError(`${path}: inflated to ${written} bytes, ${want} expected (corrupt zip entry)`);
    if (want === entry.sizeBytes && done && crc32(out) !== entry.crc32) throw new ZipError(`${path}: CRC mismatch (corrupt zip entry)`);
    return out;
  }
}

async function readEndRecord(label: string, access: RandomAccess): Promise<{ cdOffset: number; cdBytes: number; count: number }> {
  // The end record is 22 bytes plus a comment of up to 65535 bytes at the very end.
  const tailLen = Math.min(access.sizeBytes, 22 + 65535);
  const tailStart = access.sizeBytes - tailLen;
  const tail = await access.read(tailStart, tailLen);
  const tv = new DataView(tail.buffer, tail.byteOffset, tail.byteLength);
  let at = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tv.getUint32(i, true) === kSigEocd) { at = i; break; }
  }
  if (at < 0) {
    const kind = fileKind(await access.read(0, Math.min(access.sizeBytes, kFileKindHeadBytes)));
    // A zip's first entry without the end record: a download or copy that stopped early.
    if (kind === 'a zip archive') throw new ZipError(`${label}: a zip archive cut short (its first entry is there, its end record is not)`);
    throw new ZipError(`${label}: not a zip archive (${kind ? `it is ${kind}` : 'no end-of-central-directory record'})`);
  }
  let count = tv.getUint16(at + 10, true);
  let cdBytes = tv.getUint32(at + 12, true);
  let cdOffset = tv.getUint32(at + 16, true);
  if (count === 0xffff || cdBytes === 0xffffffff || cdOffset === 0xffffffff) {
    const loc = at - 20;
    if (loc < 0 || tv.getUint32(loc, true) !== kSigZip64Locator) throw new ZipError(`${label}: zip64 archive without its locator`);
    const eocd64At = Number(tv.getBigUint64(loc + 8, true));
    const rec = await access.read(eocd64At, 56);
    const rv = new DataView(rec.buffer, rec.byteOffset, rec.byteLength);
    if (rec.length < 56 || rv.getUint32(0, true) !== kSigZip64Eocd) throw new ZipError(`${label}: zip64 end record is damaged`);
    count = Number(rv.getBigUint64(32, true));
    cdBytes = Number(rv.getBigUint64(40, true));
    cdOffset = Number(rv.getBigUint64(48, true));
  }
  return { cdOffset, cdBytes, count };
}

let crcTable: Uint32Array | undefined;

/** CRC-32 (IEEE 802.3, reflected 0xEDB88320), as zip stores it. */
export function crc32(data: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = crcTable[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export function fmtBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 2 ** 20) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 2 ** 30) return `${(n / 2 ** 20).toFixed(1)} MiB`;
  return `${(n / 2 ** 30).toFixed(2)} GiB`;
}
