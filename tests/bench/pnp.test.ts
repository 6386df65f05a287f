/**
 * bench:pnp end to end on two configurations: every implementation measured for each, the wgsl row on the
 * webgpu backend every time (the benchmark refuses to time it on another; after the first configuration it
 * once measured the cpu backend under the wgsl name), and the results file written where --out says.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const kRepo = join(__dirname, '..', '..');

describe('npm run bench:pnp', () => {
  it('times every implementation for each of two batch sizes, the wgsl rows on webgpu', () => {
    const out = mkdtempSync(join(tmpdir(), 'poselab-bench-pnp-'));
    const r = spawnSync('npx', ['tsx', '--import', './scripts/raw-loader.mjs', 'bench/pnp.ts', '--quick', '--B', '1,2', '--n', '8', '--out', `${out}/`],
      { cwd: kRepo, encoding: 'utf8', timeout: 300_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr, "tfjs's first-use banner on the cpu backend is not printed").not.toMatch(/tfjs-node|looks like you are running/);
    const files = readdirSync(out);
    expect(files).toHaveLength(1);
    const res = JSON.parse(readFileSync(join(out, files[0]), 'utf8')) as { rows: { B: number; n: number; impl: string; forward: { ms: number } }[] };
    for (const B of [1, 2]) {
      const impls = res.rows.filter((row) => row.B === B && row.n === 8).map((row) => row.impl).sort();
      expect(impls, `B = ${B}`).toEqual(['float64', 'op-cpu', 'opencv', 'opencv-sqpnp', 'wgsl']);
    }
    for (const row of res.rows) expect(row.forward.ms, `${row.impl} B = ${row.B}`).toBeGreaterThan(0);
  }, 300_000);
});
