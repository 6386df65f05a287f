import { describe, expect, it } from 'vitest';
import { zipSync, strToU8 } from 'fflate';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { loadDataset } from '../../../src/data/load';
import { openNodePath } from '../../../src/data/source/node';
import { bytesAccess } from '../../../src/data/source/randomAccess';
import { kDefaultZipLimits, ZipError, ZipSource, crc32 } from '../../../src/data/source/zip';
import { bopFixture } from '../fixtures';

function zipOf(files: Map<string, Uint8Array>, level: 0 | 6 = 6): Uint8Array {
  const tree: Record<string, [Uint8Array, { level: 0 | 6 }]> = {};
  for (const [p, b] of files) tree[p] = [b, { level }];
  return zipSync(tree);
}

describe('ZipSource', () => {
  it('lists and reads entries, deflated and stored, with a correct CRC', async () => {
    for (const level of [0, 6] as const) {
      const files = new Map([['a/b.txt', strToU8('hello '.repeat(1000))], ['c.bin', new Uint8Array([1, 2, 3])]]);
      const z = await ZipSource.open('t.zip', bytesAccess(zipOf(files, level)));
      expect(z.paths).toEqual(['a/b.txt', 'c.bin']);
      expect(z.problems).toEqual([]);
      expect(await z.read('a/b.txt')).toEqual(files.get('a/b.txt'));
      expect(await z.read('c.bin')).toEqual(new Uint8Array([1, 2, 3]));
      expect(new TextDecoder().decode(await z.readHead('a/b.txt', 5))).toBe('hello');
      expect(z.sizeOf('a/b.txt')).toBe(6000);
    }
  });

  it("leaves out a path with '..' and says so", async () => {
    const bytes = zipSync({ 'ok.txt': strToU8('fine'), '../evil.txt': strToU8('nope'), 'a/../../x.txt': strToU8('nope') });
    const z = await ZipSource.open('t.zip', bytesAccess(bytes));
    expect(z.paths).toEqual(['ok.txt']);
    expect(z.problems).toEqual([
      { file: 't.zip:../evil.txt', field: 'path', message: "path climbs out of its folder with '..'; entry left out" },
      { file: 't.zip:a/../../x.txt', field: 'path', message: "path climbs out of its folder with '..'; entry left out" },
    ]);
  });

  it('refuses a zip bomb by compression ratio, entry size, total size and entry count', async () => {
    const zeros = new Uint8Array(4 << 20); // 4 MiB of zeros deflates ~1000:1
    const bytes = zipOf(new Map([['bomb.bin', zeros], ['small.txt', strToU8('x')]]));
    const z = await ZipSource.open('b.zip', bytesAccess(bytes));
    expect(z.paths).toEqual(['small.txt']);
    expect(z.problems).toHaveLength(1);
    expect(z.problems[0].file).toBe('bomb.bin');
    expect(z.problems[0].field).toBe('compression ratio');
    expect(z.problems[0].message).toMatch(/expands to 4\.0 MiB \(ratio \d+, limit 200\); looks like a zip bomb, entry left out/);

    const perEntry = await ZipSource.open('b.zip', bytesAccess(bytes), { ...kDefaultZipLimits, maxRatio: 1e9, maxEntryBytes: 1 << 20 });
    expect(perEntry.problems.map((p) => `${p.file}: ${p.field}: ${p.message}`)).toEqual([
      'bomb.bin: uncompressed size: 4.0 MiB is over the per-entry limit of 1.0 MiB; entry left out',
    ]);

    await expect(ZipSource.open('b.zip', bytesAccess(bytes), { ...kDefaultZipLimits, maxRatio: 1e9, maxTotalBytes: 1 << 20 })).rejects.toThrow(
      /b\.zip: would expand to 4\.0 MiB, over the limit of 1\.0 MiB; refusing it \(a zip bomb/,
    );
    await expect(ZipSource.open('b.zip', bytesAccess(bytes), { ...kDefaultZipLimits, maxEntries: 1 })).rejects.toThrow(
      /b\.zip: 2 entries, over the limit of 1/,
    );
  });

  it('stops inflating an entry that lies about its size', async () => {
    const data = new Uint8Array(100_000).map((_, i) => (i * 13) & 0xff);
    const bytes = zipOf(new Map([['liar.bin', data]]));
    // Patch the declared uncompressed size (central directory, offset 24 of its entry) down to 1000.
    const v = new DataView(bytes.buffer);
    let cd = -1;
    for (let i = bytes.length - 22; i >= 0; i--) if (v.getUint32(i, true) === 0x02014b50) { cd = i; break; }
    v.setUint32(cd + 24, 1000, true);
    const z = await ZipSource.open('l.zip', bytesAccess(bytes));
    await expect(z.read('liar.bin')).rejects.toThrow(/liar\.bin: inflates past its declared 1000 B; refused as a zip bomb/);
  });

  it('finds a corrupt entry by its CRC', async () => {
    const data = strToU8('abcdefgh'.repeat(10));
    const bytes = zipOf(new Map([['x.txt', data]]), 0);
    // The stored data's first byte, past the local header (30 bytes, then the name and the extra field:
    // APPNOTE 4.3.7). Searching for the first 'a' instead hit the header's DOS time on some minutes of the day.
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    const at = 30 + view.getUint16(26, true) + view.getUint16(28, true);
    expect(bytes[at]).toBe(0x61);
    bytes[at] = 0x62;
    const z = await ZipSource.open('c.zip', bytesAccess(bytes));
    await expect(z.read('x.txt')).rejects.toThrow(/x\.txt: CRC mismatch/);
    expect(crc32(strToU8('123456789'))).toBe(0xcbf43926); // the standard check value
  });

  it('says plainly when a file is not a zip, and what it is when its first bytes tell', async () => {
    await expect(ZipSource.open('n.zip', bytesAccess(strToU8('not a zip at all')))).rejects.toThrow(/^n\.zip: not a zip archive \(it is text\)$/);
    // A tarball: ustar's magic at offset 257 of a 512-byte header, no zip end record anywhere.
    const tar = new Uint8Array(1024);
    tar.set(strToU8('ustar'), 257);
    await expect(ZipSource.open('d.tar', bytesAccess(tar))).rejects.toThrow(/^d\.tar: not a zip archive \(it is a tar archive\)$/);
    await expect(ZipSource.open('e.zip', bytesAccess(new Uint8Array(0)))).rejects.toThrow(/^e\.zip: not a zip archive \(it is an empty file\)$/);
    // A download that stopped early: its first entry, no end record.
    const whole = zipOf(new Map([['x.txt', strToU8('hello')]]), 0);
    await expect(ZipSource.open('cut.zip', bytesAccess(whole.subarray(0, whole.length - 22)))).rejects
      .toThrow(/^cut\.zip: a zip archive cut short \(its first entry is there, its end record is not\)$/);
    await expect(ZipSource.open('b.bin', bytesAccess(Uint8Array.from([0, 1, 2, 3, 0xfe])))).rejects
      .toThrow(/^b\.bin: not a zip archive \(no end-of-central-directory record\)$/);
  });

  it('loads a whole BOP dataset from a zip file on disk, reading it at offsets', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'poselab-zip-'));
    const path = join(dir, 'lmfix.zip');
    writeFileSync(path, zipOf(bopFixture()));
    const ds = await loadDataset(await openNodePath(path), { checkFiles: true });
    expect(ds.problems).toEqual([]);
    expect(ds.images).toHaveLength(5);
    expect(ds.objects).toHaveLength(2);
  });
});
