/**
 * scripts/device-check.sh measures nothing unless Dawn's adapter is a GPU: on this machine, where Dawn finds only
 * SwiftShader (Vulkan on the CPU) or, with a driver manifest that does not exist, no adapter at all, the adapter check
 * exits non-zero saying why, every step asked for is reported as not run, and no step's log is written. Run on the
 * kit's bundles (scripts/kit/bundle.ts) unpacked as the script unpacks them (bin/node, app/), with this Node.
 * And its arguments: a usage error exits 2 before anything runs.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { bundleKit } from '../../scripts/kit/bundle';

const kRepo = fileURLToPath(new URL('../..', import.meta.url));
const kSwiftShaderIcd = '/usr/lib/chromium/vk_swiftshader_icd.json';
const dir = mkdtempSync(join(tmpdir(), 'poselab-device-check-'));
const kit = join(dir, 'kit');

function deviceCheck(out: string, env: Record<string, string>, ...args: string[]): { code: number | null; output: string } {
  const r = spawnSync('bash', ['scripts/device-check.sh', '--unpacked', kit, '--out', out, ...args], {
    cwd: kRepo, encoding: 'utf8', timeout: 120_000, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, ...env },
  });
  return { code: r.status, output: r.stdout + r.stderr };
}

describe('scripts/device-check.sh', () => {
  beforeAll(async () => {
    await bundleKit(join(kit, 'app'));
    mkdirSync(join(kit, 'bin'));
    symlinkSync(process.execPath, join(kit, 'bin', 'node'));
  }, 120_000);

  it('refuses SwiftShader: exit 1, the adapter named and why, no step run', () => {
    expect(existsSync(kSwiftShaderIcd), `${kSwiftShaderIcd} (Debian's chromium, which npm test installs)`).toBe(true);
    const out = join(dir, 'swiftshader');
    const r = deviceCheck(out, { VK_ICD_FILENAMES: kSwiftShaderIcd }, 'pnp', 'train');
    expect(r.code, r.output).toBe(1);
    expect(r.output).toMatch(/adapter \(the default request\): vendor "google", architecture "swiftshader"/);
    expect(r.output).toMatch(/REFUSED: a software adapter \(the default request\): its architecture is "swiftshader"; Dawn calls it a fallback adapter/);
    expect(r.output).toMatch(/pnp: NOT RUN: no GPU adapter/);
    expect(r.output).toMatch(/train: NOT RUN: no GPU adapter/);
    expect(r.output).toMatch(/FAILED: no GPU adapter/);
    expect(readdirSync(out)).toEqual(['device-check.log']);
    expect(readFileSync(join(out, 'device-check.log'), 'utf8')).toMatch(/REFUSED: a software adapter/);
  });

  it('with no adapter at all: exit 1, and the Vulkan loader says why', () => {
    const out = join(dir, 'none');
    const r = deviceCheck(out, { VK_ICD_FILENAMES: join(dir, 'no-such-driver.json') }, 'eval');
    expect(r.code, r.output).toBe(1);
    expect(r.output).toMatch(/REFUSED: no WebGPU adapter \(the default request\)/);
    expect(r.output).toMatch(/the Vulkan loader's own account/);
    expect(r.output).toMatch(/eval: NOT RUN: no GPU adapter/);
    expect(readdirSync(out)).toEqual(['device-check.log']);
  });

  it('a usage error exits 2 naming the argument, before anything runs', () => {
    const cases: [string[], RegExp][] = [
      [['frobnicate'], /device-check: unknown argument frobnicate/],
      [['--train-seconds', '10'], /--train-seconds 10: expected a whole number of seconds >= 30/],
      [['--deadline', 'soon'], /--deadline soon: expected a whole number of seconds >= 1/],
      [['--pnp-B', '1024;rm'], /--pnp-B 1024;rm: expected a comma list of batch sizes/],
      [['--resume', join(dir, 'missing.zip')], /--resume .*missing\.zip: no such file or folder/],
      [['--steps'], /--steps needs a value/],
    ];
    for (const [args, message] of cases) {
      const out = join(dir, `usage-${cases.findIndex((c) => c[0] === args)}`);
      const r = deviceCheck(out, { VK_ICD_FILENAMES: kSwiftShaderIcd }, ...args);
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.output).toMatch(message);
      expect(r.output).toMatch(/^usage: bash scripts\/device-check\.sh/m);
      expect(existsSync(out), `${out} is not made on a usage error`).toBe(false);
    }
  });
});
