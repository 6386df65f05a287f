/** BOP results CSV: the field layout of the BOP toolkit, one time per image, and a round trip. */
import { describe, expect, it } from 'vitest';
import { bopCsv, kBopCsvHeader, parseBopCsv, type BopResult } from '../../src/train/bopCsv';

const R = [0, -1, 0, 1, 0, 0, 0, 0, 1];

describe('bopCsv', () => {
  const results: BopResult[] = [
    { sceneId: 1, imId: 7, objId: 5, score: 0.75, R, tMm: [10, -20.5, 600], timeMs: 30 },
    { sceneId: 1, imId: 7, objId: 9, score: 0.5, R, tMm: [1, 2, 3], timeMs: 20 },
    { sceneId: 2, imId: 0, objId: 5, score: 1, R, tMm: [0, 0, 1000], timeMs: 40 },
  ];

  it('writes the header, R row-major with spaces, t in mm, and the image time in seconds on every line of it', () => {
    const lines = bopCsv(results).trimEnd().split('\n');
    expect(lines[0]).toBe(kBopCsvHeader);
    expect(lines[1]).toBe('1,7,5,0.75,0 -1 0 1 0 0 0 0 1,10 -20.5 600,0.05');
    expect(lines[2]).toBe('1,7,9,0.5,0 -1 0 1 0 0 0 0 1,1 2 3,0.05');
    expect(lines[3]).toBe('2,0,5,1,0 -1 0 1 0 0 0 0 1,0 0 1000,0.04');
  });

  it('parses back what it writes', () => {
    const back = parseBopCsv(bopCsv(results));
    expect(back).toHaveLength(3);
    expect(back[0]).toEqual({ sceneId: 1, imId: 7, objId: 5, score: 0.75, R, tMm: [10, -20.5, 600], timeS: 0.05 });
    expect(back[2].timeS).toBe(0.04);
  });

  it('says which line and field is wrong', () => {
    expect(() => parseBopCsv(`${kBopCsvHeader}\n1,2,3,1,1 0 0,0 0 1,0.1\n`)).toThrow(/line 2: R must be 9 numbers/);
    expect(() => parseBopCsv('a,b\n')).toThrow(/first line/);
    expect(() => parseBopCsv(`${kBopCsvHeader}\n1,2,3,1\n`)).toThrow('BOP CSV line 2: 4 fields, 7 expected');
    expect(() => parseBopCsv(`${kBopCsvHeader}\n1,2,3,x,1 0 0 0 1 0 0 0 1,0 0 1,0.1\n`)).toThrow('BOP CSV line 2: score must be 1 numbers');
    expect(() => parseBopCsv(`${kBopCsvHeader}\n1,2,3,1,1 0 0 0 1 0 0 0 1,0 0 1,0.1\n1,2,3,1,1 0 0 0 1 0 0 0 1,0 NaN 1,0.1\n`)).toThrow('BOP CSV line 3: t must be 3 numbers');
  });

  it('reads a file written by other tools: CRLF, spaces around fields and between numbers, a blank last line', () => {
    const text = ` ${kBopCsvHeader} \r\n 1 , 2 ,3,0.5, 1  0 0 0 1 0 0 0 1 ,0 0  600 , 0.25\r\n\r\n`;
    expect(parseBopCsv(text)).toEqual([{ sceneId: 1, imId: 2, objId: 3, score: 0.5, R: [1, 0, 0, 0, 1, 0, 0, 0, 1], tMm: [0, 0, 600], timeS: 0.25 }]);
  });

  it('writes 0 for a non-finite number (a failed pose), never NaN', () => {
    const text = bopCsv([{ ...results[0], score: NaN, tMm: Float64Array.of(1, Infinity, 3) }]);
    expect(text).not.toMatch(/NaN|Infinity/);
    expect(parseBopCsv(text)[0]).toMatchObject({ score: 0, tMm: [1, 0, 3] });
  });
});
