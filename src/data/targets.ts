import type { Dataset } from './dataset';
import { isRecord, readJson } from './formats/common';
import type { ProblemLog } from './problems';
import type { InstanceRef } from './samples';
import type { ByteSource } from './source/source';

/**
 * BOP test targets (test_targets_bop19.json at the dataset's root: [{scene_id, im_id, obj_id, inst_count}]):
 * the instances the BOP challenge scores. Where the file exists, evaluation and the results CSV cover
 * exactly these, as BOP's scores do (bop_toolkit scripts/eval_bop19_pose.py).
 */
export interface TestTarget {
  sceneId: number;
  imId: number;
  objId: number;
  instCount: number;
}

export interface TestTargets {
  /** Path of the file inside the source. */
  path: string;
  targets: TestTarget[];
}

export const kTargetFiles = ['test_targets_bop19.json', 'test_targets_bop24.json'];

/** Reads the first of kTargetFiles at root; every malformed entry is a problem line and is skipped. */
export async function loadTestTargets(source: ByteSource, root: string, has: Set<string>, log: ProblemLog): Promise<TestTargets | undefined> {
  const path = kTargetFiles.map((f) => `${root}${f}`).find((p) => has.has(p));
  if (!path) return undefined;
  const j = await readJson(source, path, log);
  if (j === undefined) return undefined;
  if (!Array.isArray(j)) {
    log.add(path, 'top level', 'not a list of {scene_id, im_id, obj_id, inst_count}; the whole test split is evaluated instead');
    return undefined;
  }
  const targets: TestTarget[] = [];
  j.forEach((t, i) => {
    if (!isRecord(t)) {
      log.add(path, `[${i}]`, 'not an object; skipped', 'target not an object');
      return;
    }
    for (const k of ['scene_id', 'im_id', 'obj_id', 'inst_count'] as const) {
      const v = t[k];
      if (typeof v !== 'number' || !Number.isInteger(v) || v < (k === 'inst_count' ? 1 : 0)) {
        log.add(path, `[${i}].${k}`, `${JSON.stringify(v) ?? 'missing'} is not a ${k === 'inst_count' ? 'positive' : 'non-negative'} integer; target skipped`, `target ${k}`);
        return;
      }
    }
    targets.push({ sceneId: t.scene_id as number, imId: t.im_id as number, objId: t.obj_id as number, instCount: t.inst_count as number });
  });
  return { path, targets };
}

/** BOP scene folders are numbers ('000001'); other scenes (PVNet classes) count as scene 0. */
export function sceneIdOf(scene: string): number {
  return /^\d+$/.test(scene) ? Number(scene) : 0;
}

/**
 * The instances evaluation covers: among the candidate images (a split's), those of objId; where the
 * dataset has test targets, only the targets' instances (per target at most inst_count, the visible
 * ones (visib_fract >= 0.1, BOP's threshold) first, then by gt_id). Says which set it is.
 */
export function evaluationInstances(ds: Dataset, imageIndices: readonly number[], objId: number): { refs: InstanceRef[]; how: string } {
  const refs: InstanceRef[] = [];
  const t = ds.testTargets;
  if (!t) {
    for (const i of imageIndices) ds.images[i].instances.forEach((ins, j) => { if (ins.objId === objId) refs.push({ image: i, instance: j }); });
    return { refs, how: `every instance of object ${objId} in the ${imageIndices.length} evaluation images (no test_targets_bop19.json)` };
  }
  const wanted = new Map<string, number>();
  for (const x of t.targets) if (x.objId === objId) wanted.set(`${x.sceneId}/${x.imId}`, (wanted.get(`${x.sceneId}/${x.imId}`) ?? 0) + x.instCount);
  let targetImages = 0;
  let missingInstances = 0;
  const seen = new Set<string>();
  for (const i of imageIndices) {
    const im = ds.images[i];
    const key = `${sceneIdOf(im.scene)}/${im.imId}`;
    const n = wanted.get(key);
    if (n === undefined || seen.has(key)) continue;
    seen.add(key);
    targetImages++;
    const cands = im.instances
      .map((ins, j) => ({ ins, j }))
      .filter((c) => c.ins.objId === objId)
      .sort((a, b) => Number((b.ins.visibFract ?? 1) >= 0.1) - Number((a.ins.visibFract ?? 1) >= 0.1) || a.ins.gtId - b.ins.gtId);
    const take = cands.slice(0, n);
    missingInstances += n - take.length;
    for (const c of take) refs.push({ image: i, instance: c.j });
  }
  refs.sort((a, b) => a.image - b.image || a.instance - b.instance);
  const notLoaded = wanted.size - targetImages;
  const gaps = notLoaded > 0 || missingInstances > 0
    ? ` (${notLoaded} target images not among the evaluation images, ${missingInstances} target instances without ground truth)`
    : '';
  return { refs, how: `the BOP test targets of ${t.path}: ${refs.length} instances of object ${objId} in ${targetImages} images${gaps}` };
}
