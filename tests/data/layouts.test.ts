import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { countBySplit } from '../../src/data/dataset';
import { reportOf, reportText } from '../../src/data/inspect';
import { loadDataset } from '../../src/data/load';
import { writeNpy } from '../../src/data/npy';
import { writePly } from '../../src/data/ply';
import { problemLine } from '../../src/data/problems';
import { openNodePath } from '../../src/data/source/node';
import { bytesAccess } from '../../src/data/source/randomAccess';
import { MemorySource } from '../../src/data/source/source';
import { ZipSource } from '../../src/data/source/zip';
import { bopFixture, boxMesh, kFixtureK, maskPng, pvnetFixture, rgbJpeg, rotationOf, writeTree, type Files } from './fixtures';

/**
 * Issue 13, item 3: layouts found where people point. A PVNet class folder given directly; clean-pvnet's
 * custom layout; BOP model folders named models[_<type>][_eval] (T-LESS: models_cad, models_eval, no
 * models/); an unknown layout says so, with what was looked for and what was found.
 */
const kRepo = fileURLToPath(new URL('../..', import.meta.url));
const enc = (s: string) => new TextEncoder().encode(s);

/** clean-pvnet's custom layout: rgb/<i>.jpg, mask/<i>.png, pose/pose<i>.npy (m), model.ply (mm), camera.txt. */
function customFixture(dir = 'custom/'): Files {
  const files: Files = new Map();
  files.set(`${dir}model.ply`, writePly(boxMesh(80, 60, 40)));
  files.set(`${dir}camera.txt`, enc('600 0 320\n0 600 240\n0 0 1\n'));
  files.set(`${dir}diameter.txt`, enc(String(Math.hypot(80, 60, 40) / 1000)));
  for (let i = 0; i < 5; i++) {
    const r = rotationOf(0.1 * i, 0.2, 0);
    const t = [0.01 * i, 0, 0.6];
    files.set(`${dir}pose/pose${i}.npy`, writeNpy([3, 4], [r[0], r[1], r[2], t[0], r[3], r[4], r[5], t[1], r[6], r[7], r[8], t[2]]));
    files.set(`${dir}rgb/${i}.jpg`, rgbJpeg(i, 640, 480));
    files.set(`${dir}mask/${i}.png`, maskPng([300, 200, 40, 40], 640, 480));
  }
  return files;
}

/** T-LESS's model folders: models_cad and models_eval, no models/; a test_primesense split. */
function tlessFixture(): Files {
  const files: Files = new Map();
  for (const [p, b] of bopFixture('tl/')) {
    if (p.startsWith('tl/train/')) continue;
    const q = p.replace('tl/models/', 'tl/models_cad/').replace('tl/test/', 'tl/test_primesense/');
    files.set(q, b);
    if (p.startsWith('tl/models/')) files.set(p.replace('tl/models/', 'tl/models_eval/'), b);
  }
  // A different evaluation mesh for object 1, so a test can tell which was used.
  files.set('tl/models_eval/obj_000001.ply', writePly(boxMesh(90, 90, 90)));
  const info = JSON.parse(new TextDecoder().decode(files.get('tl/models_eval/models_info.json')!)) as Record<string, { diameter: number }>;
  info['1'].diameter = Math.hypot(90, 90, 90);
  files.set('tl/models_eval/models_info.json', enc(JSON.stringify(info)));
  files.set('tl/models_reconst/obj_000001.ply', writePly(boxMesh(101, 101, 101)));
  return files;
}

describe('PVNet class folder given directly', () => {
  it('loads from the class folder itself as from its parent (Node path and zip)', async () => {
    const files = pvnetFixture('LINEMOD/');
    const parent = await loadDataset(await openNodePath(join(writeTree(files), 'LINEMOD')));
    const catOnly: Files = new Map([...files].filter(([p]) => p.startsWith('LINEMOD/cat/')).map(([p, b]) => [p.slice('LINEMOD/cat/'.length), b]));
    const dir = join(writeTree(new Map([...catOnly].map(([p, b]) => [`cat/${p}`, b]))), 'cat');
    for (const ds of [await loadDataset(await openNodePath(dir)), await loadDataset(await ZipSource.open('cat.zip', bytesAccess(zipSync(Object.fromEntries(catOnly)))))]) {
      expect(ds.problems).toEqual([]);
      expect(ds.objects.map((o) => [o.id, o.name, !!o.mesh])).toEqual([[6, 'cat', true]]);
      expect(countBySplit(ds)).toEqual(countBySplit(parent).map((s) => ({ ...s, images: s.images / 2, instances: s.instances / 2, masksVisib: s.masksVisib / 2 })));
      const cat = parent.images.filter((im) => im.scene === 'cat');
      expect(ds.images.map((im) => Array.from(im.instances[0].tM2cMm))).toEqual(cat.map((im) => Array.from(im.instances[0].tM2cMm)));
    }
  });
});

describe("clean-pvnet's custom layout", () => {
  it('loads rgb/, mask/, pose/ (metres), model.ply (millimetres) and camera.txt, from the folder or its parent', async () => {
    for (const [label, files] of [['parent', customFixture('custom/')], ['custom', customFixture('')]] as const) {
      const ds = await loadDataset(new MemorySource(label, files), { checkFiles: true });
      expect(ds.problems, label).toEqual([]);
      expect(ds.layout).toBe('pvnet-custom');
      expect(ds.objects).toHaveLength(1);
      expect(ds.objects[0].name).toBe('custom');
      expect(ds.objects[0].diameterMm).toBeCloseTo(Math.hypot(80, 60, 40), 3);
      expect(ds.images).toHaveLength(5);
      expect(Array.from(ds.images[0].kPx)).toEqual([600, 0, 320, 0, 600, 240, 0, 0, 1]);
      expect(Array.from(ds.images[2].instances[0].tM2cMm)).toEqual([20, 0, 600]);
      expect(ds.images.every((im) => im.instances[0].maskVisibPath)).toBe(true);
      expect(reportText(reportOf(ds))).toMatch(/^format: {2}clean-pvnet custom/m);
    }
  });

  it('says when diameter.txt disagrees with the model, and reads a model in metres as metres', async () => {
    const files = customFixture('custom/');
    files.set('custom/diameter.txt', enc('0.5'));
    files.set('custom/model.ply', writePly(boxMesh(0.08, 0.06, 0.04)));
    const ds = await loadDataset(new MemorySource('m', files));
    expect(ds.objects[0].diameterMm).toBeCloseTo(Math.hypot(80, 60, 40), 3);
    expect(ds.problems.map(problemLine)).toEqual([
      'custom/model.ply: units: diameter would be 0.108 mm if the file were in millimetres; read as metres instead',
      'custom/diameter.txt: diameter: 0.5 m differs from the model\'s own diameter, 0.1077 m, by more than 10%; the model\'s is used',
    ]);
  });
});

describe('BOP model folders models[_<type>][_eval]', () => {
  it('T-LESS: meshes from models_cad, metrics from models_eval, no models/ needed', async () => {
    const ds = await loadDataset(new MemorySource('tless', tlessFixture()));
    expect(ds.objects.map((o) => [o.id, o.meshPath, o.evalMeshPath])).toEqual([
      [1, 'tl/models_cad/obj_000001.ply', 'tl/models_eval/obj_000001.ply'],
      [2, 'tl/models_cad/obj_000002.ply', 'tl/models_eval/obj_000002.ply'],
    ]);
    expect(ds.objects[0].diameterMm).toBeCloseTo(Math.hypot(100, 100, 100), 6);
    expect(ds.objects[0].evalDiameterMm).toBeCloseTo(Math.hypot(90, 90, 90), 6);
    expect(ds.images).toHaveLength(2);
    expect(ds.splits).toEqual(['test_primesense']);
    expect(ds.problems.map(problemLine)).toEqual(['tl/models_cad: models folder: meshes come from models_cad/ (also here: models_reconst; name another to use it)']);
    const r = reportOf(ds);
    expect(r.evaluation.evalModels.map((m) => m.path)).toEqual(['tl/models_eval/obj_000001.ply', 'tl/models_eval/obj_000002.ply']);
  });

  it('the folder the user names is used', async () => {
    const ds = await loadDataset(new MemorySource('tless', tlessFixture()), { modelsDir: 'models_reconst' });
    expect(ds.objects[0].meshPath).toBe('tl/models_reconst/obj_000001.ply');
    // models_reconst has no models_info.json: sizes come from its mesh, and that is said.
    expect(ds.objects[0].diameterMm).toBeCloseTo(Math.hypot(101, 101, 101), 6);
    expect(ds.problems.map(problemLine)).toContain('tl/models_reconst/models_info.json: missing: object sizes and symmetries come from the PLY files alone');
  });
});

describe('inspect --models', () => {
  it('takes meshes from the named model folder', () => {
    const r = spawnSync('npm', ['run', '--silent', 'dataset', '--', 'inspect', writeTree(tlessFixture()), '--json', '--models', 'models_reconst'], { cwd: kRepo, encoding: 'utf8', timeout: 120_000 });
    const report = JSON.parse(r.stdout) as ReturnType<typeof reportOf>;
    expect(report.objects.map((o) => [o.id, o.diameterMm.toFixed(3)])).toEqual([[1, Math.hypot(101, 101, 101).toFixed(3)]]);
    expect(report.evaluation.evalModels.map((m) => m.path)).toEqual(['tl/models_eval/obj_000001.ply']);
  });
});

describe('an unknown layout', () => {
  it('says format unknown, what was looked for and what was found at the top (CLI)', () => {
    const dir = writeTree(new Map([['photos/a.jpg', rgbJpeg(0)], ['notes.txt', enc('x')], ['poses.csv', enc('1,2')]]));
    const r = spawnSync('npm', ['run', '--silent', 'dataset', '--', 'inspect', dir], { cwd: kRepo, encoding: 'utf8', timeout: 120_000 });
    // Nothing usable loaded: exit 1 (2 is a usage error).
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^format: {2}unknown$/m);
    expect(r.stdout).not.toMatch(/^format: .*BOP/m);
    expect(r.stdout).toMatch(/format: unknown: none of the layouts looked for was found among 3 files; looked for BOP .*; found at the top: notes\.txt, photos\/, poses\.csv$/m);
  });

  it('a BOP split\'s or scene\'s folder given alone is named as such, with the folder to give', async () => {
    const inside = async (files: Files, prefix: string) => {
      const cut = new Map([...files].filter(([p]) => p.startsWith(prefix)).map(([p, b]) => [p.slice(prefix.length), b]));
      expect(cut.size).toBeGreaterThan(0);
      const ds = await loadDataset(new MemorySource('part', cut));
      expect(ds.layout).toBe('unknown');
      return ds.problems.map((p) => p.message).join('\n');
    };
    const split = [...bopFixture().keys()].find((p) => p.endsWith('scene_gt.json'))!.split('/').slice(0, 2).join('/') + '/';
    expect(await inside(bopFixture(), split)).toMatch(/; these are a BOP split's scene folders \(<scene>\/scene_gt\.json\): give the dataset's folder, the one above/);
    const scene = [...bopFixture().keys()].find((p) => p.endsWith('scene_gt.json'))!.replace(/scene_gt\.json$/, '');
    expect(await inside(bopFixture(), scene)).toMatch(/; this is a BOP scene folder \(scene_gt\.json, rgb\/\): give the dataset's folder, two above/);
    // The whole dataset loads as it did: the hint is only for a part of one.
    expect((await loadDataset(new MemorySource('bop', bopFixture()))).layout).not.toBe('unknown');
  });

  it('BOP detection needs scene files or model folders: rgb/ alone under two folders is not a BOP scene', async () => {
    const files: Files = new Map([['a/b/rgb/000000.png', rgbJpeg(0)]]);
    const ds = await loadDataset(new MemorySource('m', files));
    expect(ds.layout).toBe('unknown');
    expect(kFixtureK).toHaveLength(9);
  });
});
