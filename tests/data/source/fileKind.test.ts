import { describe, expect, it } from 'vitest';
import { encode as encodePng } from 'fast-png';
import jpeg from 'jpeg-js';
import { gzipSync, strToU8 } from 'fflate';
import { fileKind, kFileKindHeadBytes } from '../../../src/data/source/fileKind';

const head = (b: Uint8Array) => b.subarray(0, kFileKindHeadBytes);

describe('fileKind', () => {
  it('names images and archives written by their own encoders', () => {
    const rgba = new Uint8Array(4 * 4 * 4).fill(200);
    expect(fileKind(head(encodePng({ width: 4, height: 4, data: rgba, channels: 4 })))).toBe('a PNG image');
    expect(fileKind(head(Uint8Array.from(jpeg.encode({ width: 4, height: 4, data: rgba }, 80).data)))).toBe('a JPEG image');
    expect(fileKind(head(gzipSync(strToU8('{"a": 1}'))))).toBe('a gzip file (a .tar.gz?)');
  });

  it('reads text as text, a multi-byte character cut at the head\'s end included, and control bytes as not text', () => {
    expect(fileKind(strToU8('{"scene_gt": []}\n'))).toBe('text');
    const accents = strToU8('é'.repeat(300)); // 600 bytes: the 512-byte head ends inside no character
    expect(fileKind(head(accents))).toBe('text');
    const cut = strToU8(`${'a'.repeat(511)}é`); // the head ends after é's first byte
    expect(fileKind(head(cut))).toBe('text');
    expect(fileKind(Uint8Array.from([0x61, 0x00, 0x62]))).toBeUndefined();
    expect(fileKind(Uint8Array.from([0x61, 0xc3]))).toBe('text');
    expect(fileKind(Uint8Array.from([0xc3, 0x28]))).toBeUndefined(); // an invalid sequence
  });

  it('says an empty file is empty, and a signature longer than the head is not matched', () => {
    expect(fileKind(new Uint8Array(0))).toBe('an empty file');
    expect(fileKind(Uint8Array.from([0x89, 0x50, 0x4e]))).toBeUndefined();
  });
});
