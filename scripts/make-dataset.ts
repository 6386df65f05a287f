/**
 * `npm run make-dataset [-- --out <folder>] [--train N] [--test N] [--seed S] [--quality Q]`
 *
 * Builds the bundled default dataset (public/datasets/poselab-toy/, BOP layout): our own textured
 * object (make-dataset/toy-object.ts) rendered with three.js in Debian's Chromium (WebGL through
 * SwiftShader, driven by playwright-core) at LINEMOD-like poses and distances over random cluttered
 * backgrounds, with occluders, full and visible masks, and exact ground truth (the renderer's camera
 * is the dataset's K). Seeded: rerunning gives the same poses and scenes, and each split has a stream of
 * its own (the test images stay the same whatever --train is).
 *
 * The command line of src/cli (src/cli/args.ts): every argument is checked before anything is touched
 * (exit 2 naming the flag and value; --help prints the usage, exit 0). --out may be a new folder, an empty
 * one, or one this script wrote before (its manifest.json names poselab-toy); anything else is refused,
 * never deleted. The dataset is rendered into a sibling folder and replaces --out only once complete, so
 * a failed run leaves the old one as it was.
 */
import { build } from 'esbuild';
import { encode as encodePng } from 'fast-png';
import jpeg from 'jpeg-js';
import { existsSync, mkdirSync, rmSync, writeFileSync, readdirSync, statSync } from 'node:fs';
import { chmod, mkdtemp, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { InputError, kMaxSeed, makeFolders, parseFlags, parseInteger, runMain } from '../src/cli/args';
import { boundsOf, diameterOf } from '../src/data/mesh';
import { writePly } from '../src/data/ply';
import { hashSeed, Rng } from '../src/data/rng';
import type { ObjectSpec, RenderedView, ViewSpec } from './make-dataset/render-page';
import { toyMesh, toyTexture } from './make-dataset/toy-object';

const here = dirname(fileURLToPath(import.meta.url));
const kLinemodK = [572.4114, 0, 325.2611, 0, 573.57043, 242.04899, 0, 0, 1];
const kW = 640;
const kH = 480;
const kBudgetBytes = 20e6;
/** The name in the manifest.json this script writes: the mark of a folder it may replace. */
const kDatasetName = 'poselab-toy';
const kChromium = '/usr/bin/chromium';
const kBundledDir = join(here, '..', 'public', 'datasets', kDatasetName);
const kUsage = 'usage: npm run make-dataset -- [--out <folder>] [--train N] [--test N] [--seed S] [--quality Q]\n' +
  '  --out      the dataset folder (default public/datasets/poselab-toy): new, empty, or one make-dataset wrote\n' +
  '  --train N  training images, 1 to 100000 (default 500); --test N: test images, 1 to 100000 (default 100)\n' +
  '  --seed S   an integer from 0 to 4294967295 (default 1); --quality Q: JPEG quality, 1 to 100 (default 50)';

interface Options { outDir: string; nTrain: number; nTest: number; seed: number; quality: number }

const kMaxImages = 100_000;

function parseOptions(argv: string[]): Options {
  const v = parseFlags(argv, { out: { type: 'string' }, train: { type: 'string' }, test: { type: 'string' }, seed: { type: 'string' }, quality: { type: 'string' } });
  return {
    outDir: v.out ?? kBundledDir,
    // At most 100,000 each: about a second an image here, so more would run for days.
    nTrain: parseInteger('train', v.train, 1, kMaxImages) ?? 500,
    nTest: parseInteger('test', v.test, 1, kMaxImages) ?? 100,
    seed: parseInteger('seed', v.seed, 0, kMaxSeed) ?? 1,
    // jpeg-js takes 1 to 100 (it clamps anything else). 50: about 29 KB an image (80: 47 KB), so that 500
    // training views fit the bundle's 20 MB; the network's view count, not JPEG's detail, limits it here.
    quality: parseInteger('quality', v.quality, 1, 100) ?? 50,
  };
}

/**
 * Refuses an --out that this script may not replace: a file, or a folder that is not empty and has no
 * manifest.json naming poselab-toy (a dataset of someone else's, a home folder, the repository).
 */
async function checkOutDir(out: string): Promise<void> {
  const s = await stat(out).catch(() => undefined);
  if (!s) return;
  if (!s.isDirectory()) throw new InputError(`--out ${out}: is a file, not a folder; nothing was changed`);
  if ((await readdir(out)).length === 0) return;
  const manifest = await readFile(join(out, 'manifest.json'), 'utf8').then((t) => JSON.parse(t) as unknown, () => undefined);
  const name = typeof manifest === 'object' && manifest !== null ? (manifest as { name?: unknown }).name : undefined;
  if (name !== kDatasetName) {
    throw new InputError(`--out ${out}: the folder exists, is not empty and is not a dataset make-dataset wrote (no manifest.json naming ${kDatasetName}); ` +
      'it is left as it is: give a new or empty folder, or one make-dataset wrote');
  }
}

const pad6 = (n: number) => String(n).padStart(6, '0');

/**
 * A LINEMOD-like view: the camera on the upper hemisphere around the object (elevation 5-75 degrees,
 * any azimuth), 650-1100 mm away, rolled up to ±30 degrees, the object up to ~110 px off centre.
 * World frame = model frame, y up (the toy's axis). Returns R (row-major, model to OpenCV camera), t mm.
 */
function randomPose(rng: Rng): { r: number[]; t: number[] } {
  const el = (rng.uniform(5, 75) * Math.PI) / 180;
  const az = rng.uniform(0, 2 * Math.PI);
  const dist = rng.uniform(650, 1100);
  const c = [dist * Math.cos(el) * Math.sin(az), dist * Math.sin(el), dist * Math.cos(el) * Math.cos(az)];
  const f = c.map((v) => -v / dist);
  const cross = (a: number[], b: number[]) => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
  const norm = (a: number[]) => { const n = Math.hypot(...a); return a.map((v) => v / n); };
  let right = norm(cross(f, [0, 1, 0]));
  let down = cross(f, right);
  const roll = (rng.uniform(-30, 30) * Math.PI) / 180;
  const [cr, sr] = [Math.cos(roll), Math.sin(roll)];
  [right, down] = [right.map((v, k) => cr * v + sr * down[k]), down.map((v, k) => -sr * right[k] + cr * v)];
  const r = [...right, ...down, ...f];
  const t = [0, 1, 2].map((i) => -(r[3 * i] * c[0] + r[3 * i + 1] * c[1] + r[3 * i + 2] * c[2]));
  const du = rng.uniform(-110, 110), dv = rng.uniform(-80, 80);
  t[0] += (du * t[2]) / kLinemodK[0];
  t[1] += (dv * t[2]) / kLinemodK[4];
  return { r, t };
}

function maskStats(mask: Uint8Array): { box: number[]; count: number } {
  let x0 = Infinity, y0 = Infinity, x1 = -1, y1 = -1, count = 0;
  for (let y = 0; y < kH; y++) for (let x = 0; x < kW; x++) {
    if (mask[y * kW + x]) {
      count++;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
    }
  }
  return { box: count ? [x0, y0, x1 - x0 + 1, y1 - y0 + 1] : [-1, -1, -1, -1], count };
}

function write(path: string, bytes: Uint8Array | string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, bytes);
}

function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(relative(dir, p).split(sep).join('/'));
    }
  };
  walk(dir);
  return out;
}

async function main(argv: string[]): Promise<number> {
  const { outDir, nTrain, nTest, seed, quality } = parseOptions(argv);
  await checkOutDir(outDir);
  if (!existsSync(kChromium)) throw new InputError(`make-dataset renders in Debian's Chromium, not found at ${kChromium} (as root: apt-get install -y chromium); nothing was changed`);
  // Rendered beside --out and moved into place once complete: a run that fails leaves --out as it was.
  let stage: string;
  try {
    await makeFolders(dirname(outDir));
    stage = await mkdtemp(join(dirname(outDir), `.${basename(outDir)}.partial-`));
  } catch (e) {
    throw new InputError(`--out ${outDir}: cannot create a folder beside it to render into (${e instanceof Error ? e.message : String(e)})`);
  }
  await chmod(stage, 0o755); // mkdtemp's folder is private; the dataset is served and shipped
  process.once('SIGINT', () => {
    rmSync(stage, { recursive: true, force: true });
    process.exit(130);
  });
  let written: { files: number; bytes: number };
  try {
    written = await render(stage, { nTrain, nTest, seed, quality });
  } catch (e) {
    await rm(stage, { recursive: true, force: true });
    throw e;
  }
  // The bundled dataset ships in the repository: 20 MB (decimal) for its whole folder, checked before it
  // replaces the one there. Other folders (more training renders, say) may be as large as asked.
  if (resolve(outDir) === resolve(kBundledDir) && written.bytes > kBudgetBytes) {
    await rm(stage, { recursive: true, force: true });
    console.error(`[make-dataset] ${(written.bytes / 1e6).toFixed(1)} MB, over the ${kBudgetBytes / 1e6} MB budget of ${outDir}: ` +
      'lower --quality or the image counts; the dataset there is left as it was');
    return 1;
  }
  await rm(outDir, { recursive: true, force: true });
  await rename(stage, outDir);
  console.log(`[make-dataset] ${written.files} files, ${(written.bytes / 1e6).toFixed(1)} MB in ${outDir}`);
  return 0;
}

/** Renders the whole dataset into outDir (a new, empty folder); returns the count of its files but manifest.json and the bytes of all. */
async function render(outDir: string, { nTrain, nTest, seed, quality }: Omit<Options, 'outDir'>): Promise<{ files: number; bytes: number }> {
  const mesh = toyMesh();
  const texSize = 512;
  const texture = toyTexture(texSize);
  const bounds = boundsOf(mesh.positions);
  write(join(outDir, 'models', 'obj_000001.ply'), writePly(mesh, ['PoseLab toy watering can, mm, CC0']));
  write(join(outDir, 'models', 'obj_000001.png'), encodePng({ width: texSize, height: texSize, data: texture, channels: 3, depth: 8 }));
  const size = [0, 1, 2].map((k) => bounds.max[k] - bounds.min[k]);
  write(join(outDir, 'models', 'models_info.json'), JSON.stringify({
    1: { diameter: diameterOf(mesh.positions), min_x: bounds.min[0], min_y: bounds.min[1], min_z: bounds.min[2], size_x: size[0], size_y: size[1], size_z: size[2] },
  }, null, 1));
  write(join(outDir, 'camera.json'), JSON.stringify({ cx: kLinemodK[2], cy: kLinemodK[5], fx: kLinemodK[0], fy: kLinemodK[4], width: kW, height: kH, depth_scale: 1 }, null, 1));

  const page_js = await build({ entryPoints: [join(here, 'make-dataset', 'render-page.ts')], bundle: true, format: 'iife', write: false, logLevel: 'error' });
  // The project's usual headless flags (WebGPU through SwiftShader's Vulkan), plus ANGLE on SwiftShader
  // for WebGL, which three.js renders with here: CPU rendering, no GPU needed; reruns here gave identical bytes.
  const browser = await chromium.launch({
    executablePath: kChromium,
    args: ['--no-sandbox', '--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-vulkan=swiftshader', '--use-webgpu-adapter=swiftshader',
      '--disable-background-networking', '--disable-component-update', '--no-first-run', '--use-gl=angle', '--use-angle=swiftshader', '--enable-unsafe-swiftshader'],
  });
  try {
    const page = await browser.newPage();
    page.on('pageerror', (e) => console.error('[page]', e));
    await page.setContent('<!doctype html><html><body></body></html>');
    await page.addScriptTag({ content: page_js.outputFiles[0].text });
    const spec: ObjectSpec = {
      positions: Array.from(mesh.positions), normals: Array.from(mesh.normals!), uvs: Array.from(mesh.uvs!), faces: Array.from(mesh.faces),
      texture: { size: texSize, rgb: Array.from(texture) },
    };
    await page.evaluate((o) => window.setupObject(o), spec);

    for (const [split, scene, count, stream] of [['train', 1, nTrain, 1], ['test', 1, nTest, 2]] as const) {
      // Each split draws from a stream of its own, so the test images do not depend on --train.
      const rng = new Rng(hashSeed(seed, stream));
      const dir = join(outDir, split, pad6(scene));
      const gt: Record<number, unknown> = {}, cam: Record<number, unknown> = {}, info: Record<number, unknown> = {};
      for (let im = 0; im < count; im++) {
        let view: RenderedView, full: Uint8Array, vis: Uint8Array, pose: { r: number[]; t: number[] };
        for (;;) {
          pose = randomPose(rng);
          const v: ViewSpec = { widthPx: kW, heightPx: kH, kPx: kLinemodK, rM2c: pose.r, tM2cMm: pose.t, seed: rng.int(2 ** 31) };
          view = await page.evaluate((s) => window.renderView(s), v);
          full = Buffer.from(view.maskFull, 'base64');
          vis = Buffer.from(view.maskVisib, 'base64');
          // keep views where at least 40% of the object shows (LINEMOD's objects are mostly visible)
          if (maskStats(vis).count >= 0.4 * maskStats(full).count) break;
        }
        const rgba = Buffer.from(view.rgb, 'base64');
        write(join(dir, 'rgb', `${pad6(im)}.jpg`), new Uint8Array(jpeg.encode({ width: kW, height: kH, data: rgba }, quality).data));
        write(join(dir, 'mask', `${pad6(im)}_000000.png`), encodePng({ width: kW, height: kH, data: full, channels: 1, depth: 8 }));
        write(join(dir, 'mask_visib', `${pad6(im)}_000000.png`), encodePng({ width: kW, height: kH, data: vis, channels: 1, depth: 8 }));
        const fs = maskStats(full), vs = maskStats(vis);
        gt[im] = [{ cam_R_m2c: pose.r, cam_t_m2c: pose.t, obj_id: 1 }];
        cam[im] = { cam_K: kLinemodK, depth_scale: 1 };
        info[im] = [{ bbox_obj: fs.box, bbox_visib: vs.box, px_count_all: fs.count, px_count_visib: vs.count, visib_fract: fs.count ? vs.count / fs.count : 0 }];
        if ((im + 1) % 25 === 0) console.log(`[make-dataset] ${split}: ${im + 1}/${count}`);
      }
      write(join(dir, 'scene_gt.json'), JSON.stringify(gt));
      write(join(dir, 'scene_camera.json'), JSON.stringify(cam));
      write(join(dir, 'scene_gt_info.json'), JSON.stringify(info));
    }
  } finally {
    await browser.close();
  }

  write(join(outDir, 'README.md'), readme(nTrain, nTest));
  const files = listFiles(outDir).filter((p) => p !== 'manifest.json');
  const manifest = { name: kDatasetName, files: files.map((p) => ({ path: p, bytes: statSync(join(outDir, p)).size })) };
  const manifestText = JSON.stringify(manifest);
  write(join(outDir, 'manifest.json'), manifestText);
  return { files: files.length, bytes: manifest.files.reduce((a, f) => a + f.bytes, 0) + Buffer.byteLength(manifestText) };
}

function readme(train: number, test: number): string {
  return `# poselab-toy: PoseLab's bundled LINEMOD-style dataset

A small synthetic dataset in the [BOP format](https://github.com/thodan/bop_toolkit/blob/master/docs/bop_datasets_format.md)
so that PoseLab has something real to train on out of the box.

- **Object**: \`models/obj_000001.ply\` (mm, with uv coordinates) and its texture \`models/obj_000001.png\`:
  a toy watering can (lathed body, handle, spout, off-centre knob; no symmetry), modelled procedurally by
  \`scripts/make-dataset/toy-object.ts\`.
- **Images**: ${train} in \`train/000001\` and ${test} in \`test/000001\`, 640x480 JPEG, rendered with three.js
  (WebGL in Chromium through SwiftShader) with the LINEMOD camera (fx 572.4114, fy 573.57043, cx 325.2611,
  cy 242.04899), at LINEMOD-like distances (650-1100 mm) and views (upper hemisphere, ±30° roll), over random
  cluttered backgrounds with random lighting and primitive occluders.
- **Ground truth**: \`scene_gt.json\` (exact: the renderer's camera is the dataset's K), \`scene_camera.json\`,
  \`scene_gt_info.json\` (bbox_obj, bbox_visib, visib_fract from the masks), \`mask/\` (whole object) and
  \`mask_visib/\` (visible part). No depth.
- **Regenerate**: \`npm run make-dataset\` (seeded; options \`--train N --test N --seed S --quality Q --out DIR\`).
- \`manifest.json\` lists the files so the app can load the folder over HTTP.

**Licence**: CC0-1.0 (Creative Commons Zero v1.0 Universal, a public domain dedication). The object, its texture and every image were made by
PoseLab's own script; no third-party assets are included.
`;
}

runMain(() => main(process.argv.slice(2)), kUsage);
