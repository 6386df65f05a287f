/**
 * `npm run demo` end to end on the cpu backend: the curve's format and final line, stderr free of tfjs's banner, and bad arguments
 * answered with a message and exit 2 before any demo runs.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

function runCli(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync('npx', ['tsx', '--import', './scripts/raw-loader.mjs', 'src/cli/demo.ts', ...args], { encoding: 'utf8', env: process.env });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

describe('npm run demo', () => {
  it('prints the curve every K iterations and a final line with the accuracy', () => {
    const r = runCli(['calib', '--backend', 'cpu', '--seed', '2', '--iterations', '30', '--every', '10']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr, "tfjs's first-use banner advising its Node backend is not printed").not.toMatch(/tfjs-node|looks like you are running/);
    const rows = r.stdout.split('\n').filter((l) => /^\s+\d+\s/.test(l)).map((l) => l.trim().split(/\s+/).map(Number));
    expect(rows.map((row) => row[0]), 'iterations printed').toEqual([0, 10, 20, 29]);
    for (const row of rows) expect(row.every(Number.isFinite), `finite iteration, loss, error, failedPnp: ${row}`).toBe(true);
    expect(rows[3][1], 'the loss went down').toBeLessThan(rows[0][1]);
    expect(r.stdout).toMatch(/final: largest intrinsic relative error [\d.e-]+ after 30 iterations \(fx [\d.]+, fy [\d.]+, cx [\d.]+, cy [\d.]+\)/);
  });

  for (const [args, message] of [
    [[], 'expected one demo name'],
    [['bundle'], 'unknown demo bundle'],
    [['pose', '--backend', 'gpu'], '--backend gpu: expected auto (the fastest CPU path: wasm, else cpu), webgpu, wasm or cpu'],
    [['sfm', '--seed', '1.5'], '--seed 1.5: expected an integer from 0 to 4294967295'],
    [['calib', '--iterations', '0'], '--iterations 0: expected a positive integer'],
    [['pose', '--frobnicate'], "Unknown option '--frobnicate'"],
  ] as const) {
    it(`exits 2 on ${args.join(' ') || 'no arguments'}`, () => {
      const r = runCli([...args]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(message);
      expect(r.stderr).toContain('usage: npm run demo');
    });
  }
});
