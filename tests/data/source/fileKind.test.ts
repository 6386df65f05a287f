import { describe, expect, it } from 'vitest';
import { encode as encodePng } from 'fast-png';
import jpeg from 'jpeg-js';
import { gzipSync, strToU8, zipSync } from 'fflate';
import { fileKind, kFileKindHeadBytes } from '../../../src/data/source/fileKind';

const head = (b: Uint8Array) => b.subarray(0, kFileKindHeadBytes);

describe('fileKind', () => {
  it('names images and archives written by their own encoders', () => {
    const rgba = new Uint8Array(4 * 4 * 4).fill(200);
    expect(fileKind(head(encodePng({ width: 4, height: 4, data: rgba, channels: 4 })))).toBe('a PNG image');
    expect(fileKind(head(Uint8Array.from(jpeg.encode({ width: 4, height: 4, data: rgba }, 80).data)))).toBe('a JPEG image');
    expect(fileKind(head(gzipSync(strToU8('{"a": 1}'))))).toBe('a gzip file, perhaps a .tar.gz');
    const zip = zipSync({ 'a.txt': strToU8('hello') });
    expect(fileKind(head(zip))).toBe('a zip archive');
  });

  it('names by signature the formats written by no library here (the specifications\' magic bytes)', () => {
    const pad = (bytes: number[] | string, offset = 0) => {
      const b = new Uint8Array(600);
      b.set(typeof bytes === 'string' ? strToU8(bytes) : bytes, offset);
      return head(b);
    };
    expect(fileKind(pad('GIF89a'))).toBe('a GIF image');
    expect(fileKind(pad('RIFF\x24\x00\x00\x00WEBPVP8 '))).toBe('a WebP image');
    expect(fileKind(pad('RIFF\x24\x00\x00\x00WAVEfmt '))).toBeUndefined();
    expect(fileKind(pad([0x4d, 0x4d, 0x00, 0x2a]))).toBe('a TIFF image');
    expect(fileKind(pad('\x00\x00\x00\x18ftypheic'))).toBe('a HEIC/HEIF image');
    expect(fileKind(pad('BM\x46\x00\x00\x00\x00\x00\x00\x00'))).toBe('a BMP image');
    expect(fileKind(strToU8('BMW 320i service notes\n'))).toBe('text');
    expect(fileKind(pad('ustar', 257))).toBe('a tar archive');
    expect(fileKind(pad('BZh91AY&SY'))).toBe('a bzip2 file');
    expect(fileKind(strToU8('BZh is how this note starts\n'))).toBe('text');
    expect(fileKind(pad('%PDF-1.7'))).toBe('a PDF document');
    expect(fileKind(Uint8Array.from([0xff, 0xfe, 0x7b, 0x00, 0x7d, 0x00]))).toBe('UTF-16 text (JSON files are read as UTF-8)');
  });

  it('reads text as text, a character that the head\'s end cuts (2, 3 or 4 bytes) included', () => {
    expect(fileKind(strToU8('{"scene_gt": []}\n'))).toBe('text');
    expect(fileKind(head(strToU8('é'.repeat(300))))).toBe('text'); // 600 bytes: the head ends between characters
    for (const c of ['é', '€', '😀']) {
      for (let keep = 1; keep < strToU8(c).length; keep++) {
        const cut = strToU8(`${'a'.repeat(kFileKindHeadBytes - keep)}${c}`);
        expect(fileKind(head(cut)), `${c} cut after ${keep} byte(s)`).toBe('text');
      }
    }
  });

  it('takes control bytes, invalid sequences and a short file\'s partial character for binary', () => {
    expect(fileKind(Uint8Array.from([0x61, 0x00, 0x62]))).toBeUndefined();
    expect(fileKind(Uint8Array.from([0xc3, 0x28]))).toBeUndefined();
    // A file shorter than the head ends where it ends: a lone lead byte there is not a cut character.
    for (const last of [0xc3, 0xe2, 0xf0, 0xff, 0xc0]) expect(fileKind(Uint8Array.from([0x61, last]))).toBeUndefined();
    // Bytes that start no character (C0, C1, F5-FF) are not trimmed at a full head's end either.
    for (const last of [0xc0, 0xc1, 0xf8, 0xff]) {
      const b = new Uint8Array(kFileKindHeadBytes).fill(0x61);
      b[kFileKindHeadBytes - 1] = last;
      expect(fileKind(b)).toBeUndefined();
    }
  });

  it('says an empty file is empty, and a signature longer than the file is not matched', () => {
    expect(fileKind(new Uint8Array(0))).toBe('an empty file');
    expect(fileKind(Uint8Array.from([0x89, 0x50, 0x4e]))).toBeUndefined();
  });
});
