/**
 * `npm run train` and `npm run eval` as a user runs them (child processes, cpu backend): bad arguments
 * and unusable datasets exit 2 with a message; tiny trains on the fixture, writes a bundle, resumes from
 * it, and eval reads it back and writes a BOP CSV; Ctrl-C stops a run and still writes its bundle.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { constants as osConstants, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { unzipSync, zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { kBopCsvHeader, parseBopCsv } from '../../src/train/bopCsv';
import { bopFixture, writeTree } from '../data/fixtures';

const dir = mkdtempSync(join(tmpdir(), 'poselab-train-cli-'));
const dataset = writeTree(bopFixture(), join(dir, 'fixture'));

/**
 * Signals the child's process group once its stderr matches `when` (SIGINT: as a terminal's Ctrl-C does); resolves
 * at its close.
 */
async function interruptWhen(child: ChildProcess, when: RegExp, signal: NodeJS.Signals = 'SIGINT'): Promise<{ stdout: string; stderr: string; signalled: boolean; code: number | null }> {
  let stdout = '', stderr = '', signalled = false;
  child.stdout!.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
    if (!signalled && when.test(stderr)) {
      signalled = true;
      process.kill(-child.pid!, signal);
    }
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  return { stdout, stderr, signalled, code };
}

function cli(script: 'train' | 'eval', args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync('npx', ['tsx', '--import', './scripts/raw-loader.mjs', `src/cli/${script}.ts`, ...args], { encoding: 'utf8', env: process.env });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

describe('train and eval command lines', () => {
  it('exit 2 with a message on bad arguments and unusable datasets', () => {
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    writeFileSync(join(dir, 'not-a.zip'), 'hello');
    const cases: [ 'train' | 'eval', string[], RegExp, 'usage' | 'input'][] = [
      ['train', [], /--dataset is required/, 'usage'],
      ['train', ['--dataset', dataset, '--config', 'huge'], /--config huge: expected tiny, small, default, large/, 'usage'],
      ['train', ['--dataset', dataset, '--steps', '1.5'], /--steps 1.5: expected a positive integer/, 'usage'],
      ['train', ['--dataset', dataset, '--backend', 'metal'], /--backend metal: expected auto \(the fastest CPU path: wasm, else cpu\), webgpu, wasm or cpu/, 'usage'],
      ['train', ['--dataset', dataset, '--frobnicate'], /Unknown option '--frobnicate'/, 'usage'],
      ['train', ['--dataset', join(dir, 'missing')], /--dataset .*missing: .*no such file/i, 'input'],
      ['train', ['--dataset', empty, '--backend', 'cpu'], /nothing to train or evaluate on/, 'input'],
      ['train', ['--dataset', join(dir, 'not-a.zip'), '--backend', 'cpu'], /not-a\.zip/, 'input'],
      ['train', ['--dataset', dataset, '--object', '7', '--backend', 'cpu'], /object 7 is not in the dataset/, 'input'],
      ['eval', ['--dataset', dataset], /--model is required/, 'usage'],
      ['eval', ['--model', join(dir, 'missing'), '--dataset', dataset], /no such file or folder/, 'input'],
      ['eval', ['--model', join(dir, 'not-a.zip'), '--dataset', dataset, '--backend', 'cpu'], /--model .*not-a.zip: bundle: not a readable zip/, 'input'],
      ['train', ['--dataset', dataset, '--resume', dataset, '--backend', 'cpu'], /--resume .*: bundle: poselab.json missing/, 'input'],
      // With --resume the bundle's config is used: every flag that would set another is refused, named.
      ['train', ['--dataset', dataset, '--resume', dataset, '--seed', '5'], /^--seed 5: a resumed run uses the config of its bundle \(--resume .*\); only --steps may be given, to extend the run\n/, 'usage'],
      ['train', ['--dataset', dataset, '--resume', dataset, '--config', 'small'], /^--config small: a resumed run uses the config of its bundle/, 'usage'],
      ['train', ['--dataset', dataset, '--resume', dataset, '--config-file', 'my.json'], /^--config-file my.json: a resumed run uses the config of its bundle/, 'usage'],
      ['train', ['--resume', dataset, '--print-config'], /^--print-config prints a new run's config/, 'usage'],
    ];
    for (const [script, args, message, kind] of cases) {
      const r = cli(script, args);
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.stderr).toMatch(message);
      // The usage where the command line is wrong; a well-formed one naming what cannot be used gets the message alone.
      expect({ args, usage: /usage: npm run/.test(r.stderr) }).toEqual({ args, usage: kind === 'usage' });
    }
  });

  it('tiny trains on the fixture, resumes from its bundle, and eval writes metrics and a BOP CSV', () => {
    const run = join(dir, 'run');
    // No --backend: the fastest CPU path, named on stderr.
    // --out given relative to the folder npm runs in; the bundle is named by its absolute path.
    const t = cli('train', ['--dataset', dataset, '--config', 'tiny', '--steps', '3', '--out', relative(process.cwd(), run)]);
    expect(t.code, t.stderr).toBe(0);
    expect(t.stdout).toContain(`finished at step 3; bundle: ${run}\n`);
    expect(t.stderr).toMatch(/training tiny on wasm: .*; the localiser on a second thread; batches cut on a thread of their own$/m);
    expect(t.stderr).toMatch(/3\/3 ETA 0s {2}loss \d/);
    expect(t.stdout).toMatch(/finished at step 3; bundle: /);
    expect(t.stderr).toMatch(/the pose loss starts after step 20 \(loss\.warmupSteps\), beyond this run's 3 steps: this run trains the heatmaps alone/);
    expect(t.stdout).toMatch(/ADD-0\.1d \d+\.\d%/);
    for (const f of ['model.json', 'weights.bin', 'poselab.json', 'checkpoint.json', 'checkpoint.bin']) expect(existsSync(join(run, f))).toBe(true);

    const zip = join(dir, 'run2.zip');
    const r = cli('train', ['--dataset', dataset, '--resume', run, '--steps', '4', '--backend', 'cpu', '--out', zip]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/4\/4 ETA/);
    expect(r.stderr).not.toMatch(/ 1\/4 /);
    // A new total moves the learning rate's decay: said on stderr.
    expect(r.stderr).toMatch(/the learning-rate schedule now decays over 4 steps instead of 3: the rate goes from \d\.\de-\d+ at step 3 to \d\.\de-\d+ at step 4/);
    // Both threads on the cpu backend: tfjs's first-use banner (advising its Node backend) is not printed.
    expect(r.stderr).not.toMatch(/tfjs-node|looks like you are running/);
    expect(r.stderr).not.toMatch(/the bundle was trained on dataset/);
    // Continued on another dataset: said, since the bundle will record that one.
    const other = writeTree(bopFixture('other/'), join(dir, 'other'));
    const elsewhere = cli('train', ['--dataset', other, '--resume', run, '--steps', '4', '--backend', 'cpu', '--out', join(dir, 'run-other')]);
    expect(elsewhere.code, elsewhere.stderr).toBe(0);
    expect(elsewhere.stderr).toContain('the bundle was trained on dataset lmfix (bop); this run continues it on other (bop), which the bundle will record\n');

    // A save cut among its renames: the weights.bin of the run's later save (step 4) beside step 3's poselab.json and checkpoint.
    const torn = join(dir, 'torn');
    cpSync(run, torn, { recursive: true });
    cpSync(join(dir, 'run-other', 'weights.bin'), join(torn, 'weights.bin'));
    const sha256Hex = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
    const recordedWeights = (JSON.parse(readFileSync(join(run, 'poselab.json'), 'utf8')) as { files: Record<string, string> }).files['weights.bin'];
    const problemOf = (folder: string) => `bundle: weights.bin is not the file poselab.json records (SHA-256 recorded ${recordedWeights.slice(0, 12)}..., found ` +
      `${sha256Hex(join(folder, 'weights.bin')).slice(0, 12)}...): the bundle's files come from two saves (one cut among its renames) or were changed since ` +
      'it was saved, so its networks are not those of poselab.json\'s step 3 and its metrics';
    const problem = problemOf(torn);
    const tornEval = cli('eval', ['--model', torn, '--dataset', dataset, '--backend', 'cpu']);
    expect({ code: tornEval.code, stderr: tornEval.stderr }).toEqual({ code: 2, stderr: `--model ${torn}: ${problem}; continue the run with ` +
      `npm run train -- --dataset <the folder or zip of dataset lmfix (bop)> --resume ${torn} --out ${torn} --steps <a larger total> (its checkpoint carries ` +
      'the weights of step 3, so the resumed run\'s next save writes every file again)\n' });
    // The remedy holds: continued in place, exactly (the weights of the run continued from the whole bundle), every digest matching.
    const mended = cli('train', ['--dataset', dataset, '--resume', torn, '--steps', '4', '--backend', 'cpu', '--out', torn]);
    expect(mended.code, mended.stderr).toBe(0);
    expect(mended.stderr).toContain(`${problem}; the run continues exactly from the checkpoint, which holds the weights of step 3, and its next save writes every file again\nresuming from step 3\n`);
    const recorded = (JSON.parse(readFileSync(join(torn, 'poselab.json'), 'utf8')) as { files: Record<string, string> }).files;
    expect(Object.keys(recorded).sort()).toEqual(['localiser.json', 'localiser.weights.bin', 'model.json', 'weights.bin']);
    for (const [name, digest] of Object.entries(recorded)) expect(sha256Hex(join(torn, name)), name).toBe(digest);
    expect(Buffer.compare(readFileSync(join(torn, 'weights.bin')), unzipSync(readFileSync(zip))['weights.bin']), 'the same weights as the whole bundle continued').toBe(0);
    const mendedEval = cli('eval', ['--model', torn, '--dataset', dataset, '--backend', 'cpu']);
    expect(mendedEval.code, mendedEval.stderr).toBe(0);

    // The same cut with the rest of the later save beside it, as writeBundlePath leaves it (every file written as .partial
    // before the first rename; model.json and weights.bin renamed): --resume refuses to go back to step 3 (its first save in
    // place would write over step 4's) and prints the renames that finish step 4's save, which a shell runs as printed.
    const cut = join(dir, 'cut');
    cpSync(run, cut, { recursive: true });
    const later = join(dir, 'run-other');
    for (const name of readdirSync(later)) cpSync(join(later, name), join(cut, `${name}.partial`));
    for (const name of ['model.json', 'weights.bin']) renameSync(join(cut, `${name}.partial`), join(cut, name));
    const refused = cli('train', ['--dataset', dataset, '--resume', cut, '--steps', '5', '--backend', 'cpu', '--out', cut]);
    const mv = ['localiser.json', 'localiser.weights.bin', 'poselab.json', 'checkpoint.bin', 'checkpoint.json'].map((n) => `  mv ${join(cut, n)}.partial ${join(cut, n)}`);
    expect({ code: refused.code, stderr: refused.stderr }).toEqual({ code: 2, stderr: `--resume ${cut}: ${problemOf(cut)}; the later save, of step 4, is whole in the ` +
      `.partial files beside it and is the run's newest state; finish its renames, in this order:\n${mv.join('\n')}\nthen --resume it again with --steps <a larger total> (it is at its run\'s last step), to continue from step 4\n` });
    const sh = spawnSync('sh', ['-c', mv.join('\n')], { encoding: 'utf8' });
    expect(sh.status, sh.stderr).toBe(0);
    expect(readdirSync(cut).sort()).toEqual(readdirSync(later).sort());
    for (const name of readdirSync(later)) expect(Buffer.compare(readFileSync(join(cut, name)), readFileSync(join(later, name))), name).toBe(0);

    // Cut before any rename: the older save whole and nothing wrong in it, the later one whole beside it: refused all the same.
    const unrenamed = join(dir, 'unrenamed');
    cpSync(run, unrenamed, { recursive: true });
    for (const name of readdirSync(later)) cpSync(join(later, name), join(unrenamed, `${name}.partial`));
    const notBack = cli('train', ['--dataset', dataset, '--resume', unrenamed, '--steps', '5', '--backend', 'cpu', '--out', unrenamed]);
    expect({ code: notBack.code, stderr: notBack.stderr }).toEqual({ code: 2, stderr: `--resume ${unrenamed}: the later save, of step 4, is whole in the ` +
      `.partial files beside it and is the run's newest state; finish its renames, in this order:\n${['model.json', 'weights.bin', 'localiser.json', 'localiser.weights.bin', 'poselab.json', 'checkpoint.bin', 'checkpoint.json']
        .map((n) => `  mv ${join(unrenamed, n)}.partial ${join(unrenamed, n)}`).join('\n')}\nthen --resume it again with --steps <a larger total> (it is at its run\'s last step), to continue from step 4\n` });
    // That folder zipped: refused alike, with the unzip into a new folder, whose renames then give step 4's save.
    const zipped = join(dir, 'unrenamed.zip');
    writeFileSync(zipped, zipSync(Object.fromEntries(readdirSync(unrenamed).map((n) => [n, new Uint8Array(readFileSync(join(unrenamed, n)))]))));
    const into = join(dir, 'unrenamed-step-4');
    const zipMv = ['model.json', 'weights.bin', 'localiser.json', 'localiser.weights.bin', 'poselab.json', 'checkpoint.bin', 'checkpoint.json']
      .map((n) => `  mv ${join(into, n)}.partial ${join(into, n)}`);
    const zipNotBack = cli('train', ['--dataset', dataset, '--resume', zipped, '--steps', '5', '--backend', 'cpu', '--out', zipped]);
    expect({ code: zipNotBack.code, stderr: zipNotBack.stderr }).toEqual({ code: 2, stderr: `--resume ${zipped}: the later save, of step 4, is whole in the ` +
      'zip\'s .partial entries and is the run\'s newest state (the zip was made of a folder whose save was cut among its renames); unzip it into a new ' +
      `folder and finish its renames there, in this order, then use that folder:\n  unzip -q ${zipped} -d ${into}\n${zipMv.join('\n')}\n` +
      'then --resume that folder with --steps <a larger total> (it is at its run\'s last step), to continue from step 4\n' });

    // A bundle whose checkpoint.json was edited by hand: the field named, exit 2, no stack trace and no usage.
    const edited = join(dir, 'edited');
    cpSync(run, edited, { recursive: true });
    const ck = JSON.parse(readFileSync(join(edited, 'checkpoint.json'), 'utf8')) as { config: { optim: { lr: number } } };
    ck.config.optim.lr = -1;
    writeFileSync(join(edited, 'checkpoint.json'), JSON.stringify(ck));
    const bad = cli('train', ['--dataset', dataset, '--resume', edited, '--steps', '4', '--backend', 'cpu', '--out', join(dir, 'never')]);
    expect({ code: bad.code, stderr: bad.stderr }).toEqual({ code: 2, stderr: `--resume ${edited}: checkpoint: checkpoint.json: config.optim.lr = -1: must be > 0 (remove checkpoint.json and checkpoint.bin to continue from the weights alone, with fresh Adam moments)\n` });
    // Keypoints of another object in the checkpoint: refused when the run is set up, before its --out folder is made.
    const moved = join(dir, 'moved');
    cpSync(run, moved, { recursive: true });
    const mk = JSON.parse(readFileSync(join(moved, 'checkpoint.json'), 'utf8')) as { keypointsMm: number[] };
    mk.keypointsMm = mk.keypointsMm.map((v) => v + 10);
    writeFileSync(join(moved, 'checkpoint.json'), JSON.stringify(mk));
    const movedRun = cli('train', ['--dataset', dataset, '--resume', moved, '--steps', '4', '--backend', 'cpu', '--out', join(dir, 'never-moved')]);
    expect(movedRun.code, movedRun.stderr).toBe(2);
    expect(movedRun.stderr).toMatch(/\n--resume \S+moved: checkpoint: its keypoints differ/);
    expect(existsSync(join(dir, 'never-moved')), 'no --out folder is left by a refused run').toBe(false);
    // Half a checkpoint is not taken for none: continuing refuses, naming the missing file; evaluating needs none and says so.
    const half = join(dir, 'half');
    cpSync(run, half, { recursive: true });
    rmSync(join(half, 'checkpoint.bin'));
    const noBin = cli('train', ['--dataset', dataset, '--resume', half, '--steps', '4', '--backend', 'cpu', '--out', join(dir, 'never2')]);
    expect(noBin.code).toBe(2);
    expect(noBin.stderr).toMatch(/^--resume \S+half: checkpoint: checkpoint\.bin missing beside checkpoint\.json \(remove checkpoint\.json/);
    const ev = cli('eval', ['--model', half, '--dataset', dataset, '--backend', 'cpu']);
    expect(ev.code, ev.stderr).toBe(0);
    expect(ev.stderr).toMatch(/--model \S+half: checkpoint: checkpoint\.bin missing beside checkpoint\.json; its weights are used as they are/);

    const csv = join(dir, 'results.csv');
    const e = cli('eval', ['--model', zip, '--dataset', dataset, '--csv', csv, '--backend', 'cpu', '--json']);
    expect(e.code, e.stderr).toBe(0);
    // The bundle records the dataset it was trained on; eval says it beside the one it evaluates on.
    expect(e.stderr).toMatch(/^trained on dataset lmfix \(bop\); evaluated on lmfix \(bop\)$/m);
    const metrics = JSON.parse(e.stdout) as { instances: number; pnpFailures: number };
    expect(metrics.instances).toBe(2);
    const text = readFileSync(csv, 'utf8');
    expect(text.split('\n')[0]).toBe(kBopCsvHeader);
    const rows = parseBopCsv(text);
    expect(rows.map((x) => [x.sceneId, x.imId, x.objId])).toEqual([[1, 0, 1], [1, 1, 1]]);
  });

  it('Ctrl-C stops after the current step and still writes the bundle, with its checkpoint at that step', async () => {
    const run = join(dir, 'interrupted');
    // As a user runs it, `npm run train`, in its own process group, signalled as a terminal's Ctrl-C
    // signals the foreground group: npm, the shell and node each get it (and npm forwards it once more).
    // The progress line of step 1 (non-terminal output prints one per 5%, and the first step).
    const { stdout, stderr, signalled } = await interruptWhen(spawn('npm', ['run', '--silent', 'train', '--',
      '--dataset', dataset, '--config', 'tiny', '--steps', '2000', '--backend', 'cpu', '--out', run], { env: process.env, detached: true }), / 1\/2000 ETA/);
    expect(signalled, stderr).toBe(true);
    // npm itself ends by the signal; what counts is what the training process did before.
    expect(stderr).toMatch(/stopping after this step \(Ctrl-C again to quit without saving\)/);
    const m = /^stopped at step (\d+); bundle: (.+)$/m.exec(stdout);
    expect(m, stdout).not.toBeNull();
    const step = Number(m![1]);
    expect(step).toBeGreaterThanOrEqual(1);
    expect(step).toBeLessThan(2000);
    // The command as typed, the backend asked for kept.
    expect(stdout).toContain(`continue with: npm run train -- --dataset ${dataset} --resume ${run} --out ${run} --backend cpu\n`);
    const meta = JSON.parse(readFileSync(join(run, 'poselab.json'), 'utf8')) as { step: number };
    expect(meta.step, 'the bundle\'s step').toBe(step);
    const ckpt = JSON.parse(readFileSync(join(run, 'checkpoint.json'), 'utf8')) as { step: number };
    expect(ckpt.step, 'the checkpoint\'s step').toBe(step);
  });

  it('npm run train signalled alone (kill, timeout, docker stop) or with its group exits only once its bundle is written', async () => {
    // npm forwards SIGINT and SIGTERM to the script's process and exits after it; a shell between the two (npm's
    // sh -c) would die of SIGTERM at once, npm with it, while training went on orphaned and wrote later.
    for (const [signal, group] of [['SIGTERM', false], ['SIGINT', false], ['SIGTERM', true]] as const) {
      const run = join(dir, `npm-${signal}-${group ? 'group' : 'alone'}`);
      const child = spawn('npm', ['run', '--silent', 'train', '--', '--dataset', dataset, '--config', 'tiny', '--steps', '2000', '--backend', 'cpu', '--out', run],
        { env: process.env, detached: true });
      let stderr = '', signalled = false;
      child.stdout!.on('data', () => undefined);
      child.stderr!.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (!signalled && / 1\/2000 ETA/.test(stderr)) {
          signalled = true;
          process.kill(group ? -child.pid! : child.pid!, signal);
        }
      });
      const ended = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; written: boolean }>((resolve) =>
        child.on('exit', (code, sig) => resolve({ code, signal: sig, written: existsSync(join(run, 'poselab.json')) })));
      expect(signalled, stderr).toBe(true);
      // npm ends as its script did, by the signal (128 + its number, or the signal itself), and the bundle is there when it does.
      expect(ended.written, `${signal} to npm${group ? '\'s group' : ''}: ${stderr}`).toBe(true);
      expect(ended.code === 128 + osConstants.signals[signal] || ended.signal === signal, JSON.stringify(ended)).toBe(true);
      expect(stderr).toMatch(/stopping after this step/);
    }
  }, 180_000);

  it('a run killed mid-way keeps the bundle of its last checkpoint, which --resume continues', async () => {
    const run = join(dir, 'killed');
    const cfg = join(dir, 'checkpoint-every-2.json');
    writeFileSync(cfg, JSON.stringify({ preset: 'tiny', checkpointEvery: 2 }));
    // SIGKILL: nothing of the process runs after it (no handler, no final save), as when it runs out of memory.
    const { stderr, signalled } = await interruptWhen(spawn('node', ['--import', 'tsx', '--import', './scripts/raw-loader.mjs', 'src/cli/train.ts',
      '--dataset', dataset, '--config-file', cfg, '--steps', '2000', '--backend', 'cpu', '--out', run], { env: process.env, detached: true }), /^step 4 saved: /m, 'SIGKILL');
    expect(signalled, stderr).toBe(true);
    expect(stderr).toContain(`step 2 saved: ${run} (--resume it to continue should the run end before its last step)\n`);
    // Saved at step 4 or, had a later save begun before the kill, at a later even step: never half of one.
    const meta = JSON.parse(readFileSync(join(run, 'poselab.json'), 'utf8')) as { step: number };
    expect(meta.step % 2).toBe(0);
    expect(meta.step).toBeGreaterThanOrEqual(4);
    const r = cli('train', ['--dataset', dataset, '--resume', run, '--steps', String(meta.step + 1), '--backend', 'cpu', '--out', run]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`resuming from step ${meta.step}\n`);
    expect(r.stdout).toContain(`finished at step ${meta.step + 1}; bundle: ${run}\n`);
  }, 120_000);

  it('SIGTERM and SIGHUP stop a run as Ctrl-C does, exiting 128 + the signal\'s number with the bundle written; a bundle that cannot be written at the end is said, with the save that is there, and the metrics still printed', async () => {
    for (const [signal, exit] of [['SIGTERM', 143], ['SIGHUP', 129], ['SIGINT', 130]] as const) {
      const run = join(dir, `stopped-by-${signal}`);
      const t = await interruptWhen(spawn('node', ['--import', 'tsx', '--import', './scripts/raw-loader.mjs', 'src/cli/train.ts',
        '--dataset', dataset, '--config', 'tiny', '--steps', '2000', '--backend', 'cpu', '--out', run], { env: process.env, detached: true }), / 1\/2000 ETA/, signal);
      expect(t.signalled, t.stderr).toBe(true);
      // as a shell reports a process ended by the signal: `train && eval` stops there
      expect(t.code, t.stderr).toBe(exit);
      expect(t.stderr).toContain(signal === 'SIGINT' ? 'stopping after this step (Ctrl-C again to quit without saving)' : `stopping after this step (${signal}) (${signal} again to quit without saving)`);
      expect(t.stdout).toMatch(/^stopped at step \d+; bundle: /m);
      expect(existsSync(join(run, 'poselab.json'))).toBe(true);
    }

    // A file the final save cannot write (a folder in the way of poselab.json's temporary name), made once the first save is done.
    const blocked = join(dir, 'blocked');
    const cfg = join(dir, 'checkpoint-every-2-of-6.json');
    writeFileSync(cfg, JSON.stringify({ preset: 'tiny', checkpointEvery: 2 }));
    const child = spawn('node', ['--import', 'tsx', '--import', './scripts/raw-loader.mjs', 'src/cli/train.ts',
      '--dataset', dataset, '--config-file', cfg, '--steps', '6', '--backend', 'cpu', '--out', blocked], { env: process.env });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (/^step 2 saved: /m.test(stderr) && !existsSync(join(blocked, 'poselab.json.partial'))) mkdirSync(join(blocked, 'poselab.json.partial'));
    });
    const code = await new Promise<number | null>((r) => child.on('close', r));
    expect(code, stderr).toBe(1);
    const m = new RegExp(`the bundle could not be written to ${blocked} \\(.*\\); its save of step (\\d) is there, which --resume continues`).exec(stderr);
    expect(m, stderr).not.toBeNull();
    const meta = JSON.parse(readFileSync(join(blocked, 'poselab.json'), 'utf8')) as { step: number };
    expect(meta.step).toBe(Number(m![1]));
    expect(stdout).toMatch(/^test \(2 instances\): /m);
    expect(stdout).not.toMatch(/bundle: /);
  }, 120_000);

  it('Ctrl-C after the last step says the final evaluation and the bundle follow, and the run finishes', async () => {
    // The bundled dataset's 100 test images make a final evaluation long enough to be signalled during.
    const run = join(dir, 'interrupted-late');
    const { stdout, stderr, signalled, code } = await interruptWhen(spawn('node', ['--import', 'tsx', '--import', './scripts/raw-loader.mjs', 'src/cli/train.ts',
      '--dataset', 'public/datasets/poselab-toy', '--config', 'tiny', '--steps', '20', '--out', run], { env: process.env, detached: true }), / 20\/20 ETA/);
    expect(signalled, stderr).toBe(true);
    expect(stderr).toMatch(/the last step is done: the final evaluation and the bundle follow \(Ctrl-C again to quit without saving\)/);
    expect(stderr).not.toMatch(/stopping after this step/);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^finished at step 20; bundle: /m);
    expect(stdout).toMatch(/^test \(100 instances\): /m);
  }, 120_000);

  it('an --out that is a dangling symbolic link is refused before the run, and its target is not made', () => {
    const link = join(dir, 'dangling-out');
    symlinkSync(join(dir, 'nowhere', 'run'), link);
    const t = cli('train', ['--dataset', dataset, '--config', 'tiny', '--steps', '3', '--out', link]);
    expect(t.code, t.stderr).toBe(2);
    expect(t.stderr).toContain(`--out ${link}: cannot create the folder (ENOENT: ${link} is a symbolic link to ${join(dir, 'nowhere', 'run')}, which does not exist)`);
    expect(existsSync(join(dir, 'nowhere')), 'the link\'s target is not made').toBe(false);
  });

  it('a dataset none of whose training images can be read is refused before the run, with a count and no stack trace', () => {
    const broken = writeTree(bopFixture(), join(dir, 'all-broken'));
    for (const im of ['000000', '000001', '000002']) writeFileSync(join(broken, 'lmfix', 'train', '000000', 'rgb', `${im}.png`), 'not a png');
    const run = join(dir, 'all-broken-run');
    const t = cli('train', ['--dataset', broken, '--config', 'tiny', '--steps', '3', '--out', run]);
    expect(t.code, t.stderr).toBe(2);
    expect(t.stderr).toMatch(new RegExp(`^--dataset ${broken}: none of the 3 training instances of object 1 could be read \\(3 files unreadable; the first 3: ` +
      'lmfix/train/000000/rgb/00000\\d\\.png: cannot be decoded: its content is text', 'm'));
    expect(t.stderr).not.toMatch(/^\s+at /m);
    expect(existsSync(run), 'no bundle folder is made for a run that cannot start').toBe(false);
  });

  it('a corrupt image is named and skipped, never a lost run; output paths are checked before the work', () => {
    const broken = writeTree(bopFixture(), join(dir, 'broken'));
    writeFileSync(join(broken, 'lmfix', 'train', '000000', 'rgb', '000001.png'), 'not a png');
    writeFileSync(join(broken, 'lmfix', 'test', '000001', 'rgb', '000000.png'), 'not a png either');
    // A mask that cannot be read is named itself, not its image.
    writeFileSync(join(broken, 'lmfix', 'train', '000000', 'mask_visib', '000002_000000.png'), 'no mask');
    const run = join(dir, 'broken-run');
    const t = cli('train', ['--dataset', broken, '--config', 'tiny', '--steps', '3', '--out', run]);
    expect(t.code, t.stderr).toBe(0);
    expect(t.stderr).toMatch(/skipped in training \(samples drawn from the next image\): .*train\/000000\/rgb\/000001\.png: cannot be decoded/);
    const summary = /^(\d+) training image files could not be read; the instances that need them were skipped: (.*)$/m.exec(t.stderr);
    expect(summary, t.stderr).not.toBeNull();
    expect(summary![2].split(', ').sort()).toEqual(['lmfix/train/000000/mask_visib/000002_000000.png', 'lmfix/train/000000/rgb/000001.png']);
    expect(summary![1]).toBe('2');
    expect(t.stderr).toMatch(/1 test instances could not be read and are left out of the metrics: .*test\/000001\/rgb\/000000\.png/);
    expect(existsSync(join(run, 'poselab.json'))).toBe(true);

    const csv = join(dir, 'not', 'yet', 'there.csv');
    const e = cli('eval', ['--model', run, '--dataset', broken, '--csv', csv]);
    expect(e.code, e.stderr).toBe(0);
    expect(e.stderr).toMatch(/skipped test instance 0: .*test\/000001\/rgb\/000000\.png: cannot be decoded/);
    expect(readFileSync(csv, 'utf8').trim().split('\n')).toHaveLength(2); // header + the one readable instance
    // --csv takes a .csv name (or a folder): a slip such as `--csv README.md` is refused, the file untouched.
    const notCsv = join(dir, 'README.md');
    writeFileSync(notCsv, '# mine');
    const slip = cli('eval', ['--model', run, '--dataset', broken, '--csv', notCsv]);
    expect(slip.code).toBe(2);
    expect(slip.stderr).toContain(`--csv ${notCsv}: expected a .csv file name`);
    expect(readFileSync(notCsv, 'utf8')).toBe('# mine');
    // Nor into the bundle it reads, and nothing is evaluated before the output is known good.
    const intoBundle = cli('eval', ['--model', run, '--dataset', broken, '--csv', join(run, 'x.csv')]);
    expect(intoBundle.code).toBe(2);
    expect(intoBundle.stderr).toContain(`--csv ${join(run, 'x.csv')}: is inside the bundle --model ${run}, which this run reads`);
    expect(intoBundle.stderr).not.toMatch(/evaluating/);
    expect(slip.stderr).not.toMatch(/evaluating/);
    const again = cli('eval', ['--model', run, '--dataset', broken, '--csv', csv]);
    expect(again.stderr).toMatch(/BOP results: .*there\.csv \(1 line, in place of the file of that name\)/);
    // Every test image unreadable: no metrics over nothing (they would read as a model at 0%), exit 1.
    writeFileSync(join(broken, 'lmfix', 'test', '000001', 'rgb', '000001.png'), 'not a png either');
    const none = cli('eval', ['--model', run, '--dataset', broken]);
    expect(none.code, none.stderr).toBe(1);
    expect(none.stderr).toMatch(/^no test instance could be evaluated: every one was unreadable \(above\)$/m);
    expect(none.stdout).not.toMatch(/ADD-0\.1d/);
    const noneRun = join(dir, 'none-run');
    const t0 = cli('train', ['--dataset', broken, '--config', 'tiny', '--steps', '1', '--out', noneRun]);
    expect(t0.code, t0.stderr).toBe(1);
    expect(t0.stderr).toMatch(/^no test instance could be evaluated: every one was unreadable \(above\); the bundle holds no metrics to trust$/m);
    expect(existsSync(join(noneRun, 'poselab.json'))).toBe(true);

    const file = join(dir, 'a-file.txt');
    writeFileSync(file, 'x');
    const o = cli('train', ['--dataset', dataset, '--config', 'tiny', '--steps', '2', '--out', file]);
    expect(o.code).toBe(2);
    expect(o.stderr).toMatch(/--out .*a-file\.txt: is an existing file; give a folder or a \.zip name for the bundle/);
    expect(o.stderr).not.toMatch(/training tiny/);
    // An --out that cannot be created, another bundle, or a folder of other files: refused before training.
    writeFileSync(join(dir, 'notes.txt'), 'mine');
    for (const [out, why] of [
      [join(file, 'sub'), /cannot create the folder \(.*ENOTDIR/],
      [run, /holds a bundle already; give a new one \(or continue that bundle in place: --resume .* --out .*\)/],
      [dir, /is a folder with \d+ other entries; give a new or empty folder for the bundle/],
      [join(dir, 'r.tar.gz'), /a bundle is written as a folder or a \.zip file, not as \.tar\.gz; give a folder or a \.zip name/],
      [join(dataset, 'models', 'r.zip'), /is inside the dataset --dataset .*, which this run reads; give a path outside it/],
    ] as const) {
      const b = cli('train', ['--dataset', dataset, '--config', 'tiny', '--steps', '2', '--out', out]);
      expect(b.code, b.stderr).toBe(2);
      expect(b.stderr).toMatch(why);
      expect(b.stderr).not.toMatch(/training tiny/);
    }
    expect(readFileSync(join(dir, 'notes.txt'), 'utf8')).toBe('mine');
    expect(existsSync(join(dir, 'r.tar.gz'))).toBe(false);
    const noSteps = cli('train', ['--dataset', dataset, '--resume', run]);
    expect(noSteps.code).toBe(2);
    expect(noSteps.stderr).toMatch(/^--resume .*: the bundle is already at step 3, its run's total; give --steps with a larger total/m);
    const r = cli('train', ['--dataset', dataset, '--resume', run, '--steps', '2']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--steps 2: the bundle is already at step 3; give a larger total to train further/);
    expect(r.stderr).not.toMatch(/learning-rate schedule/); // a total that is refused is not described first
    // A bundle whose weights.bin was cut short is named, with the bytes it needs and has.
    const truncated = join(dir, 'truncated-run');
    cpSync(run, truncated, { recursive: true });
    const weights = readFileSync(join(truncated, 'weights.bin'));
    writeFileSync(join(truncated, 'weights.bin'), weights.subarray(0, 138));
    const tr = cli('eval', ['--model', truncated, '--dataset', dataset, '--backend', 'cpu']);
    expect(tr.code).toBe(2);
    expect(tr.stderr).toContain(`--model ${truncated}: bundle: weights.bin has 138 bytes, shorter than the ${weights.length} bytes model.json's weightsManifest needs (truncated?)`);
    // A real bundle too: a seed for its resumed run is refused, not ignored.
    const s = cli('train', ['--dataset', dataset, '--resume', run, '--steps', '5', '--seed', '5']);
    expect(s.code).toBe(2);
    expect(s.stderr).toMatch(/^--seed 5: a resumed run uses the config of its bundle/);
    expect(s.stderr).not.toMatch(/resuming from step/);
    // The bundle a run continues may be written over in place.
    const inPlace = cli('train', ['--dataset', dataset, '--resume', run, '--steps', '4', '--backend', 'cpu', '--out', run]);
    expect(inPlace.code, inPlace.stderr).toBe(0);
    expect(inPlace.stdout).toMatch(/finished at step 4; bundle: /);
    // A bundle without its checkpoint continues from its weights, and says it is not exact.
    const bare = join(dir, 'bare-run');
    cpSync(run, bare, { recursive: true });
    for (const f of ['checkpoint.json', 'checkpoint.bin']) rmSync(join(bare, f));
    const fromBare = cli('train', ['--dataset', dataset, '--resume', bare, '--steps', '5', '--backend', 'cpu', '--out', bare]);
    expect(fromBare.code, fromBare.stderr).toBe(0);
    expect(fromBare.stderr).toMatch(/resuming from step 4 \(the bundle has no checkpoint: its weights with fresh Adam moments, not an exact continuation\)/);
    expect(inPlace.stderr).toMatch(/resuming from step 3\n/);
  });
});
