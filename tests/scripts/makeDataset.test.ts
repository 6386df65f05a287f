/**
 * `npm run make-dataset`'s command line (without rendering anything): --help, every bad value and an --out
 * it may not replace exit before the folder is touched (the script deletes --out only to put a complete
 * new render in its place). Each case spawns the script (a few seconds). And one small render twice: the
 * test split is drawn from a stream of its own.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const kRepo = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'poselab-make-dataset-'));

function makeDataset(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync('npx', ['tsx', 'scripts/make-dataset.ts', ...args], { cwd: kRepo, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A folder as make-dataset leaves it (its manifest names poselab-toy), with one file to watch. */
function previousOutput(name: string): string {
  const out = join(dir, name);
  mkdirSync(out);
  writeFileSync(join(out, 'manifest.json'), JSON.stringify({ name: 'poselab-toy', files: [] }));
  writeFileSync(join(out, 'camera.json'), '{}');
  return out;
}

describe('npm run make-dataset: arguments', () => {
  it('--help prints the usage, exits 0 and leaves --out as it was', () => {
    const out = previousOutput('help');
    const r = makeDataset('--out', out, '--help');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^usage: npm run make-dataset -- \[--out <folder>\] \[--train N\] \[--test N\] \[--seed S\] \[--quality Q\]/);
    expect(readdirSync(out).sort()).toEqual(['camera.json', 'manifest.json']);
  });

  it('a bad value exits 2 naming the flag and the value, before --out is touched', () => {
    const out = previousOutput('bad');
    const cases: [string[], string][] = [
      [['--train', '-1'], '--train -1: expected an integer from 1 to 100000'],
      [['--train', 'abc'], '--train abc: expected an integer from 1 to 100000'],
      [['--train', '0', '--test', '0'], '--train 0: expected an integer from 1 to 100000'],
      [['--test', '0'], '--test 0: expected an integer from 1 to 100000'],
      [['--test', '2.5'], '--test 2.5: expected an integer from 1 to 100000'],
      [['--quality', '0'], '--quality 0: expected an integer from 1 to 100'],
      [['--quality', '101'], '--quality 101: expected an integer from 1 to 100'],
      [['--seed', '-1'], '--seed -1: expected an integer from 0 to 4294967295'],
      // Seeds are mixed as 32-bit words: 2^32 would repeat seed 0's dataset.
      [['--seed', '4294967296'], '--seed 4294967296: expected an integer from 0 to 4294967295'],
      [['--train', '99999999999999999999'], '--train 99999999999999999999: expected an integer from 1 to 100000'],
      [['--test', '100001'], '--test 100001: expected an integer from 1 to 100000'],
      [['--frobnicate'], "Unknown option '--frobnicate'"],
      [['--train', '5', '--train', '6'], '--train given twice (5 and 6); give it once'],
      [['--out', out], `--out given twice (${out} and ${out}); give it once`],
    ];
    for (const [args, message] of cases) {
      const r = makeDataset('--out', out, ...args);
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.stderr.split('\n')[0]).toBe(message);
      expect(r.stderr).toMatch(/\nusage: npm run make-dataset -- /);
      expect(readdirSync(out).sort(), args.join(' ')).toEqual(['camera.json', 'manifest.json']);
    }
    const empty = makeDataset('--out=');
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/^--out has an empty value; give one, or leave the flag out\n/);
  });

  it('refuses an --out it did not write (not empty, no poselab-toy manifest) or that is a file, naming it', () => {
    const foreign = join(dir, 'my-dataset');
    mkdirSync(join(foreign, 'models'), { recursive: true });
    writeFileSync(join(foreign, 'models', 'obj_000001.ply'), 'ply');
    writeFileSync(join(foreign, 'manifest.json'), JSON.stringify({ name: 'someone-else', files: [] }));
    const r = makeDataset('--out', foreign, '--train', '1', '--test', '1');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`--out ${foreign}: the folder exists, is not empty and is not a dataset make-dataset wrote (no manifest.json naming poselab-toy)`);
    expect(existsSync(join(foreign, 'models', 'obj_000001.ply'))).toBe(true);
    expect(readdirSync(dir).filter((n) => n.includes('partial')), 'no staging folder left').toEqual([]);

    // A folder that cannot be made (its parent is a file): named, exit 2, no stack trace.
    const underFile = join(dir, 'not-a-folder.json');
    writeFileSync(underFile, '{}');
    const u = makeDataset('--out', join(underFile, 'sub'), '--train', '1', '--test', '1');
    expect(u.code, u.stderr).toBe(2);
    expect(u.stderr.split('\n')[0]).toMatch(new RegExp(`^--out ${join(underFile, 'sub').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `));
    expect(u.stderr).not.toMatch(/\n\s+at /);

    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    const f = makeDataset('--out', file);
    expect(f.code).toBe(2);
    expect(f.stderr).toContain(`--out ${file}: is a file, not a folder; nothing was changed`);
  });
});

describe('npm run make-dataset: seeded streams', () => {
  it('each split has a stream of its own: the test images do not depend on --train', () => {
    // Two small renders with one seed and different --train (Chromium renders them: about 20 s).
    const a = join(dir, 'streams-a'), b = join(dir, 'streams-b');
    for (const [out, train] of [[a, '1'], [b, '2']]) {
      const r = makeDataset('--out', out, '--train', train, '--test', '1', '--seed', '5');
      expect(r.code, r.stderr).toBe(0);
    }
    const read = (root: string, path: string) => readFileSync(join(root, path));
    expect(read(b, 'test/000001/rgb/000000.jpg').equals(read(a, 'test/000001/rgb/000000.jpg'))).toBe(true);
    expect(read(b, 'test/000001/scene_gt.json').toString()).toBe(read(a, 'test/000001/scene_gt.json').toString());
    // The training stream's first view is the same too; the second is another view.
    const gtA = JSON.parse(read(a, 'train/000001/scene_gt.json').toString()), gtB = JSON.parse(read(b, 'train/000001/scene_gt.json').toString());
    expect(gtB['0']).toEqual(gtA['0']);
    expect(gtB['1'][0].cam_t_m2c).not.toEqual(gtB['0'][0].cam_t_m2c);
    // And the test view is not a training view.
    expect(JSON.parse(read(a, 'test/000001/scene_gt.json').toString())['0']).not.toEqual(gtA['0']);
  }, 180_000);
});
