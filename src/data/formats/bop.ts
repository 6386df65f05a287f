import type { Dataset, DatasetImage, DatasetObject, Instance, BoxPx } from '../dataset';
import { boxCorners, type Box3 } from '../mesh';
import { listSome, type ProblemLog } from '../problems';
import { basename, stem } from '../source/paths';
import type { ByteSource } from '../source/source';
import { checkBoxInImage, checkCamK, checkRotation, checkTranslation, clipBox, projectedBoxPx } from '../validate';
import { isRecord, loadMesh, meshGeometry, numberArray, readJson, sharedImageSize } from './common';
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

const pad6 = (n: number): string => String(n).padStart(6, '0');

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

/**
 * The BOP format names model folders models[_<type>][_eval] (bop_toolkit docs/bop_datasets_format.md):
 * T-LESS ships models_cad, models_reconst and models_eval and no models/. Meshes come from the folder the
 * user named, else the first of models, models_cad, models_reconst, any other non-eval models_<type>;
 * the metrics use models_eval (or models_<type>_eval) when it exists, as the toolkit's evaluation does.
 */
function modelFolders(paths: readonly string[], root: string, wanted: string | undefined, log: ProblemLog): { mesh: string; eval?: string } {
  const found = new Set<string>();
  for (const p of paths) {
    if (!p.startsWith(root)) continue;
    const rest = p.slice(root.length);
    const i = rest.indexOf('/');
    if (i > 0 && kBopModelsDir.test(rest.slice(0, i)) && /^(?:models_info\.json|obj_\d+\.ply)$/.test(rest.slice(i + 1))) found.add(rest.slice(0, i));
  }
  const plain = [...found].filter((d) => !d.endsWith('_eval'));
  const evals = [...found].filter((d) => d.endsWith('_eval'));
  const rank = (d: string) => ['models', 'models_cad', 'models_reconst'].indexOf(d) >>> 0; // unknown names after the known ones
  plain.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  let mesh = plain[0] ?? evals[0] ?? 'models';
  if (wanted !== undefined) {
    if (found.has(wanted)) mesh = wanted;
    else log.add(`${root}${wanted}`, 'models folder', `not found (model folders here: ${[...found].sort().join(', ') || 'none'}); ${mesh} is used`);
  }
  if (plain.length > 1) log.add(`${root}${mesh}`, 'models folder', `meshes come from ${mesh}/ (also here: ${plain.filter((d) => d !== mesh).join(', ')}; name another to use it)`);
  // models_eval pairs with models; models_cad_eval with models_cad; a lone models_eval serves any.
  const evalDir = evals.find((d) => d === `${mesh}_eval`) ?? evals.find((d) => d === 'models_eval') ?? evals[0];
  return { mesh, eval: evalDir && evalDir !== mesh ? evalDir : undefined };
}

/** Meshes of the evaluation models (models_eval/obj_<id>.ply), kept beside the training meshes. */
async function attachEvalModels(source: ByteSource, root: string, evalDir: string, objects: DatasetObject[], has: Set<string>, log: ProblemLog): Promise<void> {
  const missing: number[] = [];
  const infoPath = `${root}${evalDir}/models_info.json`;
  const info = has.has(infoPath) ? await readJson(source, infoPath, log) : undefined;
  await Promise.all(objects.map(async (o) => {
    const inf = isRecord(info) ? info[String(o.id)] : undefined;
    if (isRecord(inf) && typeof inf.diameter === 'number' && inf.diameter > 0) o.evalDiameterMm = inf.diameter;
    const path = `${root}${evalDir}/obj_${pad6(o.id)}.ply`;
    if (!has.has(path)) {
      missing.push(o.id);
      return;
    }
    const mesh = await loadMesh(source, path, 1, log);
    if (mesh) {
      o.evalMesh = mesh;
      o.evalMeshPath = path;
      o.evalDiameterMm ??= meshGeometry(mesh).diameterMm;
    }
  }));
  if (missing.length > 0) log.add(`${root}${evalDir}`, '', `no evaluation model for obj_id ${listSome(missing.sort((a, b) => a - b))}; the metrics use their training meshes`);
}

async function loadObjects(source: ByteSource, root: string, modelsFolder: string, has: Set<string>, byDir: Map<string, string[]>, log: ProblemLog): Promise<DatasetObject[]> {
  const modelsDir = `${root}${modelsFolder}`;
  const infoPath = `${modelsDir}/models_info.json`;
  const info = has.has(infoPath) ? await readJson(source, infoPath, log) : undefined;
  if (!has.has(infoPath)) log.add(infoPath, '', 'missing: object sizes and symmetries come from the PLY files alone');
  const ids = new Set<number>();
  const infoOf = new Map<number, Record<string, unknown>>();
  if (info !== undefined && !isRecord(info)) log.add(infoPath, 'top level', 'not an object keyed by obj_id');
  if (isRecord(info)) {
    for (const [key, v] of Object.entries(info)) {
      const id = Number(key);
      if (!Number.isInteger(id) || id < 0 || !isRecord(v)) {
        log.add(infoPath, `"${key}"`, 'not an obj_id with an object of fields; skipped');
        continue;
      }
      ids.add(id);
      infoOf.set(id, v);
    }
  }
  for (const p of byDir.get(modelsDir) ?? []) {
    const m = /^obj_(\d+)\.ply$/.exec(p.slice(modelsDir.length + 1));
    if (m && !ids.has(Number(m[1]))) {
      ids.add(Number(m[1]));
      if (isRecord(info)) log.add(infoPath, `"${Number(m[1])}"`, `no entry for ${p}; its size is computed from the mesh`);
    }
  }
  const official = officialSymmetric(root || source.label);
  const objects = await Promise.all(
    [...ids].sort((a, b) => a - b).map(async (id): Promise<DatasetObject> => {
      const meshPath = `${modelsDir}/obj_${pad6(id)}.ply`;
      const mesh = has.has(meshPath) ? await loadMesh(source, meshPath, 1, log) : undefined;
      if (!has.has(meshPath)) log.add(meshPath, '', `missing: obj_id ${id} has no model, its instances cannot be used for training`);
      const inf = infoOf.get(id);
      const geo = mesh ? meshGeometry(mesh) : undefined;
      let diameterMm = geo?.diameterMm ?? NaN;
      let boundsMm: Box3 | undefined = geo?.boundsMm;
      if (inf) {
        if (typeof inf.diameter === 'number' && inf.diameter > 0) diameterMm = inf.diameter;
        else log.add(infoPath, `"${id}".diameter`, `${JSON.stringify(inf.diameter) ?? 'missing'}: missing or not a positive number${geo ? '; computed from the mesh' : ''}`);
        const mins = ['min_x', 'min_y', 'min_z'].map((k) => inf[k]);
        const sizes = ['size_x', 'size_y', 'size_z'].map((k) => inf[k]);
        const negative = ['size_x', 'size_y', 'size_z'].filter((k) => typeof inf[k] === 'number' && (inf[k] as number) < 0);
        if (negative.length > 0) {
          log.add(infoPath, `"${id}".${negative[0]}`, `${inf[negative[0]] as number} is negative; ${geo ? 'bounds computed from the mesh' : 'no bounds'}`);
        } else if ([...mins, ...sizes].every((v) => typeof v === 'number' && Number.isFinite(v))) {
          const mn = mins as number[];
          const sz = sizes as number[];
          boundsMm = { min: [mn[0], mn[1], mn[2]], max: [mn[0] + sz[0], mn[1] + sz[1], mn[2] + sz[2]] };
        } else if (!geo) {
          log.add(infoPath, `"${id}".min_x..size_z`, 'missing, and no mesh to compute the bounds from');
        }
      }
      const symmetric =
        !!inf &&
        ((Array.isArray(inf.symmetries_discrete) && inf.symmetries_discrete.length > 0) ||
          (Array.isArray(inf.symmetries_continuous) && inf.symmetries_continuous.length > 0));
      for (const k of ['symmetries_discrete', 'symmetries_continuous']) {
        if (inf && inf[k] !== undefined && !Array.isArray(inf[k])) log.add(infoPath, `"${id}".${k}`, `${JSON.stringify(inf[k]).slice(0, 40)} is not a list; read as no symmetry`);
      }
      return {
        id,
        name: `obj_${pad6(id)}`,
        mesh,
        meshPath: mesh ? meshPath : undefined,
        diameterMm,
        symmetric: inf || !official ? symmetric : official.ids.has(id),
        boundsMm: boundsMm ?? { min: [0, 0, 0], max: [0, 0, 0] },
      };
    }),
  );
  if (official) {
    for (const o of objects) {
      if (!infoOf.has(o.id)) continue;
      const listed = official.ids.has(o.id);
      if (listed !== o.symmetric) {
        log.add(infoPath, `"${o.id}".symmetries`, o.symmetric
          ? `obj_id ${o.id} has symmetries here but is not on ${official.name}'s official list of symmetric objects (bop_toolkit dataset_params); ADD-S is used as models_info says`
          : `obj_id ${o.id} has no symmetries here but is on ${official.name}'s official list of symmetric objects (bop_toolkit dataset_params); ADD is used as models_info says, which scores it stricter than BOP does`);
      }
    }
  }
  return objects;
}

/**
 * Symmetric objects of the BOP datasets whose list is known (bop_toolkit_lib/dataset_params.py,
 * symmetric_obj_ids): LM 3 bowl, 7 cup, 10 eggbox, 11 glue (the LINEMOD literature scores its 13 objects
 * with ADD-S for eggbox and glue); LM-O eggbox and glue; all 30 T-LESS objects; YCB-V's bowl, mug, cans...
 * The dataset is recognised by its folder's name ('lm', 'lmo', 'tless', 'ycbv' and common spellings).
 */
const kOfficialSymmetric: Record<string, { name: string; ids: number[] }> = {
  lm: { name: 'LM', ids: [3, 7, 10, 11] },
  lmo: { name: 'LM-O', ids: [10, 11] },
  tless: { name: 'T-LESS', ids: Array.from({ length: 30 }, (_, i) => i + 1) },
  ycbv: { name: 'YCB-V', ids: [1, 13, 14, 16, 18, 19, 20, 21] },
  tudl: { name: 'TUD-L', ids: [] },
  icbin: { name: 'IC-BIN', ids: [1] },
};

export function officialSymmetric(rootOrLabel: string): { name: string; ids: Set<number> } | undefined {
  const base = rootOrLabel.replace(/[\\/]+$/, '').split(/[\\/]/).pop() ?? '';
  const key = base.toLowerCase().replace(/\.zip$/, '').replace(/_(?:base|models|test.*|train.*|val.*)$/, '').replace(/[-_ ]/g, '');
  const alias: Record<string, string> = { linemod: 'lm', lmo: 'lmo', linemodoccluded: 'lmo', occlusion: 'lmo', occlusionlinemod: 'lmo', tless: 'tless', ycbv: 'ycbv', ycbvideo: 'ycbv' };
  const known = kOfficialSymmetric[alias[key] ?? key];
  return known ? { name: known.name, ids: new Set(known.ids) } : undefined;
}

/**
 * BOP mask files keyed '<im_id>_<gt_id>' by the numbers parsed from their names, as rgb files are matched
 * by theirs: any zero padding, any image extension ('000003_000001.png', '3_1.png'). Files not named
 * that way are listed, never skipped silently.
 */
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
  const unknownObj = new Map<number, number>();
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
        unknownObj.set(objId, (unknownObj.get(objId) ?? 0) + 1);
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
  for (const [objId, n] of unknownObj) {
    log.add(gtPath, 'obj_id', `obj_id ${objId} is not in ${modelsFolder}/ (${n} instances left out)`);
  }
  return images;
}
