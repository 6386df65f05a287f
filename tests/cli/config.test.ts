/**
 * `npm run train -- --config-file / --print-config` as a user runs them (child processes): the printed
 * config is the preset, reads back as itself, and a file's config is the one that trains and lands in
 * the bundle; a bad file exits 2 naming each field's path and value.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { kConfigs, type TrainConfig } from '../../src/train/config';
import { bopFixture, writeTree } from '../data/fixtures';

const dir = mkdtempSync(join(tmpdir(), 'poselab-config-cli-'));

function train(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync('npx', ['tsx', '--import', './scripts/raw-loader.mjs', 'src/cli/train.ts', ...args], { encoding: 'utf8', env: process.env });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('train --print-config and --config-file', () => {
  it('--print-config prints the resolved preset as JSON without a dataset, and prints the same again when fed it back', () => {
    const p = train(['--print-config', '--config', 'small']);
    expect(p.code, p.stderr).toBe(0);
    expect(JSON.parse(p.stdout)).toEqual(kConfigs.small);
    const printed = file('printed.json', p.stdout);
    const back = train(['--print-config', '--config-file', printed]);
    expect(back.code, back.stderr).toBe(0);
    expect(back.stdout).toBe(p.stdout);

    // A partial file onto the preset it names, then --steps and --seed on top.
    const partial = file('partial.json', JSON.stringify({ preset: 'tiny', localiser: { model: { width: 6 } }, optim: { lr: 0.002 } }));
    const q = train(['--print-config', '--config-file', partial, '--steps', '9', '--seed', '4']);
    expect(q.code, q.stderr).toBe(0);
    const want = structuredClone(kConfigs.tiny);
    want.localiser.model.width = 6;
    want.optim.lr = 0.002;
    want.optim.steps = 9;
    want.seed = 4;
    expect(JSON.parse(q.stdout)).toEqual(want);
  });

  it('a bad file exits 2 naming every problem by path and value; so do a missing file, non-JSON text and a clash with --config', () => {
    const bad = file('bad.json', JSON.stringify({ optim: { lr: 'fast' }, model: { depth: 9 }, loss: { pnpInit: 'sqpnp' }, data: { keypionts: 8 } }));
    const cases: [string[], RegExp[]][] = [
      [['--print-config', '--config-file', bad], [
        /bad\.json: optim\.lr = "fast": expected a number/,
        /bad\.json: model\.depth = 9: must be 0\.\.3/,
        /bad\.json: loss\.pnpInit = "sqpnp": expected one of 'epnp', 'gt'/,
        /bad\.json: data\.keypionts = 8: unknown key/,
      ]],
      // The same checks before a run, not only when printing.
      [['--dataset', join(dir, 'unused'), '--config-file', bad], [/bad\.json: optim\.lr = "fast": expected a number/]],
      [['--print-config', '--config-file', file('text.json', 'lr = 0.1')], [/text\.json: not valid JSON/]],
      [['--print-config', '--config-file', join(dir, 'missing.json')], [/--config-file .*missing\.json: no such file/]],
      [['--print-config', '--config-file', dir], [/--config-file .*: is a folder; give a JSON config file/]],
      [['--print-config', '--config', 'large', '--config-file', file('tiny.json', '{"preset": "tiny"}')], [/--config large: .*tiny\.json is for preset tiny/]],
      [['--dataset', join(dir, 'unused'), '--resume', join(dir, 'unused'), '--config-file', bad], [/--config-file .*bad\.json: a resumed run uses the config of its bundle/]],
    ];
    for (const [args, messages] of cases) {
      const r = train(args);
      expect({ args, code: r.code, stdout: r.stdout }).toEqual({ args, code: 2, stdout: '' });
      for (const m of messages) expect(r.stderr).toMatch(m);
      // The usage only where the command line itself is wrong (a flag --resume refuses), not the file.
      expect({ args, usage: r.stderr.includes('usage: npm run train') }).toEqual({ args, usage: args.includes('--resume') });
    }
  });

  it('the file\'s config is the one that trains and is saved in the bundle', () => {
    const dataset = writeTree(bopFixture(), join(dir, 'fixture'));
    const cfg = file('run.json', JSON.stringify({ preset: 'tiny', model: { inputPx: 40 }, optim: { steps: 2, batchSize: 3 }, evalMaxInstances: 2 }));
    const out = join(dir, 'run');
    const r = train(['--dataset', dataset, '--config-file', cfg, '--backend', 'cpu', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/training tiny on cpu: 2 steps of 3, input 40 px/);
    const saved = (JSON.parse(readFileSync(join(out, 'poselab.json'), 'utf8')) as { config: TrainConfig }).config;
    const want = structuredClone(kConfigs.tiny);
    want.model.inputPx = 40;
    want.optim.steps = 2;
    want.optim.batchSize = 3;
    want.evalMaxInstances = 2;
    expect(saved).toEqual(want);
  });
});
