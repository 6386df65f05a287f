/**
 * `npm run predict` as a user runs it (child processes): the bundled dataset's test images, copied into
 * a folder with no ground truth, give exactly the poses `npm run eval` reports for the same bundle (same
 * detected crops, same poses, so the same numbers against the ground truth); eval's BOP CSV, read against
 * the dataset's scene_gt.json as the BOP toolkit reads both, gives the errors and time eval reports; the
 * JSON output has the documented fields and the CSV's poses; bad input is named (exit 2 for usage,
 * unreadable images skipped by name).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseBopCsv } from '../../src/train/bopCsv';

const kRepo = join(__dirname, '..', '..');
const kBundled = join(kRepo, 'public', 'datasets', 'poselab-toy');
const dir = mkdtempSync(join(tmpdir(), 'poselab-predict-cli-'));
const bundle = join(dir, 'run');
const images = join(dir, 'photos');

function cli(script: 'train' | 'eval' | 'predict', args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync('npx', ['tsx', '--import', './scripts/raw-loader.mjs', `src/cli/${script}.ts`, ...args], { encoding: 'utf8', env: process.env, cwd: kRepo });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  const t = cli('train', ['--dataset', kBundled, '--config', 'tiny', '--steps', '20', '--out', bundle]);
  expect(t.code, t.stderr).toBe(0);
  // The test split's images only, in their BOP folders (so scene and image ids parse), without any GT file.
  const rgb = join(kBundled, 'test', '000001', 'rgb');
  mkdirSync(join(images, '000001', 'rgb'), { recursive: true });
  for (const f of readdirSync(rgb)) copyFileSync(join(rgb, f), join(images, '000001', 'rgb', f));
});

describe('predict command line', () => {
  it('on GT-free copies of the test images gives the poses eval reports, and the JSON has every field', () => {
    const evalCsv = join(dir, 'eval.csv');
    const e = cli('eval', ['--model', bundle, '--dataset', kBundled, '--csv', evalCsv, '--json']);
    expect(e.code, e.stderr).toBe(0);
    expect(e.stderr).toMatch(/crops: from the bundle's localiser/);
    // predict's JSON (GT-free images) names each pose's status; its poses are eval's (checked below).
    const j = cli('predict', ['--model', bundle, '--images', images, '--K', '572.4114,573.57043,325.2611,242.04899', '--min-score', '0']);
    expect(j.code, j.stderr).toBe(0);
    const out = JSON.parse(j.stdout) as {
      model: { obj_id: number; name: string; step: number };
      images: { file: string; width: number; height: number; ms: number; detections: { obj_id: number; score: number; box_xywh_px: number[]; R: number[]; t_mm: number[]; keypoints_px: number[][]; status: string; refined: boolean }[] }[];
    };
    const imIdOf = (file: string) => Number(/(\d+)\.jpg$/.exec(file)![1]);
    const failed = new Set(out.images.filter((im) => im.detections[0]?.status !== 'converged').map((im) => imIdOf(im.file)));
    // eval's CSV against the dataset's ground truth, read as the BOP toolkit reads both (R row-major, t in
    // mm): its rows give the mean rotation and translation errors eval reports (over the detections that
    // count: score at least the localiser's threshold, the PnP failures left out, as eval counts them).
    const metrics = JSON.parse(e.stdout) as { meanRotDeg: number; meanTransMm: number; pnpFailures: number; instances: number; msPerImage: number };
    const minScore = (JSON.parse(readFileSync(join(bundle, 'poselab.json'), 'utf8')) as { localiser: { minScore: number } }).localiser.minScore;
    const gt = JSON.parse(readFileSync(join(kBundled, 'test', '000001', 'scene_gt.json'), 'utf8')) as Record<string, { obj_id: number; cam_R_m2c: number[]; cam_t_m2c: number[] }[]>;
    const detected = parseBopCsv(readFileSync(evalCsv, 'utf8')).filter((r) => r.score >= minScore);
    const counted = detected.filter((r) => !failed.has(r.imId));
    expect(metrics.pnpFailures, 'eval\'s PnP failures are the detections predict says failed').toBe(detected.length - counted.length);
    expect(counted.length, 'detections that count').toBeGreaterThan(10);
    let rot = 0, trans = 0, transM = 0;
    for (const r of counted) {
      const g = gt[String(r.imId)].find((x) => x.obj_id === r.objId)!;
      const angle = (A: ArrayLike<number>) => (Math.acos(Math.min(1, Math.max(-1, (Array.from(A).reduce((a, v, k) => a + v * g.cam_R_m2c[k], 0) - 1) / 2))) * 180) / Math.PI;
      rot += angle(r.R);
      trans += Math.hypot(...[0, 1, 2].map((a) => r.tMm[a] - g.cam_t_m2c[a]));
      transM += Math.hypot(...[0, 1, 2].map((a) => r.tMm[a] / 1000 - g.cam_t_m2c[a]));
    }
    expect(rot / counted.length, 'mean rotation error from the CSV, degrees').toBeCloseTo(metrics.meanRotDeg, 6);
    expect(trans / counted.length, 'mean translation error from the CSV, mm').toBeCloseTo(metrics.meanTransMm, 6);
    expect(Math.abs(transM - trans) / counted.length, 't written in metres would give another mean, mm').toBeGreaterThan(100);
    // The time column: seconds per image (one object each here), whose mean is eval's ms per image.
    const all = parseBopCsv(readFileSync(evalCsv, 'utf8'));
    expect(all).toHaveLength(metrics.instances);
    expect((1000 * all.reduce((a, r) => a + r.timeS, 0)) / all.length, 'mean time per image from the CSV, ms').toBeCloseTo(metrics.msPerImage, 6);
    // (A transposed R gives about the same mean angle to poses this far off; the JSON's R, row-major by
    // another writer, is held against the CSV's below.)
    const predCsv = join(dir, 'pred.csv');
    const p = cli('predict', ['--model', bundle, '--images', images, '--camera', join(kBundled, 'camera.json'), '--out', predCsv, '--min-score', '0']);
    expect(p.code, p.stderr).toBe(0);
    const ev = parseBopCsv(readFileSync(evalCsv, 'utf8'));
    const pr = parseBopCsv(readFileSync(predCsv, 'utf8'));
    expect(pr).toHaveLength(100);
    expect(pr.map((r) => [r.sceneId, r.imId])).toEqual(ev.map((r) => [r.sceneId, r.imId]));
    pr.forEach((r, i) => {
      expect(Array.from(r.R)).toEqual(Array.from(ev[i].R));
      expect(Array.from(r.tMm)).toEqual(Array.from(ev[i].tMm));
      expect(r.score).toBe(ev[i].score);
    });

    expect(out.model).toEqual({ obj_id: 1, name: 'obj_000001', step: 20 });
    expect(out.images).toHaveLength(100);
    // The CSV holds the JSON's poses (eval's CSV equals predict's, above): R and t of each image's row.
    const evRows = new Map(ev.map((r) => [r.imId, r]));
    for (const im of out.images) {
      const d = im.detections[0];
      const row = evRows.get(imIdOf(im.file))!;
      expect(d.R, `R of ${im.file} in eval's CSV`).toEqual(Array.from(row.R));
      expect(d.t_mm, `t of ${im.file} in eval's CSV`).toEqual(Array.from(row.tMm));
    }

    const first = out.images[0];
    expect(first.file).toBe('000001/rgb/000000.jpg');
    expect([first.width, first.height]).toEqual([640, 480]);
    const d = first.detections[0];
    expect(d.box_xywh_px).toHaveLength(4);
    expect(d.R).toHaveLength(9);
    expect(d.t_mm).toEqual(Array.from(pr[0].tMm));
    expect(d.keypoints_px).toHaveLength(5);
    expect(d.status).toMatch(/^[a-z_]+$/);
    // Poses from the refined crop (refine.ts) are said so; equal to eval's above, refined as eval refines.
    expect(out.images.filter((im) => im.detections[0]?.refined === true).length, 'refined poses').toBeGreaterThan(0);
    expect(out.images.every((im) => typeof im.detections[0]?.refined === 'boolean')).toBe(true);
  });

  it('names bad input: bad arguments exit 2, unreadable or mismatched images are skipped by name', () => {
    for (const script of ['predict', 'train', 'eval'] as const) {
      const h = cli(script, ['--help']);
      expect(h.code, script).toBe(0);
      expect(h.stdout).toMatch(new RegExp(`^usage: npm run ${script} -- `));
    }
    // The usage is printed for a wrong command line, not for a well-formed one naming what cannot be used.
    const usage: [string[], RegExp][] = [
      [['--images', images, '--K', '1,2,3,4'], /--model is required/],
      [['--model', bundle, '--images', images], /give exactly one of --camera <camera.json> and --K fx,fy,cx,cy/],
      [['--model', bundle, '--images', images, '--K', '500,500,320'], /--K 500,500,320: expected four numbers fx,fy,cx,cy/],
      [['--model', bundle, '--images', images, '--K', '500,500,320,240', '--out', 'x.txt'], /--out x.txt: expected a .json or .csv file name/],
    ];
    const bad: [string[], RegExp][] = [
      // A dataset root's train and test images share scene and image ids, which are all a BOP CSV line has.
      [['--model', bundle, '--images', kBundled, '--K', '500,500,320,240', '--out', join(dir, 'root.csv')],
        /(train|test)\/000001\/rgb\/(\d+)\.\w+ and \S*(train|test)\/000001\/rgb\/\2\.\w+ both have scene_id 1, im_id \d+, which is all a BOP CSV line says/],
      [['--model', bundle, '--images', join(dir, 'nowhere'), '--K', '500,500,320,240'], /--images .*nowhere/],
    ];
    // A photo outside a BOP path has no ids for a BOP CSV line: refused before any work, never given made-up ones.
    const plain = join(dir, 'plain');
    mkdirSync(plain);
    copyFileSync(join(kBundled, 'test', '000001', 'rgb', '000001.jpg'), join(plain, 'IMG_0001.jpg'));
    bad.push([['--model', bundle, '--images', plain, '--K', '500,500,320,240', '--out', join(dir, 'not-made', 'plain.csv')],
      /--out \S*plain\.csv: IMG_0001\.jpg is not in a BOP path \(<scene>\/rgb\/<im>\.png or \.jpg\), so it has no scene_id and im_id.*write JSON/]);
    const cam = join(dir, 'cam.json');
    writeFileSync(cam, JSON.stringify({ cam_K: [500, 0, 320, 0, 500] }));
    bad.push([['--model', bundle, '--images', images, '--camera', cam], /cam\.json: cam_K = \[500,0,320,0,500\]: expected 9 numbers/]);
    const noCy = join(dir, 'no-cy.json');
    writeFileSync(noCy, JSON.stringify({ fx: 572, fy: 573, cx: 325 }));
    bad.push([['--model', bundle, '--images', images, '--camera', noCy], /no-cy\.json: cy missing: expected a number \(or give cam_K\)/]);
    // Nothing the run reads is written over or mixed into: its camera file, its bundle's folder.
    const goodCam = join(dir, 'good-cam.json');
    writeFileSync(goodCam, JSON.stringify({ cam_K: [572.4, 0, 325.3, 0, 573.6, 242.0, 0, 0, 1] }));
    const reads = (out: string) => new RegExp(`--out ${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: is the file this run reads`);
    bad.push([['--model', bundle, '--images', images, '--camera', goodCam, '--out', goodCam], reads(goodCam)]);
    for (const out of [join(bundle, 'poselab.json'), join(bundle, 'poses.json')]) {
      bad.push([['--model', bundle, '--images', images, '--K', '500,500,320,240', '--out', out], new RegExp(`--out ${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: is inside the bundle --model ${bundle.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}, which this run reads; give a path outside it`)]);
    }
    // An empty folder: said once.
    const empty = join(dir, 'empty-folder');
    mkdirSync(empty);
    bad.push([['--model', bundle, '--images', empty, '--K', '500,500,320,240'], /^--images .*empty-folder: no \.jpg, \.jpeg or \.png file in it\n$/]);
    for (const [args, message, isUsage] of [...usage.map((u) => [...u, true] as const), ...bad.map((b) => [...b, false] as const)]) {
      const r = cli('predict', args);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(message);
      expect({ args, usage: /usage: npm run predict/.test(r.stderr) }).toEqual({ args, usage: isUsage });
    }
    expect(existsSync(join(dir, 'not-made')), 'a bad argument leaves no output folder behind').toBe(false);
    // A folder with a corrupt JPEG, a truncated PNG, a PNG of another size than the camera's, a text file
    // and one good image: every file that is not used is in "skipped", its reason naming it.
    const mixed = join(dir, 'mixed');
    mkdirSync(mixed);
    writeFileSync(join(mixed, 'broken.jpg'), 'not a jpeg');
    copyFileSync(join(kBundled, 'test', '000001', 'rgb', '000001.jpg'), join(mixed, 'good.jpg'));
    copyFileSync(join(kBundled, 'models', 'obj_000001.png'), join(mixed, 'texture.png'));
    const png = readFileSync(join(kBundled, 'models', 'obj_000001.png'));
    writeFileSync(join(mixed, 'cut.png'), png.subarray(0, png.length - 100));
    writeFileSync(join(mixed, 'notes.txt'), 'shot on a phone');
    copyFileSync(join(kBundled, 'test', '000001', 'rgb', '000001.jpg'), join(mixed, '.hidden.jpg'));
    const r = cli('predict', ['--model', bundle, '--images', mixed, '--camera', join(kBundled, 'camera.json'), '--min-score', '0']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/skipped broken\.jpg: cannot be decoded: its content is text, not a JPEG or PNG image/);
    expect(r.stderr).toMatch(/skipped texture\.png: .*camera\.json is for 640x480 images, this one is \d+x\d+/);
    // The count at the start is of image files; the end says how many could be used.
    expect(r.stderr).toMatch(/ on 4 image files \(any that cannot be decoded are skipped and counted at the end\)/);
    expect(r.stderr).toMatch(/\d of 1 images with a detection; 4 skipped/);
    // A hidden file is left out as everywhere, and counted.
    expect(r.stderr).toMatch(/--images .*mixed: 1 OS or tool entry ignored \(__MACOSX\/, .*\), e\.g\. \.hidden\.jpg\n/);
    const out = JSON.parse(r.stdout) as { images: { file: string }[]; skipped: { file: string; reason: string }[] };
    expect(out.images.map((i) => i.file)).toEqual(['good.jpg']);
    const reasons = Object.fromEntries(out.skipped.map((s) => [s.file, s.reason]));
    expect(Object.keys(reasons).sort()).toEqual(['broken.jpg', 'cut.png', 'notes.txt', 'texture.png']);
    expect(reasons['cut.png']).toBe('cut.png: cannot be decoded as a PNG image, truncated or corrupt (the decoder: Error while decompressing the data)');
    expect(reasons['notes.txt']).toBe('notes.txt: not a JPEG or PNG image (only .jpg, .jpeg and .png files are read)');

    // Two folders, each with an IMG_0001.jpg: with several --images every file is named after its
    // argument too, so the JSON tells them apart.
    for (const d of ['trip-a', 'trip-b']) {
      mkdirSync(join(dir, d));
      copyFileSync(join(kBundled, 'test', '000001', 'rgb', '000001.jpg'), join(dir, d, 'IMG_0001.jpg'));
    }
    const two = cli('predict', ['--model', bundle, '--images', join(dir, 'trip-a'), '--images', join(dir, 'trip-b'), '--camera', join(kBundled, 'camera.json')]);
    expect(two.code, two.stderr).toBe(0);
    expect((JSON.parse(two.stdout) as { images: { file: string }[] }).images.map((i) => i.file))
      .toEqual([join(dir, 'trip-a', 'IMG_0001.jpg'), join(dir, 'trip-b', 'IMG_0001.jpg')]);

    // A BOP dataset's root: its photos (rgb/) are taken; masks, depth maps and the model's texture are
    // left out and counted; its JSON files are skipped by name.
    const bop = join(dir, 'bop-root');
    for (const sub of ['models', 'test/000001/rgb', 'test/000001/mask', 'test/000001/depth']) mkdirSync(join(bop, sub), { recursive: true });
    copyFileSync(join(kBundled, 'models', 'obj_000001.png'), join(bop, 'models', 'obj_000001.png'));
    copyFileSync(join(kBundled, 'models', 'models_info.json'), join(bop, 'models', 'models_info.json'));
    copyFileSync(join(kBundled, 'camera.json'), join(bop, 'camera.json'));
    copyFileSync(join(kBundled, 'test', '000001', 'rgb', '000001.jpg'), join(bop, 'test', '000001', 'rgb', '000001.jpg'));
    copyFileSync(join(kBundled, 'test', '000001', 'mask', '000001_000000.png'), join(bop, 'test', '000001', 'mask', '000001_000000.png'));
    copyFileSync(join(kBundled, 'test', '000001', 'mask', '000001_000000.png'), join(bop, 'test', '000001', 'depth', '000001.png'));
    writeFileSync(join(bop, 'test', '000001', 'scene_gt.json'), '{}');
    const b = cli('predict', ['--model', bundle, '--images', bop, '--camera', join(kBundled, 'camera.json'), '--min-score', '0']);
    expect(b.code, b.stderr).toBe(0);
    expect(b.stderr).toMatch(/--images .*bop-root: 4 files under mask\/, mask_visib\/, depth\/ or models\*\/ folders left out/);
    const bo = JSON.parse(b.stdout) as { images: { file: string }[]; skipped: { file: string; reason: string }[] };
    expect(bo.images.map((i) => i.file)).toEqual(['test/000001/rgb/000001.jpg']);
    expect(bo.skipped.map((s) => s.file)).toEqual(['camera.json', 'test/000001/scene_gt.json']);

    // A folder with nothing usable (a whole batch skipped) on the wasm backend: named, the output still
    // written with its "skipped", and exit 1.
    const onlyBad = join(dir, 'only-bad');
    mkdirSync(onlyBad);
    writeFileSync(join(onlyBad, 'a.jpg'), 'no');
    writeFileSync(join(onlyBad, 'b.txt'), 'no');
    const none = cli('predict', ['--model', bundle, '--images', onlyBad, '--K', '572,573,325,242', '--backend', 'wasm']);
    expect(none.code, none.stderr).toBe(1);
    expect(none.stderr).toMatch(/skipped a\.jpg: cannot be decoded/);
    expect(none.stderr).toMatch(/no image could be used: all 2 files given were skipped/);
    const no = JSON.parse(none.stdout) as { images: unknown[]; skipped: { file: string }[] };
    expect(no.images).toEqual([]);
    expect(no.skipped.map((s) => s.file).sort()).toEqual(['a.jpg', 'b.txt']);

    // A single image file; the output to a folder that does not exist yet; a whole scene_camera.json.
    const one = join(mixed, 'good.jpg');
    const nested = join(dir, 'new', 'deeper', 'poses.json');
    const single = cli('predict', ['--model', bundle, '--images', one, '--K', '572.4114,573.57043,325.2611,242.04899', '--out', nested]);
    expect(single.code, single.stderr).toBe(0);
    expect((JSON.parse(readFileSync(nested, 'utf8')) as { images: { file: string }[] }).images.map((i) => i.file)).toEqual([one]);
    const scene = cli('predict', ['--model', bundle, '--images', one, '--camera', join(kBundled, 'test', '000001', 'scene_camera.json')]);
    expect(scene.code).toBe(2);
    expect(scene.stderr).toMatch(/a whole scene_camera\.json \(entries keyed by image id 0, 1, 2, \.\.\.\); give one entry/);
    // Litter given by name is skipped as litter (its bytes are no image), as it is inside a folder.
    writeFileSync(join(mixed, '._good.jpg'), new Uint8Array([0x00, 0x05, 0x16, 0x07, 0, 2, 0, 0]));
    const named = cli('predict', ['--model', bundle, '--images', join(mixed, 'good.jpg'), '--images', join(mixed, '._good.jpg'), '--camera', join(kBundled, 'camera.json'), '--min-score', '0']);
    expect(named.code, named.stderr).toBe(0);
    const namedOut = JSON.parse(named.stdout) as { images: { file: string }[]; skipped: { file: string; reason: string }[] };
    expect(namedOut.skipped).toEqual([{ file: join(mixed, '._good.jpg'), reason: `${join(mixed, '._good.jpg')}: macOS AppleDouble file ('._' prefix), not a photo` }]);
  });

  it('writes its whole JSON through a pipe (the output is not cut at the pipe buffer)', () => {
    const r = spawnSync('bash', ['-c', `npx tsx --import ./scripts/raw-loader.mjs src/cli/predict.ts --model ${bundle} --images ${images} --K 572.4114,573.57043,325.2611,242.04899 --min-score 0 | cat`],
      { encoding: 'utf8', cwd: kRepo, maxBuffer: 64 * 2 ** 20 });
    expect(r.stdout.length).toBeGreaterThan(65_536);
    expect((JSON.parse(r.stdout) as { images: unknown[] }).images).toHaveLength(100);
  });
});
