/**
 * `npm run predict -- --model <bundle> --images <folder|file|zip> [--images ...] (--camera <camera.json> | --K fx,fy,cx,cy)
 *                     [--out poses.json|results.csv] [--backend auto|webgpu|wasm|cpu] [--min-score S]`
 *
 * Poses for images without ground truth (train/predict.ts: localiser box, crop, keypoints, bpnp). JPEG and
 * PNG of any size; the camera as BOP's scene_camera entry ({"cam_K": [9 numbers]}) or BOP's camera.json
 * ({"fx", "fy", "cx", "cy"}, optionally "width", "height"). Output: JSON (the default, to stdout
 * without --out) or, for a .csv, BOP's results format with scene_id and im_id parsed from BOP paths
 * (<scene>/rgb/<im>.png; an image outside such a path is an input error with .csv). Files that are not images, and
 * images that cannot be decoded or do not fit the camera, are named on stderr, listed under "skipped"
 * with a reason naming the file, and left out (which files a folder gives: listImages); a progress bar
 * on stderr; bad arguments exit 2; no image left to predict on exits 1, the output still written.
 */
import { readFile, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { bopIdsOf } from '../data/bopNames';
import { decodePure } from '../data/decode/pure';
import { CameraError, cameraFromFxFyCxCy, cameraMismatch, parseCameraJson, type CameraK } from '../data/camera';
import { imageKindOf, readImageFile, type RgbaImage } from '../data/image';
import { ignoredMessage, litterReason } from '../data/source/paths';
import { bopCsv, type BopResult } from '../train/bopCsv';
import type { LoadedBundle } from '../train/bundle';
import { detectionsJson, posesJsonText } from '../train/posesJson';
import { bundlePredictor, predictImages, type ImagePose } from '../train/predict';
import { InputError, isWithin, loadBundle, openSource, parseBackend, parseFlags, prepareOutputFile, readInputText, runMain, selectBackend, UsageError } from './common';
import { decimal } from '../data/decimal';

const kUsage = 'usage: npm run predict -- --model <bundle> --images <folder|file|zip> [--images ...] (--camera <camera.json> | --K fx,fy,cx,cy) ' +
  '[--out poses.json|results.csv] [--backend auto|webgpu|wasm|cpu] [--min-score S]';

const kHelp = `${kUsage}

Finds the bundle's object in photos without ground truth and gives its 6-DoF pose: the localiser's box, the
keypoint network on the crop (refined around the first pose), then PnP.
--model    a bundle folder or .zip written by npm run train or the page.
--images   a photo (.jpg, .jpeg, .png), or a folder or zip of them at any depth (masks, depth maps and model
           textures under mask*/, depth/ and models*/ folders are left out); repeat for more.
--camera   BOP's scene_camera entry {"cam_K": [9 numbers]} or BOP's camera.json {"fx", "fy", "cx", "cy"}
           (with "width" and "height", checked against each photo); or --K fx,fy,cx,cy in px.
--out      poses.json (default: JSON on stdout; use npm run -s to redirect it) or results.csv (BOP's results
           format: photos must lie in BOP paths, <scene>/rgb/<im>.png). Never a file the run reads, nor inside
           the bundle's folder.
--min-score  replaces the bundle's localiser.minScore: a best box scoring below it is no detection.
JSON: {"model", "camera", "images": [{file, width, height, ms, "detections": [{obj_id, score, box_xywh_px,
      R (9, row-major), t_mm, keypoints_px, status, refined}]}], "skipped": [{file, reason}]}.
Exit codes: 0 done, 1 no photo could be used (the output still written), 2 bad arguments.`;

/** --camera file text or --K value -> K; errors name the file or flag, the field and the value. */
export function parseCamera(text: string | undefined, kFlag: string | undefined, cameraPath = '--camera'): CameraK {
  if ((text === undefined) === (kFlag === undefined)) throw new UsageError('give exactly one of --camera <camera.json> and --K fx,fy,cx,cy');
  try {
    return kFlag !== undefined ? cameraFromFxFyCxCy(kFlag) : parseCameraJson(text!, cameraPath);
  } catch (e) {
    // --K's value is the command line's own (usage); a camera file's contents are input.
    if (e instanceof CameraError) throw kFlag !== undefined ? new UsageError(e.message) : new InputError(e.message);
    throw e;
  }
}

interface ImageFile { file: string; idPath?: string; read: () => Promise<Uint8Array> }
interface Skipped { file: string; reason: string }

/**
 * Folders inside a folder or zip given to --images whose files are not photos: BOP's and PVNet's masks
 * (mask, mask_visib), BOP's depth maps (depth) and model folders (models, models_eval, models_cad, ...,
 * whose PNGs are mesh textures).
 */
const kNotPhotos = /(^|\/)(mask|mask_visib|depth|models|models_[^/]*)\//;

/**
 * The --images arguments as image files, and the files skipped with their reasons. A file given directly
 * is taken when it is a .jpg, .jpeg or .png, else opened as a zip. In a folder or zip every .jpg, .jpeg and
 * .png at any depth is taken, except those under the folders of kNotPhotos (left out and counted on
 * stderr); any other file is skipped with its reason, as is an entry the folder or zip cannot read.
 */
async function listImages(args: string[]): Promise<{ images: ImageFile[]; skipped: Skipped[] }> {
  const images: ImageFile[] = [];
  const skipped: Skipped[] = [];
  for (const a of args) {
    const isFile = await stat(a).then((s) => s.isFile(), () => false);
    // Litter given by name (a macOS ._ twin of a photo, say) is skipped as litter, as in a folder or zip.
    const litterWhy = isFile ? litterReason(basename(a)) : undefined;
    if (litterWhy) {
      skipped.push({ file: a, reason: `${a}: ${litterWhy}, not a photo` });
      continue;
    }
    // A single image given directly is listed under its own path.
    if (imageKindOf(a) && isFile) {
      images.push({ file: a, read: () => readFile(a) });
      continue;
    }
    const src = await openSource(a, '--images');
    // Files are named inside their folder or zip; with several --images, after the argument as given too,
    // so that two folders' IMG_0001.jpg are told apart.
    const named = (p: string) => (args.length > 1 ? join(a, p) : p);
    for (const p of src.problems) skipped.push({ file: named(p.file), reason: `${named(p.file)}: ${p.message}` });
    const litter = src.ignored;
    if (litter && litter.count > 0) {
      console.error(`--images ${a}: ${ignoredMessage(litter)}`);
    }
    const notPhotos = src.paths.filter((p) => kNotPhotos.test(p));
    if (notPhotos.length > 0) {
      console.error(`--images ${a}: ${notPhotos.length} file${notPhotos.length === 1 ? '' : 's'} under mask/, mask_visib/, depth/ or models*/ folders left out (masks, depth maps, models and their textures, not photos)`);
    }
    let found = 0;
    for (const p of src.paths) {
      if (kNotPhotos.test(p)) continue;
      if (!imageKindOf(p)) {
        skipped.push({ file: named(p), reason: `${named(p)}: not a JPEG or PNG image (only .jpg, .jpeg and .png files are read)` });
        continue;
      }
      found++;
      // The given folder's path comes first in each file's path, so that BOP ids parse from <scene>/rgb/<im>.
      images.push({ file: named(p), idPath: join(a, p), read: () => src.read(p) });
    }
    // With one --images the run stops on it below, saying so once; with several, the others go on.
    if (found === 0 && args.length > 1) console.error(`--images ${a}: no .jpg, .jpeg or .png file in it`);
  }
  return { images, skipped };
}

async function main(argv: string[]): Promise<number> {
  const values = parseFlags(argv, {
    model: { type: 'string' }, images: { type: 'string', multiple: true }, camera: { type: 'string' }, K: { type: 'string' },
    out: { type: 'string' }, backend: { type: 'string' }, 'min-score': { type: 'string' },
  });
  if (!values.model) throw new UsageError('--model is required');
  if (!values.images?.length) throw new UsageError('--images is required');
  const minScore = values['min-score'] === undefined ? undefined : decimal(values['min-score']);
  if (minScore !== undefined && !(minScore >= 0 && minScore <= 1)) throw new UsageError(`--min-score ${values['min-score']}: expected a number in [0, 1]`);
  if (values.out !== undefined && !/\.(json|csv)$/i.test(values.out)) throw new UsageError(`--out ${values.out}: expected a .json or .csv file name`);
  let cameraText: string | undefined;
  if (values.camera !== undefined) {
    cameraText = await readInputText(values.camera, '--camera', 'a camera JSON file');
  }
  const camera = parseCamera(cameraText, values.K, values.camera && `--camera ${values.camera}`);
  const backend = await selectBackend(parseBackend(values.backend));
  const bundle = await loadBundle(values.model);
  if (!bundle.localiser) throw new InputError(`--model ${values.model}: this bundle has no localiser (its run trained none), so it cannot find the object in a new image`);
  const { images, skipped } = await listImages(values.images);
  if (images.length === 0 && skipped.length === 0) {
    throw new InputError(values.images.length === 1 ? `--images ${values.images[0]}: no .jpg, .jpeg or .png file in it` : `--images ${values.images.join(' ')}: no image to predict on`);
  }
  if (values.out && /\.csv$/i.test(values.out)) {
    // BOP's CSV names an image by scene_id and im_id alone: two images with the same ids (a dataset root's
    // train and test splits) would be two lines no reader can tell apart, and an image outside a BOP path
    // has no ids at all (a made-up pair would be a line nobody can trace back).
    const seen = new Map<string, string>();
    for (const f of images) {
      const ids = bopIdsOf(f.idPath ?? f.file);
      if (!ids) throw new InputError(`--out ${values.out}: ${f.file} is not in a BOP path (<scene>/rgb/<im>.png or .jpg), so it has no scene_id and im_id, which is all a BOP CSV line says of its image; write JSON (--out poses.json), which names each file`);
      const key = `${ids.sceneId}/${ids.imId}`;
      const other = seen.get(key);
      if (other !== undefined) {
        throw new InputError(`--out ${values.out}: ${other} and ${f.file} both have scene_id ${ids.sceneId}, im_id ${ids.imId}, which is all a BOP CSV line says of its image; give one split's folder to --images, or write JSON`);
      }
      seen.set(key, f.file);
    }
  }
  // The output's folder is made once every argument is known good: a bad argument leaves nothing behind.
  // Nothing this run reads is written over or mixed into: the camera file, the bundle (its folder), the images.
  if (values.out && isWithin(values.out, values.model)) {
    throw new InputError(`--out ${values.out}: is inside the bundle --model ${values.model}, which this run reads; give a path outside it`);
  }
  const inputs = [values.camera, values.model, ...values.images, ...images.map((i) => i.idPath ?? i.file)];
  if (values.out) await prepareOutputFile(values.out, '--out', { inputs });
  for (const s of skipped) console.error(`skipped ${s.reason}`);
  console.error(`predicting ${bundle.meta.class.name} (object ${bundle.meta.class.id}, step ${bundle.meta.step}) on ${images.length} image file${images.length === 1 ? '' : 's'} (any that cannot be decoded are skipped and counted at the end), ${backend} backend`);
  if (!bundle.outlineMm) console.error('this bundle has no crop.outlineMm (written before crop refinement): poses from the localiser\'s crop alone, unrefined');

  const predictor = bundlePredictor(bundle);
  const results: { file: string; idPath: string; width: number; height: number; ms: number; pose?: ImagePose }[] = [];
  const batch = Math.max(1, bundle.meta.config.optim.batchSize);
  const tty = !!process.stderr.isTTY;
  for (let start = 0; start < images.length; start += batch) {
    const chunk = images.slice(start, start + batch);
    const decoded: { file: string; idPath: string; image: RgbaImage }[] = [];
    for (const f of chunk) {
      try {
        const image = await readImageFile(f.file, f.read, decodePure);
        const why = cameraMismatch(camera, image.widthPx, image.heightPx);
        if (why) throw new Error(`${f.file}: ${why}`);
        decoded.push({ file: f.file, idPath: f.idPath ?? f.file, image });
      } catch (e) {
        const reason = e instanceof Error ? e.message : String(e);
        skipped.push({ file: f.file, reason });
        console.error(`${tty ? '\n' : ''}skipped ${reason}`);
      }
    }
    if (decoded.length === 0) continue;
    const t0 = performance.now();
    const poses = await predictImages(predictor, decoded.map((d) => ({ image: d.image, kPx: camera.kPx })), minScore);
    const ms = (performance.now() - t0) / Math.max(1, decoded.length);
    decoded.forEach((d, i) => results.push({ file: d.file, idPath: d.idPath, width: d.image.widthPx, height: d.image.heightPx, ms, pose: poses[i] }));
    if (tty) process.stderr.write(`\r[${start + chunk.length}/${images.length}] images\x1b[K`);
  }
  if (tty) process.stderr.write('\n');

  if (values.out && /\.csv$/i.test(values.out)) {
    // Every image has BOP ids here (checked before any work).
    const rows: BopResult[] = results.filter((r) => r.pose?.detected).map((r) => ({
      ...bopIdsOf(r.idPath)!, objId: bundle.meta.class.id, score: r.pose!.detection.score,
      R: r.pose!.prediction.R, tMm: r.pose!.prediction.tMm, timeMs: r.ms,
    }));
    await writeFile(values.out, bopCsv(rows));
  } else {
    const text = posesJsonText({
      model: { obj_id: bundle.meta.class.id, name: bundle.meta.class.name, step: bundle.meta.step },
      camera: { K: camera.kPx, source: camera.source },
      images: results.map((r) => ({ file: r.file, width: r.width, height: r.height, ms: r.ms, detections: detectionsJson(r.pose, bundle.meta.class.id) })),
      skipped,
    });
    if (values.out) await writeFile(values.out, text);
    else process.stdout.write(text);
  }
  const found = results.filter((r) => r.pose?.detected).length;
  console.error(`${found} of ${results.length} images with a detection${skipped.length ? `; ${skipped.length} skipped` : ''}${values.out ? `; wrote ${values.out}` : ''}`);
  bundle.model.dispose();
  bundle.localiser.dispose();
  if (results.length === 0) {
    console.error(`no image could be used: ${skipped.length === 1 ? 'the one file' : `all ${skipped.length} files`} given ${skipped.length === 1 ? 'was' : 'were'} skipped (listed above${values.out ? ` and in ${values.out}` : ' and in the output'})`);
    return 1;
  }
  return 0;
}

runMain(() => main(process.argv.slice(2)), kUsage, kHelp);
