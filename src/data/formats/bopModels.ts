/**
 * BOP's models (bop.ts loads the rest): the model folders the format names, the objects of
 * models_info.json with their meshes and symmetry, and the evaluation models (models_eval).
 */
import type { DatasetObject } from '../dataset';
import type { Box3 } from '../mesh';
import { listSome, type ProblemLog } from '../problems';
import type { ByteSource } from '../source/source';
import { isRecord, loadMesh, meshGeometry, readJson } from './common';
import { kBopModelsDir } from './detect';

const pad6 = (n: number): string => String(n).padStart(6, '0');

/**
 * The BOP format names model folders models[_<type>][_eval] (bop_toolkit docs/bop_datasets_format.md):
 * T-LESS ships models_cad, models_reconst and models_eval and no models/. Meshes come from the folder the
 * user named, else the first of models, models_cad, models_reconst, any other non-eval models_<type>;
 * the metrics use models_eval (or models_<type>_eval) when it exists, as the toolkit's evaluation does.
 */
export function modelFolders(paths: readonly string[], root: string, wanted: string | undefined, log: ProblemLog): { mesh: string; eval?: string } {
  const found = bopModelFolders(paths, root);
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

/** The model folders under a BOP root (root: '' or 'name/'): models[_<type>][_eval] holding models_info.json or obj_<id>.ply. */
export function bopModelFolders(paths: readonly string[], root: string): Set<string> {
  const found = new Set<string>();
  for (const p of paths) {
    if (!p.startsWith(root)) continue;
    const rest = p.slice(root.length);
    const i = rest.indexOf('/');
    if (i > 0 && kBopModelsDir.test(rest.slice(0, i)) && /^(?:models_info\.json|obj_\d+\.ply)$/.test(rest.slice(i + 1))) found.add(rest.slice(0, i));
  }
  return found;
}

/** Meshes of the evaluation models (models_eval/obj_<id>.ply), kept beside the training meshes. */
export async function attachEvalModels(source: ByteSource, root: string, evalDir: string, objects: DatasetObject[], has: Set<string>, log: ProblemLog): Promise<void> {
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

export async function loadObjects(source: ByteSource, root: string, modelsFolder: string, has: Set<string>, byDir: Map<string, string[]>, log: ProblemLog): Promise<DatasetObject[]> {
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
