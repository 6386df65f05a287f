import type { Dataset, DatasetImage, DatasetObject, Instance, BoxPx } from '../dataset';
import { boxCorners } from '../mesh';
import { listSome, type ProblemLog } from '../problems';
import { basename, stem } from '../source/paths';
import type { ByteSource } from '../source/source';
import { checkBoxInImage, checkCamK, checkRotation, checkTranslation, clipBox, projectedBoxPx } from '../validate';
import { isRecord, numberArray, readJson, sharedImageSize } from './common';
import { attachEvalModels, loadObjects, modelFolders } from './bopModels';
import { indexByDir, kBopModelsDir } from './detect';
import { loadTestTargets } from '../targets';

/**
 * BOP layout (LM, LM-O; https://github.com/thodan/bop_toolkit/blob/master/docs/bop_datasets_format.md):
 *   models/models_info.json           {"<obj_id>": {diameter, min_x, min_y, min_z, size_x, size_y, size_z, symmetries_*}} mm
 *   models/obj_<obj_id:06d>.ply        mm
 *   <split>/<scene_id>/scene_camera.json  {"<im_id>": {cam_K [9] row-major, depth_scale}}
 *   <split>/<scene_id>/scene_gt.json      {"<im_id>": [{obj_id, cam_R_m2c [9] row-major, cam_t_m2c [3] mm}]}
 *   <split>/<scene_id>/scene_gt_info.json {"<im_id>": [{bbox_obj, bbox_visib, visib_fract}]}  (optional)
 *   <split>/<scene_id>/{rgb,depth}/<im_id:06d>.{png,jpg}, {mask,mask_visib}/<im_id:06d>_<gt_id:06d>.png
 * Any subset of splits; depth, masks and gt_info may be absent.
 */
const kSceneFile = /^([^/]+)\/([^/]+)\/(?:scene_gt\.json|scene_camera\.json|scene_gt_info\.json|rgb\/[^/]+)$/;

export async function loadBop(source: ByteSource, root: string, log: ProblemLog, opts: { modelsDir?: string } = {}): Promise<Dataset> {
  const byDir = indexByDir(source.paths);
  const has = new Set(source.paths);
  const folders = modelFolders(source.paths, root, opts.modelsDir, log);
  const objects = await loadObjects(source, root, folders.mesh, has, byDir, log);
  if (folders.eval) await attachEvalModels(source, root, folders.eval, objects, has, log);
  const objById = new Map(objects.map((o) => [o.id, o]));

  const scenes = new Map<string, { split: string; scene: string }>();
  for (const p of source.paths) {
    if (!p.startsWith(root)) continue;
    const m = kSceneFile.exec(p.slice(root.length));
    if (m && !kBopModelsDir.test(m[1])) scenes.set(`${root}${m[1]}/${m[2]}`, { split: m[1], scene: m[2] });
  }
  let rootCamera: { widthPx: number; heightPx: number } | undefined;
  if (has.has(`${root}camera.json`)) {
    const c = await readJson(source, `${root}camera.json`, log);
    if (isRecord(c) && typeof c.width === 'number' && typeof c.height === 'number') rootCamera = { widthPx: c.width, heightPx: c.height };
  }

  const images: DatasetImage[] = [];
  const sceneDirs = [...scenes.keys()].sort();
  for (const dir of sceneDirs) {
    const { split, scene } = scenes.get(dir)!;
    images.push(...(await loadScene(source, dir, split, scene, has, byDir, objById, rootCamera, folders.mesh, log)));
  }
  const splits = [...new Set(images.map((im) => im.split))].sort();
  const testTargets = await loadTestTargets(source, root, has, log);
  if (sceneDirs.length === 0) log.add(root || source.label, '', 'no scene folders (<split>/<scene_id>/scene_gt.json) found');
  return { format: 'bop', layout: 'bop', name: root.replace(/\/$/, '') || source.label, objects, images, splits, problems: [], source, testTargets };
}

function maskFiles(paths: readonly string[], dirPath: string, log: ProblemLog): Map<string, string> {
  const out = new Map<string, string>();
  const odd: string[] = [];
  for (const p of paths) {
    const m = /^(\d+)_(\d+)\.(?:png|jpe?g)$/i.exec(basename(p));
    if (!m) {
      odd.push(basename(p));
      continue;
    }
    const key = `${Number(m[1])}_${Number(m[2])}`;
    const before = out.get(key);
    if (before) log.add(p, 'name', `same im_id and gt_id as ${basename(before)}; ${basename(before)} is used`);
    else out.set(key, p);
  }
  if (odd.length > 0) log.add(dirPath, '', `not named <im_id>_<gt_id>.png: ${listSome(odd)}; ignored`);
  return out;
}

async function loadScene(
  source: ByteSource,
  dir: string,
  split: string,
  scene: string,
  has: Set<string>,
  byDir: Map<string, string[]>,
  objById: Map<number, DatasetObject>,
  rootCamera: { widthPx: number; heightPx: number } | undefined,
  modelsFolder: string,
  log: ProblemLog,
): Promise<DatasetImage[]> {
  const gtPath = `${dir}/scene_gt.json`;
  const camPath = `${dir}/scene_camera.json`;
  const infoPath = `${dir}/scene_gt_info.json`;
  const rgbOf = new Map<number, string>();
  for (const p of byDir.get(`${dir}/rgb`) ?? []) {
    const id = Number(stem(p));
    if (Number.isInteger(id) && /\.(png|jpe?g)$/i.test(p)) rgbOf.set(id, p);
  }
  if (!has.has(gtPath)) {
    log.add(gtPath, '', `missing: the scene's ${rgbOf.size} images have no ground truth and are left out`);
    return [];
  }
  if (!has.has(camPath)) {
    log.add(camPath, '', `missing: the scene's ${rgbOf.size} images have no camera and are left out`);
    return [];
  }
  const [gt, cam, info] = await Promise.all([
    readJson(source, gtPath, log),
    readJson(source, camPath, log),
    has.has(infoPath) ? readJson(source, infoPath, log) : Promise.resolve(undefined),
  ]);
  if (!isRecord(gt)) {
    if (gt !== undefined) log.add(gtPath, 'top level', `${Array.isArray(gt) ? 'a list' : `a ${typeof gt}`}, not an object keyed by im_id; scene left out`);
    return [];
  }
  if (!isRecord(cam)) {
    if (cam !== undefined) log.add(camPath, 'top level', `${Array.isArray(cam) ? 'a list' : `a ${typeof cam}`}, not an object keyed by im_id; scene left out`);
    return [];
  }
  const gtInfo = isRecord(info) ? info : undefined;
  if (info !== undefined && !gtInfo) log.add(infoPath, 'top level', 'not an object keyed by im_id; boxes come from the projected models');

  // One header read per scene: BOP scenes share one camera and so one image size.
  const size = rootCamera ?? await sharedImageSize(source, [...rgbOf.values()], log, dir);

  const masks = maskFiles(byDir.get(`${dir}/mask`) ?? [], `${dir}/mask`, log);
  const masksVisib = maskFiles(byDir.get(`${dir}/mask_visib`) ?? [], `${dir}/mask_visib`, log);
  const gtCount = new Map<number, number>();
  const depths = new Map<number, string>();
  for (const p of byDir.get(`${dir}/depth`) ?? []) depths.set(Number(stem(p)), p);

  const images: DatasetImage[] = [];
  const noRgb: string[] = [];
  /** obj_id -> the scene_gt entries naming it ("<im_id>"[<index>]). */
  const unknownObj = new Map<number, string[]>();
  const kCache = new Map<string, Float64Array>();
  const imIds = Object.keys(gt).sort((a, b) => Number(a) - Number(b));
  // Masks match scene_gt.json's entries, whether or not their image loads (a lost image is reported on its own).
  for (const key of imIds) {
    const v = gt[key];
    if (Array.isArray(v) && /^\d+$/.test(key)) gtCount.set(Number(key), v.length);
  }
  for (const key of imIds) {
    const imId = Number(key);
    if (!Number.isInteger(imId)) {
      log.add(gtPath, `"${key}"`, 'not an im_id; skipped');
      continue;
    }
    const rgbPath = rgbOf.get(imId);
    if (!rgbPath) {
      noRgb.push(key);
      continue;
    }
    const camEntry = cam[key];
    const kRaw = isRecord(camEntry) ? numberArray(camEntry.cam_K, 9) : undefined;
    const kWhy = !isRecord(camEntry) ? 'missing' : !kRaw ? 'missing or not 9 numbers' : checkCamK(kRaw);
    if (kWhy || !kRaw) {
      log.add(camPath, `"${key}".cam_K`, `${kWhy}; image left out`);
      continue;
    }
    const kStr = kRaw.join(',');
    let kPx = kCache.get(kStr);
    if (!kPx) kCache.set(kStr, (kPx = Float64Array.from(kRaw)));
    const depthScale = isRecord(camEntry) && typeof camEntry.depth_scale === 'number' ? camEntry.depth_scale : undefined;
    const gts = gt[key];
    if (!Array.isArray(gts)) {
      log.add(gtPath, `"${key}"`, 'not a list of ground-truth poses; image left out');
      continue;
    }
    const infos = gtInfo && Array.isArray(gtInfo[key]) ? (gtInfo[key] as unknown[]) : undefined;
    const image: DatasetImage = {
      key: `${split}/${scene}/${imId}`,
      split,
      scene,
      imId,
      rgbPath,
      depthPath: depths.get(imId),
      depthScale,
      kPx,
      widthPx: size.widthPx,
      heightPx: size.heightPx,
      instances: [],
    };
    gts.forEach((g, gtId) => {
      const field = `"${key}"[${gtId}]`;
      if (!isRecord(g)) {
        log.add(gtPath, field, 'not an object; instance left out');
        return;
      }
      const objId = g.obj_id;
      if (typeof objId !== 'number' || !Number.isInteger(objId)) {
        log.add(gtPath, `${field}.obj_id`, 'missing or not an integer; instance left out');
        return;
      }
      const obj = objById.get(objId);
      if (!obj) {
        unknownObj.set(objId, [...(unknownObj.get(objId) ?? []), field]);
        return;
      }
      const r = numberArray(g.cam_R_m2c, 9);
      const rWhy = r ? checkRotation(r) : 'missing or not 9 numbers';
      if (rWhy || !r) {
        log.add(gtPath, `${field}.cam_R_m2c`, `${rWhy}; instance left out`, 'cam_R_m2c: not a rotation');
        return;
      }
      const t = numberArray(g.cam_t_m2c, 3);
      const tWhy = t ? checkTranslation(t) : 'missing or not 3 numbers';
      if (tWhy || !t) {
        log.add(gtPath, `${field}.cam_t_m2c`, `${tWhy}; instance left out`, 'cam_t_m2c');
        return;
      }
      const proj = projectedBoxPx(boxCorners(obj.boundsMm), r, t, kPx!);
      const outside = proj ? checkBoxInImage(proj, image.widthPx, image.heightPx) : undefined;
      if (outside) {
        log.add(gtPath, field, `obj_id ${objId} ${outside}; instance left out`, 'pose projects outside the image');
        return;
      }
      const inf = infos && isRecord(infos[gtId]) ? (infos[gtId] as Record<string, unknown>) : undefined;
      const bboxObj = inf ? numberArray(inf.bbox_obj, 4) : undefined;
      const bboxVisib = inf ? numberArray(inf.bbox_visib, 4) : undefined;
      if (infos && !inf) log.add(infoPath, field, 'missing or not an object; the box comes from the projected model', 'gt_info entry missing');
      if (inf) {
        // Wrong-typed boxes and fractions are said, then replaced (boxes from the projection, fraction unknown).
        for (const [k, v] of [['bbox_obj', bboxObj], ['bbox_visib', bboxVisib]] as const) {
          if (inf[k] !== undefined && !v) log.add(infoPath, `${field}.${k}`, `${JSON.stringify(inf[k]).slice(0, 60)} is not 4 numbers [x, y, w, h]; not used`, `${k} not 4 numbers`);
          else if (v && (v[2] < -1 || v[3] < -1)) log.add(infoPath, `${field}.${k}`, `width or height ${v[2]}, ${v[3]} is negative; not used`, `${k} negative`);
        }
        const vf = inf.visib_fract;
        if (vf !== undefined && !(typeof vf === 'number' && vf >= 0 && vf <= 1)) log.add(infoPath, `${field}.visib_fract`, `${JSON.stringify(vf)} is not a number in [0, 1]; not used`, 'visib_fract');
      }
      const maskKey = `${imId}_${gtId}`;
      const instance: Instance = {
        objId,
        gtId,
        rM2c: Float64Array.from(r),
        tM2cMm: Float64Array.from(t),
        bboxPx: bboxObj && bboxObj[2] > 0 && bboxObj[3] > 0 ? (bboxObj as BoxPx) : proj ? clipBox(proj, image.widthPx, image.heightPx) : [0, 0, image.widthPx, image.heightPx],
        bboxVisibPx: bboxVisib && bboxVisib[2] >= 0 ? (bboxVisib as BoxPx) : undefined,
        visibFract: inf && typeof inf.visib_fract === 'number' && inf.visib_fract >= 0 && inf.visib_fract <= 1 ? inf.visib_fract : undefined,
        maskPath: masks.get(maskKey),
        maskVisibPath: masksVisib.get(maskKey),
      };
      image.instances.push(instance);
    });
    images.push(image);
  }
  if (noRgb.length > 0) log.add(`${dir}/rgb`, '', `no image file for im_id ${listSome(noRgb)} listed in scene_gt.json; left out`);
  const unlisted = [...rgbOf.keys()].filter((id) => !(String(id) in gt));
  if (unlisted.length > 0) log.add(gtPath, '', `no entry for im_id ${listSome(unlisted)} that have rgb files; those images are left out`);
  for (const [sub, m] of [['mask', masks], ['mask_visib', masksVisib]] as const) {
    const stray = [...m.entries()].filter(([k]) => {
      const [im, g] = k.split('_').map(Number);
      return !(g < (gtCount.get(im) ?? 0));
    });
    if (stray.length > 0) {
      log.add(`${dir}/${sub}`, '', `${stray.length} mask file${stray.length === 1 ? '' : 's'} match no ground-truth instance (<im_id>_<gt_id> not in scene_gt.json): ${listSome(stray.map(([, p]) => basename(p)))}; not used`);
    }
  }
  for (const [objId, entries] of unknownObj) {
    const n = entries.length;
    log.add(gtPath, `${entries[0]}.obj_id`,
      `obj_id ${objId} is not in ${modelsFolder}/; left out: ${n === 1 ? 'the instance' : `${n} instances`} at ${listSome(entries)} ("im_id"[index])`);
  }
  return images;
}
