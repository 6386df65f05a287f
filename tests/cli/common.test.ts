/**
 * The command line's one argument syntax (src/cli/common.ts parseCommandLine): values after a space
 * or an equals sign, negative numbers as values, switches, positionals, and every mistake a UsageError;
 * and every command (src/cli, make-dataset, the benchmarks) answers --help with its usage and exit 0, the
 * usage the README shows.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { bopFixture, writeTree } from '../data/fixtures';
import { useCpuBackend } from '../../src/kernels/setup';
import { bundleWriteOrder, exportEngine, importBundle, kLocaliserBin, kModelJson, kPartial, kPoselabJson, kWeightsBin, resumeCheckpoint, zipBundle, type BundleFiles, type LoadedBundle } from '../../src/train/bundle';
import { kCheckpointBin, kCheckpointJson } from '../../src/train/checkpoint';
import { TrainingEngine } from '../../src/train/engine';
import { fixtureData, tinyConfig } from '../train/fixtureData';
import { strToU8, unzipSync, zipSync } from 'fflate';
import { cutSave, finishCutSave, InputError, isWithin, loadBundle, notFound, physicalPath, openDataset, parseBackend, parseChoiceList, parseCommandLine, parseInteger, parseIntegerList, prepareBundlePath, prepareFileOrFolder, prepareOutputFile, readBundlePath, readInputText, UsageError, writeBundlePath } from '../../src/cli/common';

/** Renames the next writeBundlePath may still do before it is killed (undefined: all of them). */
const renames = vi.hoisted(() => ({ left: undefined as number | undefined }));
const kKilled = 'killed among the renames';
vi.mock('node:fs/promises', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs/promises')>();
  return {
    ...fs,
    rename: (...args: Parameters<typeof fs.rename>) => {
      if (renames.left !== undefined && renames.left-- <= 0) return Promise.reject(new Error(kKilled));
      return fs.rename(...args);
    },
  };
});

/** What a command line would print of a bundle loadBundle refuses: its InputError's message ('loaded' when it loads). */
async function refusal(loading: Promise<LoadedBundle>): Promise<string> {
  return loading.then((b) => {
    b.model.dispose();
    b.localiser?.dispose();
    return 'loaded';
  }, (e: unknown) => (e instanceof InputError ? e.message : `not an InputError: ${String(e)}`));
}

const options = { K: { type: 'string' }, images: { type: 'string', multiple: true }, json: { type: 'boolean' }, seed: { type: 'string' } } as const;

describe('command-line arguments', () => {
  it('reads values, negative numbers, switches, repeated flags and positionals', () => {
    const r = parseCommandLine(['inspect', '--K', '-1,0,320.5,-2', '--images=a', '--images', 'b', '--json', '--seed=-3', 'x'], options, 2);
    expect(r.values).toEqual({ K: '-1,0,320.5,-2', images: ['a', 'b'], json: true, seed: '-3' });
    expect(r.positionals).toEqual(['inspect', 'x']);
    expect(parseCommandLine(['--', '--json'], options, 1).positionals).toEqual(['--json']);
    expect(parseBackend(undefined)).toBe('auto');
    expect(parseInteger('seed', '-3', -5)).toBe(-3);
  });

  it('openDataset says which of the dataset\'s problems leave something out, for train and eval alike', async () => {
    const root = writeTree(bopFixture(), mkdtempSync(join(tmpdir(), 'poselab-problems-')));
    const gtPath = join(root, 'lmfix', 'train', '000000', 'scene_gt.json');
    const gt = JSON.parse(readFileSync(gtPath, 'utf8')) as Record<string, { cam_R_m2c: number[] }[]>;
    gt['0'][0].cam_R_m2c = [1, 0, 0, 0, 1, 0, 0, 0, 2];
    writeFileSync(gtPath, JSON.stringify(gt));
    const said = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      await openDataset(root);
      expect(said).toHaveBeenCalledTimes(1);
      const text = String(said.mock.calls[0][0]);
      expect(text).toMatch(new RegExp(`^--dataset ${root}: 1 problem found reading it; what it names is not used:\n  .*train/000000/scene_gt\.json: .*cam_R_m2c`));
      said.mockClear();
      await openDataset(writeTree(bopFixture(), mkdtempSync(join(tmpdir(), 'poselab-clean-'))));
      expect(said).not.toHaveBeenCalled();
    } finally {
      said.mockRestore();
    }
  });

  it('names every mistake as a usage error', () => {
    const bad: [string[], RegExp][] = [
      [['--frobnicate'], /Unknown option '--frobnicate'/],
      [['--K'], /--K needs a value/],
      [['--K', '--json'], /--K needs a value/],
      [['--json=yes'], /--json is a switch and takes no value/],
      [['stray'], /unexpected argument stray/],
      // A flag of one value given twice: which one was meant cannot be guessed (--images may repeat).
      [['--seed', '1', '--seed=2'], /^--seed given twice \(1 and 2\); give it once$/],
      [['--K=1,2,3,4', '--K', '-1,2,3,4'], /^--K given twice/],
      // An empty value (an unset shell variable) would name the current folder or read as the flag left out.
      [['--K', ''], /^--K has an empty value; give one, or leave the flag out$/],
      [['--images='], /^--images has an empty value/],
      [['--K', ' '], /^--K has an empty value/],
    ];
    for (const [argv, message] of bad) {
      expect(() => parseCommandLine(argv, options)).toThrow(UsageError);
      expect(() => parseCommandLine(argv, options)).toThrow(message);
    }
    expect(() => parseBackend('gpu')).toThrow(/--backend gpu: expected auto/);
    expect(() => parseInteger('steps', '1.5', 1)).toThrow('--steps 1.5: expected a positive integer');
    // Written as digits: numbers JavaScript would read as integers in other notations are refused.
    for (const s of ['1e3', '0x10', '10.0', '1_000']) expect(() => parseInteger('steps', s, 1)).toThrow(`--steps ${s}: expected a positive integer`);
    expect(parseInteger('steps', ' 1000 ', 1)).toBe(1000);
    // No more than a double holds exactly: 99999999999999999999 would read as 1e20.
    expect(() => parseInteger('steps', '99999999999999999999', 1)).toThrow('--steps 99999999999999999999: expected a positive integer, at most 9007199254740991');
    expect(parseInteger('steps', '9007199254740991', 1)).toBe(Number.MAX_SAFE_INTEGER);
    expect(() => parseInteger('seed', '', 0)).toThrow('--seed : expected an integer >= 0');
    expect(() => parseInteger('quality', '101', 1, 100)).toThrow('--quality 101: expected an integer from 1 to 100');
    expect(parseInteger('quality', '100', 1, 100)).toBe(100);
    expect(parseIntegerList('seeds', '1,0,7', 0)).toEqual([1, 0, 7]);
    expect(() => parseIntegerList('seeds', 'abc', 0)).toThrow('--seeds abc: abc is not an integer >= 0; expected a comma list of integers >= 0');
    expect(() => parseIntegerList('n', '8,3', 4, ' (PnP needs 4 points)')).toThrow('--n 8,3: 3 is not an integer >= 4; expected a comma list of integers >= 4 (PnP needs 4 points)');
    expect(() => parseIntegerList('B', '1,,2', 1)).toThrow('--B 1,,2: an empty item; expected a comma list of integers >= 1');
    expect(parseChoiceList('variants', 'heatmap,pose-kp', ['heatmap', 'pose-kp', 'pose-mesh'])).toEqual(['heatmap', 'pose-kp']);
    expect(() => parseChoiceList('variants', 'heatmap,pose', ['heatmap', 'pose-kp'])).toThrow('--variants heatmap,pose: pose is not one of heatmap, pose-kp');
  });

  it('prepareOutputFile refuses, before any work, a path that cannot be written, and leaves no file and no change behind', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'poselab-out-'));
    // /proc takes no new files: the command would have failed only when writing its result.
    await expect(prepareOutputFile('/proc/poselab-result.json', '--out')).rejects.toThrow(/^--out \/proc\/poselab-result\.json: cannot be written \(ENOENT/);
    // A well-formed path that cannot be written: an input error (printed without the usage), not a usage error.
    await expect(prepareOutputFile('/proc/poselab-result.json', '--out')).rejects.toBeInstanceOf(InputError);
    const fresh = join(dir, 'sub', 'result.json');
    await prepareOutputFile(fresh, '--out');
    expect(existsSync(fresh), 'the probe of a new file is removed').toBe(false);
    expect(existsSync(join(dir, 'sub')), 'its folder is made').toBe(true);
    const old = join(dir, 'old.json');
    writeFileSync(old, '{"kept": true}');
    await prepareOutputFile(old, '--out');
    expect(readFileSync(old, 'utf8'), 'an existing file is opened, not truncated').toBe('{"kept": true}');
    // A folder to make under /proc: Node's recursive mkdir retries it forever; refused at once, naming it.
    await expect(prepareOutputFile('/proc/poselab-new/result.json', '--out')).rejects.toThrow(/^--out \/proc\/poselab-new\/result\.json: cannot create its folder \(ENOENT/);
    // The input by another name, through a symbolic or a hard link, is the input.
    symlinkSync(old, join(dir, 'soft.json'));
    linkSync(old, join(dir, 'hard.json'));
    for (const alias of ['soft.json', 'hard.json']) {
      await expect(prepareOutputFile(join(dir, alias), '--out', { inputs: [old] })).rejects.toThrow(`--out ${join(dir, alias)}: is the file this run reads (${old}, by a link); give another name`);
    }
  }, 20_000);

  it('prepareBundlePath refuses a new name of another kind of archive, naming its whole extension, and makes nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'poselab-bundle-out-'));
    for (const [name, ext] of [['r.tar', '.tar'], ['r.tar.gz', '.tar.gz'], ['r.tar.bz2', '.tar.bz2'], ['r.TBZ2', '.TBZ2'], ['r.txz', '.txz'], ['r.7z', '.7z']]) {
      await expect(prepareBundlePath(join(dir, name))).rejects.toThrow(`a bundle is written as a folder or a .zip file, not as ${ext}`);
    }
    expect(readdirSync(dir)).toEqual([]);
    // An existing empty folder that happens to have such a name is a folder, as asked.
    const folder = join(dir, 'runs.tar');
    await prepareBundlePath(join(dir, 'runs.tar.d'));
    expect(existsSync(join(dir, 'runs.tar.d'))).toBe(true);
    mkdirSync(folder);
    await expect(prepareBundlePath(folder)).resolves.toBeUndefined();
    // An existing zip: a bundle may be continued in place (said), any other zip is named as not a bundle.
    writeFileSync(join(dir, 'data.zip'), zipSync({ 'lm/test/000001/scene_gt.json': strToU8('{}') }));
    await expect(prepareBundlePath(join(dir, 'data.zip'))).rejects.toThrow(`--out ${join(dir, 'data.zip')}: exists; it is not a bundle, and a run writes over no other file: give a new name`);
    writeFileSync(join(dir, 'run.zip'), zipSync({ 'run/poselab.json': strToU8('{}') }));
    await expect(prepareBundlePath(join(dir, 'run.zip'))).rejects.toThrow(`--out ${join(dir, 'run.zip')}: exists; give a new one (or continue that bundle in place: --resume`);
  });

  it('prepareBundlePath refuses a dangling symbolic link before the run, naming where it points', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'poselab-bundle-link-'));
    symlinkSync(join(dir, 'gone'), join(dir, 'out'));
    await expect(prepareBundlePath(join(dir, 'out'))).rejects.toThrow(
      `--out ${join(dir, 'out')}: cannot create the folder (ENOENT: ${join(dir, 'out')} is a symbolic link to ${join(dir, 'gone')}, which does not exist)`);
    // The bundle a run continues, named through a link on one side: the same folder, continued in place.
    mkdirSync(join(dir, 'A'));
    writeFileSync(join(dir, 'A', 'poselab.json'), '{}');
    symlinkSync(join(dir, 'A'), join(dir, 'link-to-A'));
    await expect(prepareBundlePath(join(dir, 'link-to-A'), join(dir, 'A'))).resolves.toBeUndefined();
    await expect(prepareBundlePath(join(dir, 'link-to-A'))).rejects.toThrow('holds a bundle already');
    // Where the system puts a path with `..` after a link: beside the link's target, not beside the link.
    mkdirSync(join(dir, 'deep', 'er'), { recursive: true });
    symlinkSync(join(dir, 'deep', 'er'), join(dir, 'link-to-er'));
    expect(physicalPath(`${dir}/link-to-er/../x`)).toBe(join(dir, 'deep', 'x'));
    // A folder that can be made and written is taken; the write check leaves nothing in it.
    await prepareBundlePath(join(dir, 'new', 'run'));
    expect(readdirSync(join(dir, 'new', 'run'))).toEqual([]);
  });

  it('readInputText names the flag, the path and why a file cannot be read: missing, a folder', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'poselab-in-'));
    writeFileSync(join(dir, 'cam.json'), '{"fx": 1}');
    await expect(readInputText(join(dir, 'cam.json'), '--camera', 'a camera JSON file')).resolves.toBe('{"fx": 1}');
    await expect(readInputText(join(dir, 'none.json'), '--camera', 'a camera JSON file')).rejects.toThrow(`--camera ${join(dir, 'none.json')}: no such file`);
    await expect(readInputText(dir, '--in', 'a problems JSON file')).rejects.toThrow(`--in ${dir}: is a folder; give a problems JSON file`);
    await expect(readInputText(dir, '--in', 'a problems JSON file')).rejects.toBeInstanceOf(InputError);
    writeFileSync(join(dir, 'blank.json'), ' \n');
    await expect(readInputText(join(dir, 'blank.json'), '--config-file', 'a JSON config file')).rejects.toThrow(`--config-file ${join(dir, 'blank.json')}: is empty; give a JSON config file`);
    // A photo or other binary file given for a JSON file is named as what it is, not quoted in a parse error.
    writeFileSync(join(dir, 'photo.json'), Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]));
    await expect(readInputText(join(dir, 'photo.json'), '--camera', 'a camera JSON file')).rejects.toThrow(`--camera ${join(dir, 'photo.json')}: is a PNG image; give a camera JSON file`);
    writeFileSync(join(dir, 'bytes.json'), Uint8Array.from([0x7b, 0, 1, 2, 0x7d]));
    await expect(readInputText(join(dir, 'bytes.json'), '--in', 'a problems JSON file')).rejects.toThrow(`--in ${join(dir, 'bytes.json')}: is binary data, not text; give a problems JSON file`);
  });

  it('notFound says where npm looked for a relative path when it ran the command from another folder', () => {
    const before = process.env.INIT_CWD;
    try {
      delete process.env.INIT_CWD;
      expect(notFound('data/x')).toBe('no such file or folder');
      process.env.INIT_CWD = process.cwd();
      expect(notFound('data/x')).toBe('no such file or folder');
      process.env.INIT_CWD = join(process.cwd(), 'public');
      // The path meant exists from there (the bundled dataset): named; one that exists nowhere: not.
      expect(notFound('datasets/poselab-toy', 'no such file')).toBe(`no such file (a relative path is read from ${process.cwd()}, the project's root, where npm runs the command, ` +
        `not from ${join(process.cwd(), 'public')}; give ${join('public', 'datasets', 'poselab-toy')} or an absolute path)`);
      expect(notFound('datasets/none')).toBe(`no such file or folder (a relative path is read from ${process.cwd()}, the project's root, where npm runs the command, ` +
        `not from ${join(process.cwd(), 'public')})`);
      expect(notFound('/abs/x')).toBe('no such file or folder');
    } finally {
      if (before === undefined) delete process.env.INIT_CWD;
      else process.env.INIT_CWD = before;
    }
  });

  it('prepareFileOrFolder takes a file of the extension or a folder, made and found writable now, and names the flag otherwise', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'poselab-out-'));
    await expect(prepareFileOrFolder(join(dir, 'a.csv'), '--csv', '.csv')).resolves.toEqual({ file: join(dir, 'a.csv') });
    await expect(prepareFileOrFolder(join(dir, 'new', 'deeper') + '/', '--out', '.json')).resolves.toEqual({ folder: join(dir, 'new', 'deeper') + '/' });
    expect(existsSync(join(dir, 'new', 'deeper')), 'the folder is made').toBe(true);
    expect(readdirSync(join(dir, 'new', 'deeper')), 'and the probe removed').toEqual([]);
    await expect(prepareFileOrFolder(join(dir, 'a.txt'), '--csv', '.csv')).rejects.toThrow(`--csv ${join(dir, 'a.txt')}: expected a .csv file name, or a folder (an existing one, or a path ending in /)`);
    // /proc/self is a folder no file can be made in: refused now, not after the run.
    await expect(prepareFileOrFolder('/proc/self/', '--out', '.json')).rejects.toThrow(/^--out \/proc\/self\/: no file can be written in this folder/);
  });

  it('isWithin sees a path inside a folder as written and through symbolic links, and only then', () => {
    const root = mkdtempSync(join(tmpdir(), 'poselab-within-'));
    const data = join(root, 'data');
    mkdirSync(join(data, 'train'), { recursive: true });
    symlinkSync(data, join(root, 'link-to-data'));
    symlinkSync(join(data, 'train'), join(root, 'link-to-train'));
    mkdirSync(join(root, 'elsewhere'));
    symlinkSync(join(root, 'elsewhere'), join(data, 'link-out'));
    expect(isWithin(join(data, 'runs', 'new'), data)).toBe(true);
    expect(isWithin(join(root, 'link-to-data', 'runs', 'new'), data), 'a link to the folder, the rest not yet made').toBe(true);
    expect(isWithin(join(root, 'link-to-train', 'r.zip'), data), 'a link into the folder').toBe(true);
    expect(isWithin(join(data, 'x'), join(root, 'link-to-data')), 'the folder named through a link').toBe(true);
    expect(isWithin(join(root, 'data-runs'), data), 'a sibling whose name starts alike').toBe(false);
    expect(isWithin(join(root, 'elsewhere', 'r'), data)).toBe(false);
    expect(isWithin(join(data, '..x'), data), 'a name starting with two dots inside it').toBe(true);
    // `..` after a link climbs from where the link led (the system's reading), not from the link's name.
    // (Written out: join() would take the `..` away by the text.)
    expect(isWithin(`${root}/link-to-train/../x`, data), 'a `..` after a link into the folder').toBe(true);
    expect(isWithin(`${root}/link-to-train/../../x`, data), 'and out of it again').toBe(false);
    // A dangling link into the folder: writing through it creates its target there.
    symlinkSync(join(data, 'not-yet.csv'), join(root, 'dangling.csv'));
    expect(isWithin(join(root, 'dangling.csv'), data), 'a dangling link into the folder').toBe(true);
    // A path inside the folder as written is refused even where a link takes it elsewhere: the stricter reading.
    expect(isWithin(join(data, 'link-out', 'r'), data), 'inside as written, though a link leads out').toBe(true);
    expect(isWithin(join(root, 'elsewhere', 'r'), join(data, 'link-out')), 'a folder named through a link, and a path where it leads').toBe(true);
  });

  it('a save cut among its renames leaves a bundle that continues exactly, or is refused with a remedy that holds', async () => {
    await useCpuBackend();
    // Two saves of one run, at steps 2 and 4, as train writes them (the engine paused at its checkpoint event).
    const cfg = tinyConfig({ optim: { steps: 4 }, checkpointEvery: 2 });
    const data = await fixtureData(cfg);
    const engine = new TrainingEngine(data, cfg);
    let first: Promise<BundleFiles> | undefined;
    engine.on((e) => {
      if (e.type !== 'checkpoint' || e.step !== 2) return;
      engine.pause();
      first = exportEngine(engine, { withCheckpoint: e.checkpoint, dataset: data.dataset }).finally(() => engine.resume());
    });
    await engine.start();
    const saves = [await first!, await exportEngine(engine, { withCheckpoint: true, dataset: data.dataset })];
    engine.dispose();
    const order = bundleWriteOrder([...saves[1].keys()]);
    expect(order.slice(-3)).toEqual([kPoselabJson, kCheckpointBin, kCheckpointJson]);
    // Whether the torn bundle's file is save i's (model.json is the same in both: its weights are in weights.bin).
    const isOf = (torn: BundleFiles, name: string, i: number) => Buffer.compare(saves[i].get(name)!, torn.get(name)!) === 0;
    expect(isOf(saves[0], kPoselabJson, 1) || isOf(saves[0], kCheckpointJson, 1) || isOf(saves[0], kCheckpointBin, 1), 'the saves differ').toBe(false);
    const networks = order.filter((n) => ![kPoselabJson, kCheckpointJson, kCheckpointBin].includes(n));
    expect(networks.filter((n) => !isOf(saves[0], n, 1)), 'the networks\' files that differ between the saves').toEqual([kWeightsBin, kLocaliserBin]);
    const seen = { mixed: 0, offered: 0, whole: 0, checkpointRefused: 0 };
    // What eval and predict say of a folder whose networks are of another save, when nothing finishes the later one.
    // A folder whose name has a space is one word of the printed command only quoted.
    const asTyped = (folder: string) => (folder.includes(' ') ? `'${folder}'` : folder);
    const resumeRemedy = (folder: string, b: LoadedBundle) => `--model ${folder}: ${b.filesProblem}; continue the run with npm run train -- --dataset ` +
      `<the folder or zip of dataset lmfix (bop)> --resume ${asTyped(folder)} --out ${asTyped(folder)} (its checkpoint carries the weights of step 2, so the resumed run's ` +
      'next save writes every file again)';
    for (let cut = 0; cut <= order.length; cut++) {
      // Step 4's save written over step 2's by writeBundlePath itself, killed after `cut` of its renames; a space in the
      // folder's name, which the printed commands must quote.
      const folder = mkdtempSync(join(tmpdir(), 'poselab torn '));
      await writeBundlePath(saves[0], folder);
      renames.left = cut;
      const writing = writeBundlePath(saves[1], folder);
      await (cut < order.length ? expect(writing).rejects.toThrow(kKilled) : writing);
      renames.left = undefined;
      const onDisk = await readBundlePath(folder);
      const torn: BundleFiles = new Map([...onDisk].filter(([n]) => !n.endsWith(kPartial)));
      // The files renamed are step 4's, the others step 2's, and step 4's rest is beside them under its temporary names.
      expect(order.filter((n, i) => !isOf(torn, n, i < cut ? 1 : 0)), `cut after ${cut}`).toEqual([]);
      // (Left to rename: the rest of the write order.)
      const left = order.slice(cut);
      expect([...onDisk.keys()].filter((n) => n.endsWith(kPartial)).sort(), `cut after ${cut}`).toEqual(left.map((n) => n + kPartial).sort());
      for (const n of left) expect(Buffer.compare(onDisk.get(n + kPartial)!, saves[1].get(n)!), `${n}${kPartial}, cut after ${cut}`).toBe(0);
      const meta = isOf(torn, kPoselabJson, 0) ? 0 : 1;
      const b = await importBundle(torn);
      // Networks of another save than poselab.json's are exactly the states with a filesProblem, which names each of them.
      const other = networks.filter((n) => !isOf(torn, n, meta));
      expect(b.filesProblem !== undefined, `cut after ${cut}: ${other.join(', ')}`).toBe(other.length > 0);
      if (b.filesProblem) {
        seen.mixed++;
        const named = networks.filter((n) => new RegExp(`(^bundle: |, | and )${n.replace(/\./g, '\\.')}( |,)`).test(b.filesProblem!));
        expect(named, `cut after ${cut}`).toEqual(other);
        // It still continues exactly: the checkpoint is poselab.json's save's, whole.
        expect(b.checkpointProblem, `cut after ${cut}`).toBeUndefined();
        const c = await resumeCheckpoint(b);
        expect([c.step, isOf(torn, kCheckpointJson, meta), isOf(torn, kCheckpointBin, meta)], `cut after ${cut}`).toEqual([b.meta.step, true, true]);
        expect(c).toBe(b.checkpoint);
        // eval and predict refuse it (loadBundle), and offer to finish the later save: it is whole under its temporary names.
        seen.offered++;
        const said = await refusal(loadBundle(folder));
        const mv = left.map((n) => `  mv '${join(folder, n)}${kPartial}' '${join(folder, n)}'`);
        expect(said, `cut after ${cut}`).toBe(`--model ${folder}: ${b.filesProblem}; the later save, of step 4, is whole in the .partial files beside it ` +
          `and is the run's newest state; finish its renames, in this order:\n${mv.join('\n')}`);
        // One of its files the digests cover (poselab.json.partial itself included) cut short: not offered.
        for (const n of [...left.filter((x) => networks.includes(x)), kPoselabJson]) {
          const short = mkdtempSync(join(tmpdir(), 'poselab torn '));
          cpSync(folder, short, { recursive: true });
          writeFileSync(join(short, n + kPartial), saves[1].get(n)!.subarray(0, saves[1].get(n)!.length >> 1));
          expect(await refusal(loadBundle(short)), `${n}${kPartial} cut short, cut after ${cut}`).toBe(resumeRemedy(short, b));
        }
        // The printed commands, run by a shell as they are, leave step 4's save: every file of it, byte for byte, and nothing else.
        const sh = spawnSync('sh', ['-c', said.split('\n').filter((l) => l.startsWith('  mv ')).join('\n')], { encoding: 'utf8' });
        expect(sh.status, sh.stderr).toBe(0);
        const finished = await readBundlePath(folder);
        expect([...finished.keys()].sort(), `cut after ${cut}`).toEqual([...saves[1].keys()].sort());
        for (const [n, bytes] of saves[1]) expect(Buffer.compare(finished.get(n)!, bytes), `${n}, cut after ${cut}`).toBe(0);
        const later = await importBundle(finished);
        expect([later.filesProblem, later.checkpointProblem, later.meta.step, later.checkpoint?.step], `cut after ${cut}`).toEqual([undefined, undefined, 4, 4]);
        later.model.dispose();
        later.localiser?.dispose();

        // The cut folder zipped (its .partial files as entries, in a wrapping folder as zip tools make): refused alike,
        // the remedy unzipping into a new folder named after the zip and the step, and renaming there.
        const zipDir = mkdtempSync(join(tmpdir(), 'poselab zipped '));
        const zipPath = join(zipDir, 'run.zip');
        writeFileSync(zipPath, zipBundle(new Map([...onDisk].map(([n, bytes]) => [`run/${n}`, bytes]))));
        const into = join(zipDir, 'run-step-4');
        const zipMv = left.map((n) => `  mv '${join(into, 'run', n)}${kPartial}' '${join(into, 'run', n)}'`);
        const zipSaid = await refusal(loadBundle(zipPath));
        expect(zipSaid, `zipped, cut after ${cut}`).toBe(`--model ${zipPath}: ${b.filesProblem}; the later save, of step 4, is whole in the zip's .partial ` +
          `entries and is the run's newest state (the zip was made of a folder whose save was cut among its renames); unzip it into a new folder and ` +
          `finish its renames there, in this order, then use that folder:\n  unzip -q '${zipPath}' -d '${into}'\n${zipMv.join('\n')}`);
        // The unzip done here (unzip(1) need not be installed), then the printed renames by a shell: step 4's save.
        for (const [n, bytes] of Object.entries(unzipSync(readFileSync(zipPath)))) {
          mkdirSync(dirname(join(into, n)), { recursive: true });
          writeFileSync(join(into, n), bytes);
        }
        const zsh = spawnSync('sh', ['-c', zipSaid.split('\n').filter((l) => l.startsWith('  mv ')).join('\n')], { encoding: 'utf8' });
        expect(zsh.status, zsh.stderr).toBe(0);
        const unzipped = await readBundlePath(join(into, 'run'));
        expect([...unzipped.keys()].sort(), `zipped, cut after ${cut}`).toEqual([...saves[1].keys()].sort());
        for (const [n, bytes] of saves[1]) expect(Buffer.compare(unzipped.get(n)!, bytes), `${n}, zipped, cut after ${cut}`).toBe(0);
        // Asked again, with that folder there: another new one.
        expect(await refusal(loadBundle(zipPath)), `zipped again, cut after ${cut}`).toContain(`\n  unzip -q '${zipPath}' -d '${into}-2'\n  mv '${join(`${into}-2`, 'run', left[0])}${kPartial}'`);

        // Without the later save (a folder copied without its .partial files): the remedy of a bundle saved mid-run (step 2
        // of 4: no --steps), naming the dataset poselab.json records; without its checkpoint, nothing in it holds step 2's networks.
        const plain = writeTree(torn, mkdtempSync(join(tmpdir(), 'poselab-torn-')));
        expect(await refusal(loadBundle(plain)), `cut after ${cut}`).toBe(resumeRemedy(plain, b));
        for (const n of [kCheckpointJson, kCheckpointBin]) rmSync(join(plain, n));
        expect(await refusal(loadBundle(plain)), `cut after ${cut}`).toBe(`--model ${plain}: ${b.filesProblem}; it holds no whole checkpoint of step 2 ` +
          'to rebuild them from: use another copy of this bundle, or another bundle of the run');
      } else if (!b.checkpointProblem) {
        // Neither problem: every file is of one save, which continues exactly.
        seen.whole++;
        expect(order.filter((n) => !isOf(torn, n, meta)), `cut after ${cut}`).toEqual([]);
        expect(b.checkpoint!.step).toBe(b.meta.step);
        // eval and predict use it; where the later save lies whole beside it (cut before poselab.json's rename), they say
        // which save they use and how to use the later one.
        const later = await cutSave(folder, onDisk);
        const said: string[] = [];
        const spy = vi.spyOn(console, 'error').mockImplementation((m: unknown) => { said.push(String(m)); });
        const used = await loadBundle(folder).finally(() => spy.mockRestore());
        expect(used.meta.step, `cut after ${cut}`).toBe(b.meta.step);
        used.model.dispose();
        used.localiser?.dispose();
        if (cut < order.length) {
          expect(later && { step: later.step, left: later.left }, `cut after ${cut}`).toEqual({ step: 4, left });
          expect(said, `cut after ${cut}`).toEqual([`--model ${folder}: its save of step 2 is used; ${finishCutSave(later!)}\nto use that one instead`]);
        } else {
          expect([later, said], `cut after ${cut}`).toEqual([undefined, []]);
        }
      } else {
        // Refused, naming the mismatch; the networks are poselab.json's own (eval uses them), and the later save's
        // checkpoint is whole under its temporary names: finishing the renames continues with Adam's moments.
        seen.checkpointRefused++;
        expect(b.checkpointProblem, `cut after ${cut}`).toMatch(/not of one export/);
        for (const n of networks) expect(isOf(torn, n, meta), `${n}, cut after ${cut}`).toBe(true);
        const later = await cutSave(folder, onDisk);
        expect(later && { step: later.step, steps: later.steps, left: later.left }, `cut after ${cut}`).toEqual({ step: 4, steps: 4, left });
        // eval and predict use the networks (poselab.json's own) and name the renames beside the checkpoint's problem.
        const said: string[] = [];
        const spy = vi.spyOn(console, 'error').mockImplementation((m: unknown) => { said.push(String(m)); });
        const used = await loadBundle(folder).finally(() => spy.mockRestore());
        expect(used.meta.step, `cut after ${cut}`).toBe(4);
        used.model.dispose();
        used.localiser?.dispose();
        expect(said, `cut after ${cut}`).toEqual([`--model ${folder}: ${b.checkpointProblem}; its weights are used as they are (only continuing the run ` +
          `needs the checkpoint); before continuing it, ${finishCutSave(later!)}`]);
        // Its checkpoint.json.partial cut short: not offered.
        const short = mkdtempSync(join(tmpdir(), 'poselab torn '));
        cpSync(folder, short, { recursive: true });
        writeFileSync(join(short, kCheckpointJson + kPartial), saves[1].get(kCheckpointJson)!.subarray(0, 40));
        expect(await cutSave(short, await readBundlePath(short)), `checkpoint.json.partial cut short, cut after ${cut}`).toBeUndefined();
        const sh = spawnSync('sh', ['-c', finishCutSave(later!).split('\n').filter((l) => l.startsWith('  mv ')).join('\n')], { encoding: 'utf8' });
        expect(sh.status, sh.stderr).toBe(0);
        const finished = await readBundlePath(folder);
        expect([...finished.keys()].sort(), `cut after ${cut}`).toEqual([...saves[1].keys()].sort());
        for (const [n, bytes] of saves[1]) expect(Buffer.compare(finished.get(n)!, bytes), `${n}, cut after ${cut}`).toBe(0);
      }
      b.model.dispose();
      b.localiser?.dispose();
    }
    // A run's first save cut among its renames (into an empty folder): whole in its .partial files at every cut, offered by
    // its own files only (a person's notes.txt.partial stays), and named by eval where no poselab.json is there yet.
    for (let cut = 0; cut < order.length; cut++) {
      const folder = mkdtempSync(join(tmpdir(), 'poselab first '));
      writeFileSync(join(folder, `notes.txt${kPartial}`), 'mine');
      renames.left = cut;
      await expect(writeBundlePath(saves[0], folder)).rejects.toThrow(kKilled);
      renames.left = undefined;
      const later = await cutSave(folder, await readBundlePath(folder));
      expect(later && { step: later.step, steps: later.steps, left: later.left }, `first save, cut after ${cut}`).toEqual({ step: 2, steps: 4, left: order.slice(cut) });
      if (cut <= order.indexOf(kPoselabJson)) expect(await refusal(loadBundle(folder)), `first save, cut after ${cut}`).toMatch(/poselab\.json missing .*; the later save, of step 2, is whole/s);
    }
    // Nothing to finish: a whole save with a person's notes.txt.partial beside it, or with only the model.json.partial a
    // next save wrote first (the same bytes in every save of the run): no later save, and eval says nothing.
    for (const [what, extra] of [['notes.txt.partial', 'mine'], [kModelJson + kPartial, saves[1].get(kModelJson)!]] as const) {
      const folder = mkdtempSync(join(tmpdir(), 'poselab whole '));
      await writeBundlePath(saves[1], folder);
      writeFileSync(join(folder, what), extra);
      expect(await cutSave(folder, await readBundlePath(folder)), what).toBeUndefined();
      const said: string[] = [];
      const spy = vi.spyOn(console, 'error').mockImplementation((m: unknown) => { said.push(String(m)); });
      const used = await loadBundle(folder).finally(() => spy.mockRestore());
      expect([used.meta.step, said], what).toEqual([4, []]);
      used.model.dispose();
      used.localiser?.dispose();
    }
    // Mixed (each offered the later save): the cuts after weights.bin's rename and before poselab.json's; whole: before any rename, after model.json's (the
    // same bytes in both saves) and after the last; refused: after poselab.json's and after checkpoint.bin's.
    expect(seen).toEqual({ mixed: 3, offered: 3, whole: 3, checkpointRefused: 2 });
  }, 60_000);

  it('every command prints its usage on --help and exits 0, and the README shows that usage', () => {
    // The README's command lines, each wrapped over lines as it likes: compared with spaces collapsed.
    const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8').replace(/\s+/g, ' ');
    const scripts: [string, string][] = [
      ...['pnp', 'demo', 'dataset', 'train', 'eval', 'predict'].map((c): [string, string] => [c, `src/cli/${c}.ts`]),
      ['make-dataset', 'scripts/make-dataset.ts'],
      ...['pnp', 'train', 'accuracy'].map((b): [string, string] => [`bench:${b}`, `bench/${b}.ts`]),
    ];
    for (const [command, script] of scripts) {
      const r = spawnSync('npx', ['tsx', '--import', './scripts/raw-loader.mjs', script, '--help'], { encoding: 'utf8', env: process.env });
      expect(r.status, `${command}: ${r.stderr}`).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^usage: npm run ${command} -- `));
      const lines = r.stdout.replace(/^usage: /, '').split('\n').map((l) => l.trim()).filter((l) => l.startsWith('npm run '));
      for (const line of lines) expect(readme, `README shows ${line}`).toContain(line.replace(/\s+/g, ' '));
      // The commands of a bundle or a dataset explain each of their flags below the usage (--backend: the README's).
      if (['dataset', 'eval', 'predict'].includes(command)) {
        const [usage, ...body] = r.stdout.split('\n');
        const flags = [...new Set(usage.match(/--[a-zA-Z-]+/g))].filter((f) => f !== '--backend');
        for (const f of flags) expect(body.join('\n'), `${command} --help explains ${f}`).toMatch(new RegExp(`(^|\\s)${f}\\b`));
      }
    }
  });
});
