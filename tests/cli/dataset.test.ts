import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { strToU8, zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import type { DatasetReport } from '../../src/data/inspect';
import { bopFixture, maskPng, writeTree } from '../data/fixtures';

/**
 * `npm run dataset -- inspect`: exit 0 when something usable loaded, 1 when nothing did, 2 on a usage
 * error or a path that cannot be opened; every problem printed as 'file: field: message'. Each case spawns the real CLI (a few seconds).
 */
const kRepo = fileURLToPath(new URL('../..', import.meta.url));

function inspect(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync('npm', ['run', '--silent', 'dataset', '--', ...args], { cwd: kRepo, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const tmp = () => mkdtempSync(join(tmpdir(), 'poselab-cli-'));

describe('npm run dataset -- inspect', () => {
  it('exits 1 on an empty folder, saying format unknown, what it looked for and what it found', () => {
    const { code, stdout } = inspect('inspect', tmp(), '--json');
    expect(code).toBe(1);
    const r = JSON.parse(stdout) as DatasetReport;
    expect(r.usable).toBe(false);
    expect(r.format).toBe('unknown');
    expect(r.images).toBe(0);
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0].field).toBe('format');
    expect(r.problems[0].message).toMatch(/^unknown: none of the layouts looked for was found among 0 files; looked for BOP .*PVNet's LINEMOD layout .*custom layout .*; the source holds no files$/);
  });

  it('exits 1 on a broken BOP folder and lists every problem by file and field', () => {
    const files = bopFixture();
    files.delete('lmfix/test/000001/scene_gt.json');
    files.set('lmfix/train/000000/scene_camera.json', strToU8('{"0": {"cam_K": [1, 2'));
    files.set('lmfix/models/obj_000001.ply', strToU8('ply\nformat ascii 1.0\nend_header\n'));
    files.delete('lmfix/models/obj_000002.ply');
    const { code, stdout } = inspect('inspect', writeTree(files));
    expect(code).toBe(1);
    expect(stdout).toContain("lmfix/test/000001/scene_gt.json: missing: the scene's 2 images have no ground truth and are left out");
    expect(stdout).toMatch(/lmfix\/train\/000000\/scene_camera\.json: JSON: not valid JSON/);
    expect(stdout).toMatch(/lmfix\/models\/obj_000001\.ply: .*model not loaded/);
    expect(stdout).toContain('lmfix/models/obj_000002.ply: missing: obj_id 2 has no model');
    expect(stdout).toContain('usable: NO');
  });

  it('exits 2 with one clear line on a path that is missing or not a zip', () => {
    const gone = join(tmp(), 'nothing-here');
    const missing = inspect('inspect', gone);
    expect(missing.code).toBe(2);
    // The path once, as given.
    expect(missing.stderr).toContain(`${gone}: no such file or folder\n`);
    expect(missing.stderr).not.toContain(`${gone}: ${gone}`);
    const notZip = join(tmp(), 'data.zip');
    writeFileSync(notZip, 'not a zip at all');
    const bad = inspect('inspect', notZip);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    // The path as given, not its base name alone.
    expect(bad.stderr).toMatch(new RegExp(`^${notZip.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: not a zip archive`));
  });

  it('--models names a model folder in the dataset: one that is not there exits 2 naming it, no fallback', () => {
    const dir = writeTree(bopFixture());
    for (const models of ['/nonexistent', 'models_cad']) {
      const r = inspect('inspect', dir, '--models', models);
      expect({ models, code: r.code }).toEqual({ models, code: 2 });
      expect(r.stderr).toContain(`--models ${models}: no such model folder in ${dir} (at lmfix/); its model folders: models (give the folder's name, e.g. models_cad)`);
      // The command line is well formed; the dataset lacks the folder: the message alone, no usage.
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stdout).toBe('');
    }
    const ok = inspect('inspect', dir, '--models', 'models', '--json');
    expect(ok.code, ok.stderr).toBe(0);
    expect((JSON.parse(ok.stdout) as DatasetReport).problems).toEqual([]);
  });

  it("loads the valid rest of a zip holding a zip-bomb entry and a '..' path, and exits 0", () => {
    const tree: Record<string, Uint8Array> = Object.fromEntries(bopFixture());
    tree['lmfix/bomb.bin'] = new Uint8Array(4 << 20); // zeros: deflates ~1000:1, over the 200:1 limit
    tree['../escape.txt'] = strToU8('outside');
    const zip = join(tmp(), 'lmfix.zip');
    writeFileSync(zip, zipSync(tree));
    const { code, stdout, stderr } = inspect('inspect', zip, '--json');
    expect(code, stderr).toBe(0);
    const r = JSON.parse(stdout) as DatasetReport;
    expect(r.format).toBe('bop');
    expect(r.images).toBe(5);
    expect(r.problems).toHaveLength(2);
    expect(r.problems).toContainEqual({ file: 'lmfix.zip:../escape.txt', field: 'path', message: "path climbs out of its folder with '..'; entry left out" });
    expect(r.problems).toContainEqual({
      file: 'lmfix/bomb.bin',
      field: 'compression ratio',
      message: expect.stringMatching(/^4\.0 KiB expands to 4\.0 MiB \(ratio \d+, limit 200\); looks like a zip bomb, entry left out$/),
    });
  });

  it('--deep decodes every image and mask: pixel data cut short and an empty mask are found only then', () => {
    const files = bopFixture();
    // Signature, IHDR and the start of IDAT: the header says 160x120, the pixels are missing.
    const cut = 'lmfix/train/000000/rgb/000001.png';
    files.set(cut, files.get(cut)!.slice(0, 120));
    const empty = 'lmfix/test/000001/mask/000001_000000.png';
    files.set(empty, maskPng([0, 0, 0, 0]));
    const dir = writeTree(files);
    const quick = inspect('inspect', dir, '--json');
    expect(quick.code, quick.stderr).toBe(0);
    const q = JSON.parse(quick.stdout) as DatasetReport;
    expect(q.problems, 'headers alone look fine').toEqual([]);
    expect(q.images).toBe(5);
    const deep = inspect('inspect', dir, '--json', '--deep');
    expect(deep.code, deep.stderr).toBe(0);
    const d = JSON.parse(deep.stdout) as DatasetReport;
    expect(d.problems.map((x) => `${x.file}: ${x.field}`).sort()).toEqual([`${empty}: mask`, `${cut}: image`]);
    expect(d.problems.find((x) => x.file === cut)!.message).toMatch(/^corrupt or unreadable image \(.*\); image left out$/);
    expect(d.problems.find((x) => x.file === empty)!.message).toMatch(/^empty: no non-zero pixel for a visible instance of obj_id 1.*; mask not used$/);
    expect(d.images, 'the cut image is left out').toBe(4);
  });

  it('exits 2 on a usage error, 0 with the usage on --help', () => {
    const { code, stderr } = inspect('inspekt', tmp());
    expect(code).toBe(2);
    expect(stderr).toMatch(/^unknown command inspekt\nusage: npm run dataset -- inspect <folder-or-zip>/);
    const flag = inspect('inspect', tmp(), '--frobnicate');
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain("Unknown option '--frobnicate'");
    const help = inspect('--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^usage: npm run dataset -- inspect <folder-or-zip>/);
    // Every flag of the usage line is explained on a line of its own, and the exit codes are given.
    const flags = help.stdout.split('\n')[0].match(/--[a-z]+/g) ?? [];
    expect(flags).toEqual(['--json', '--deep', '--models']);
    for (const f of flags) expect(help.stdout, f).toMatch(new RegExp(`\\n${f} +\\S`));
    expect(help.stdout).toMatch(/\nExit codes: 0 .*, 1 .*, 2 /);
  });
});
