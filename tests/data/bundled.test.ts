import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decode as decodePng } from 'fast-png';
import { describe, expect, it } from 'vitest';
import type { DatasetReport } from '../../src/data/inspect';
import { reportOf } from '../../src/data/inspect';
import { loadDataset } from '../../src/data/load';
import { parsePly } from '../../src/data/ply';
import { kManifestName, UrlSource, type DatasetManifest } from '../../src/data/source/url';

/**
 * The bundled default dataset (public/datasets/poselab-toy/, made by `npm run make-dataset`): the CLI
 * must read it as a clean BOP dataset whose counts are the files on disk, the manifest must list those
 * files so the app can load it over HTTP, and its ground truth must be exact (the model projected with
 * cam_R/t and cam_K lands on the rendered mask).
 */
const kRepo = fileURLToPath(new URL('../..', import.meta.url));
const kRoot = join(kRepo, 'public', 'datasets', 'poselab-toy');

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(relative(dir, p).split(sep).join('/'));
    }
  };
  walk(dir);
  return out;
}

const readJson = (path: string): any => JSON.parse(readFileSync(join(kRoot, path), 'utf8'));

/** What the folder holds, counted straight from the disk, independent of src/data. */
function onDisk() {
  const files = filesUnder(kRoot);
  const scenes = [...new Set(files.filter((f) => f.endsWith('/scene_gt.json')).map((f) => f.replace(/\/scene_gt\.json$/, '')))].sort();
  const splits = new Map<string, { images: number; instances: number; masks: number; masksVisib: number }>();
  for (const scene of scenes) {
    const split = scene.split('/')[0];
    const gt = readJson(`${scene}/scene_gt.json`) as Record<string, unknown[]>;
    const rgb = files.filter((f) => f.startsWith(`${scene}/rgb/`));
    expect(Object.keys(gt).length, `${scene}: one scene_gt entry per rgb file`).toBe(rgb.length);
    const s = splits.get(split) ?? { images: 0, instances: 0, masks: 0, masksVisib: 0 };
    s.images += rgb.length;
    s.instances += Object.values(gt).reduce((a, l) => a + l.length, 0);
    s.masks += files.filter((f) => f.startsWith(`${scene}/mask/`)).length;
    s.masksVisib += files.filter((f) => f.startsWith(`${scene}/mask_visib/`)).length;
    splits.set(split, s);
  }
  const plys = files.filter((f) => /^models\/obj_\d{6}\.ply$/.test(f));
  return { files, scenes, splits, plys };
}

function inspectCli(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync('npm', ['run', '--silent', 'dataset', '--', 'inspect', ...args], { cwd: kRepo, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('bundled dataset public/datasets/poselab-toy', () => {
  it('round-trips through `npm run dataset -- inspect --json`: BOP, usable, no problems, counts as on disk', () => {
    const disk = onDisk();
    const { code, stdout, stderr } = inspectCli('public/datasets/poselab-toy', '--json');
    expect(code, stderr).toBe(0);
    const report = JSON.parse(stdout) as DatasetReport;
    expect(report.format).toBe('bop');
    expect(report.usable).toBe(true);
    expect(report.problems).toEqual([]);

    expect(report.objects.map((o) => o.id)).toEqual(disk.plys.map((p) => Number(/obj_(\d+)/.exec(p)![1])));
    const info = readJson('models/models_info.json');
    for (const o of report.objects) {
      const ply = parsePly(new Uint8Array(readFileSync(join(kRoot, 'models', `obj_${String(o.id).padStart(6, '0')}.ply`))));
      expect(o.vertices).toBe(ply.mesh.positions.length / 3);
      expect(o.faces).toBe(ply.mesh.faces.length / 3);
      expect(o.diameterMm).toBeCloseTo(info[o.id].diameter, 6);
    }

    expect(report.splits).toEqual([...disk.splits].map(([split, c]) => ({ split, ...c })).sort((a, b) => a.split.localeCompare(b.split)));
    expect(report.images).toBe([...disk.splits.values()].reduce((a, s) => a + s.images, 0));
    expect(report.images).toBeGreaterThanOrEqual(250);

    // One camera: the LINEMOD K every scene_camera.json entry holds, at the JPEGs' 640x480.
    const cam = readJson(`${disk.scenes[0]}/scene_camera.json`);
    expect(report.cameras).toHaveLength(1);
    expect(report.cameras[0].kPx).toEqual(cam['0'].cam_K);
    expect([report.cameras[0].widthPx, report.cameras[0].heightPx]).toEqual([640, 480]);
    expect(report.cameras[0].images).toBe(report.images);
  });

  it('stays within the 20 MB budget and carries its licence', () => {
    const bytes = onDisk().files.reduce((a, f) => a + statSync(join(kRoot, f)).size, 0);
    expect(bytes).toBeLessThanOrEqual(20e6);
    expect(readFileSync(join(kRoot, 'README.md'), 'utf8')).toMatch(/CC0-1\.0/);
  });

  it('its manifest lists every file with its size, and the URL source loads the same dataset', async () => {
    const disk = onDisk();
    const manifest = readJson(kManifestName) as DatasetManifest;
    expect(manifest.files.map((f) => f.path)).toEqual(disk.files.filter((f) => f !== kManifestName));
    for (const f of manifest.files) expect(f.bytes, f.path).toBe(statSync(join(kRoot, f.path)).size);

    const base = 'http://localhost/datasets/poselab-toy/';
    const fromDisk = (async (url: string | URL | Request) => {
      const path = decodeURIComponent(String(url).slice(base.length));
      const full = join(kRoot, ...path.split('/'));
      return existsSync(full) ? new Response(new Uint8Array(readFileSync(full))) : new Response('', { status: 404 });
    }) as typeof fetch;
    const ds = await loadDataset(await UrlSource.open(base, fromDisk));
    const r = reportOf(ds);
    expect(r.problems).toEqual([]);
    expect(r.splits).toEqual([...disk.splits].map(([split, c]) => ({ split, ...c })).sort((a, b) => a.split.localeCompare(b.split)));
  });

  it('has exact ground truth: the model projected with the GT pose lies on its mask, boxes agree', () => {
    const ply = parsePly(new Uint8Array(readFileSync(join(kRoot, 'models', 'obj_000001.ply')))).mesh.positions;
    for (const scene of onDisk().scenes) {
      const gt = readJson(`${scene}/scene_gt.json`);
      const cam = readJson(`${scene}/scene_camera.json`);
      const info = readJson(`${scene}/scene_gt_info.json`);
      for (const imId of ['0', '7', '19']) {
        const { cam_R_m2c: r, cam_t_m2c: t } = gt[imId][0];
        const k: number[] = cam[imId].cam_K;
        const mask = decodePng(readFileSync(join(kRoot, scene, 'mask', `${imId.padStart(6, '0')}_000000.png`)));
        const w = mask.width, h = mask.height;
        const onMask = (u: number, v: number, radiusPx: number): boolean => {
          for (let dy = -radiusPx; dy <= radiusPx; dy++) for (let dx = -radiusPx; dx <= radiusPx; dx++) {
            const uu = Math.round(u) + dx, vv = Math.round(v) + dy;
            if (uu >= 0 && vv >= 0 && uu < w && vv < h && mask.data[vv * w + uu] > 0) return true;
          }
          return false;
        };
        let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity, off1 = 0, off2 = 0, n = 0;
        for (let i = 0; i < ply.length; i += 3) {
          const [X, Y, Z] = [ply[i], ply[i + 1], ply[i + 2]];
          const xc = r[0] * X + r[1] * Y + r[2] * Z + t[0];
          const yc = r[3] * X + r[4] * Y + r[5] * Z + t[1];
          const zc = r[6] * X + r[7] * Y + r[8] * Z + t[2];
          const u = (k[0] * xc) / zc + k[2], v = (k[4] * yc) / zc + k[5];
          [x0, x1, y0, y1] = [Math.min(x0, u), Math.max(x1, u), Math.min(y0, v), Math.max(y1, v)];
          if (u < 0 || v < 0 || u >= w || v >= h) continue;
          n++;
          if (!onMask(u, v, 1)) off1++;
          if (!onMask(u, v, 2)) off2++;
        }
        // Vertices sit on the silhouette's edge, and a sliver thinner than a pixel (the spout's tip seen
        // end on) covers no pixel centre: a few may be 2 px from the mask, none farther.
        expect(off2, `${scene} im ${imId}: projected vertices over 2 px off the mask`).toBe(0);
        expect(off1 / n, `${scene} im ${imId}: share of vertices over 1 px off the mask`).toBeLessThan(0.005);
        // bbox_obj comes from the rendered mask; the projected vertices span the same box to ~1.5 px
        const [bx, by, bw, bh] = info[imId][0].bbox_obj;
        const clip = (v: number, hi: number) => Math.min(Math.max(v, 0), hi - 1);
        expect(Math.abs(bx - clip(x0, w))).toBeLessThan(1.5);
        expect(Math.abs(by - clip(y0, h))).toBeLessThan(1.5);
        expect(Math.abs(bx + bw - 1 - clip(x1, w))).toBeLessThan(1.5);
        expect(Math.abs(by + bh - 1 - clip(y1, h))).toBeLessThan(1.5);
      }
    }
  });
});
