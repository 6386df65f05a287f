/**
 * Results in the BOP challenge's CSV format (Hodan et al., BOP toolkit, docs/bop_challenge_2019.md):
 *   scene_id,im_id,obj_id,score,R,t,time
 * R: 9 numbers row-major separated by spaces; t: 3 numbers in mm separated by spaces; time: seconds
 * spent on the whole image, so it is the same on every line of one image (the toolkit checks that).
 */

export interface BopResult {
  sceneId: number;
  imId: number;
  objId: number;
  score: number;
  /** [9] row-major, model to camera */
  R: ArrayLike<number>;
  /** [3] mm */
  tMm: ArrayLike<number>;
  /** This instance's share of the image's time, ms (summed per image for the time column). */
  timeMs: number;
}

export const kBopCsvHeader = 'scene_id,im_id,obj_id,score,R,t,time';

/** The CSV text, one line per result in the given order, with a header line. */
export function bopCsv(results: readonly BopResult[]): string {
  const imageSeconds = new Map<string, number>();
  const key = (r: BopResult) => `${r.sceneId}/${r.imId}`;
  for (const r of results) imageSeconds.set(key(r), (imageSeconds.get(key(r)) ?? 0) + r.timeMs / 1000);
  const num = (x: number) => (Number.isFinite(x) ? String(x) : '0');
  const lines = results.map((r) => [
    r.sceneId, r.imId, r.objId, num(r.score),
    Array.from(r.R, num).join(' '), Array.from(r.tMm, num).join(' '),
    num(imageSeconds.get(key(r))!),
  ].join(','));
  return `${[kBopCsvHeader, ...lines].join('\n')}\n`;
}

/** Parses what bopCsv writes (header required); throws naming the line and field that is wrong. */
export function parseBopCsv(text: string): (Omit<BopResult, 'timeMs'> & { timeS: number })[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  if (lines[0]?.trim() !== kBopCsvHeader) throw new Error(`BOP CSV: first line must be '${kBopCsvHeader}'`);
  return lines.slice(1).map((line, i) => {
    const f = line.split(',');
    if (f.length !== 7) throw new Error(`BOP CSV line ${i + 2}: ${f.length} fields, 7 expected`);
    const nums = (s: string, n: number, name: string) => {
      const a = s.trim().split(/\s+/).map(Number);
      if (a.length !== n || a.some((x) => !Number.isFinite(x))) throw new Error(`BOP CSV line ${i + 2}: ${name} must be ${n} numbers`);
      return a;
    };
    const [sceneId, imId, objId, score] = [0, 1, 2, 3].map((j) => nums(f[j], 1, ['scene_id', 'im_id', 'obj_id', 'score'][j])[0]);
    return { sceneId, imId, objId, score, R: nums(f[4], 9, 'R'), tMm: nums(f[5], 3, 't'), timeS: nums(f[6], 1, 'time')[0] };
  });
}
