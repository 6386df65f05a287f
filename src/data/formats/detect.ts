import { dirname } from '../source/paths';

/**
 * Which layout a list of paths holds, and where its root is (a dropped folder or zip usually adds a
 * leading folder: 'lm/models/...', 'LINEMOD/cat/JPEGImages/...').
 *   BOP:    <root><split>/<scene>/{scene_gt.json, scene_camera.json}, <root>models[_<type>][_eval]/{models_info.json, obj_<id>.ply}
 *   PVNet:  <class dir>{JPEGImages/, mask/, pose/pose<i>.npy, <class>.ply}           (clean-pvnet's LINEMOD layout)
 *   custom: <class dir>{rgb/, mask/, pose/pose<i>.npy, model.ply (mm), camera.txt}  (clean-pvnet's custom layout)
 * A PVNet class folder may be the source itself (the user pointed at 'cat/', not at its parent): its name
 * then comes from the source's label.
 */
export interface PvnetClass {
  name: string;
  /** The class folder with a trailing '/', or '' when the source is the class folder itself. */
  dir: string;
  layout: 'linemod' | 'custom';
}

export type Detected =
  | { format: 'bop'; root: string; otherRoots: string[] }
  | { format: 'pvnet'; root: string; classes: PvnetClass[]; otherRoots: string[] }
  | { format: 'none'; lookedFor: string; top: string[] };

export const kLayoutsLookedFor =
  'BOP (<split>/<scene>/scene_gt.json or scene_camera.json, models[_<type>][_eval]/models_info.json or obj_<id>.ply), ' +
  "PVNet's LINEMOD layout (<class>/JPEGImages/, <class>/pose/pose<i>.npy) and clean-pvnet's custom layout (rgb/, mask/, pose/pose<i>.npy, model.ply, camera.txt)";

/** Scene files only: an rgb/ folder alone is also clean-pvnet's custom layout, so it does not make a BOP scene. */
const kBopScene = /^((?:.*\/)?)([^/]+)\/([^/]+)\/(?:scene_gt\.json|scene_camera\.json)$/;
/** BOP model folders: models, models_cad, models_reconst, models_eval, models_cad_eval, ... */
export const kBopModelsDir = /^models(?:_[A-Za-z0-9]+)*$/;
const kBopModels = /^((?:.*\/)?)(models(?:_[A-Za-z0-9]+)*)\/(?:models_info\.json|obj_\d+\.ply)$/;
const kPvnetMarker = /^((?:.*\/)?)(JPEGImages\/[^/]+|pose\/pose\d+\.npy|rgb\/[^/]+)$/;

/** label: the source's own name, which names a class folder given directly ('cat', 'cat.zip'). */
export function detectFormat(paths: readonly string[], label = ''): Detected {
  const bopRoots = new Map<string, number>();
  const classDirs = new Map<string, { jpeg: number; pose: number; rgb: number }>();
  for (const p of paths) {
    let m = kBopScene.exec(p);
    if (m && !kBopModelsDir.test(m[2])) {
      bopRoots.set(m[1], (bopRoots.get(m[1]) ?? 0) + 1);
      continue;
    }
    m = kBopModels.exec(p);
    if (m) {
      bopRoots.set(m[1], (bopRoots.get(m[1]) ?? 0) + 1);
      continue;
    }
    m = kPvnetMarker.exec(p);
    if (m) {
      let c = classDirs.get(m[1]);
      if (!c) classDirs.set(m[1], (c = { jpeg: 0, pose: 0, rgb: 0 }));
      if (m[2].startsWith('JPEGImages/')) c.jpeg++;
      else if (m[2].startsWith('pose/')) c.pose++;
      else c.rgb++;
    }
  }
  if (bopRoots.size > 0) {
    const sorted = [...bopRoots.entries()].sort((a, b) => b[1] - a[1] || a[0].length - b[0].length);
    return { format: 'bop', root: sorted[0][0], otherRoots: sorted.slice(1).map((e) => e[0]) };
  }
  // A class folder: JPEGImages/ (LINEMOD layout), or rgb/ beside pose/ (the custom layout; rgb/ alone is not enough).
  const byRoot = new Map<string, PvnetClass[]>();
  for (const [dir, c] of classDirs) {
    if (c.jpeg === 0 && c.pose === 0) continue;
    const layout = c.jpeg === 0 && c.rgb > 0 ? 'custom' : 'linemod';
    const trimmed = dir.replace(/\/$/, '');
    const name = trimmed ? trimmed.slice(trimmed.lastIndexOf('/') + 1) : classNameOfLabel(label);
    const root = trimmed ? (dirname(trimmed) ? `${dirname(trimmed)}/` : '') : '';
    // The class folder given directly has no parent inside the source: its root is '' too, so key it apart.
    const key = trimmed ? root : '\u0000self';
    let l = byRoot.get(key);
    if (!l) byRoot.set(key, (l = []));
    l.push({ name, dir, layout });
  }
  if (byRoot.size > 0) {
    const sorted = [...byRoot.entries()].sort((a, b) => b[1].length - a[1].length || a[0].length - b[0].length);
    const rootOf = (k: string) => (k === '\u0000self' ? '' : k);
    return {
      format: 'pvnet',
      root: rootOf(sorted[0][0]),
      classes: sorted[0][1].sort((a, b) => a.name.localeCompare(b.name)),
      otherRoots: sorted.slice(1).map((e) => rootOf(e[0])),
    };
  }
  return { format: 'none', lookedFor: kLayoutsLookedFor, top: topEntries(paths) };
}

/** 'cat', 'cat.zip', '/data/linemod/cat/' -> 'cat'. */
function classNameOfLabel(label: string): string {
  const base = label.replace(/[\\/]+$/, '').split(/[\\/]/).pop() ?? '';
  return base.replace(/\.zip$/i, '') || 'object';
}

/** The first entries at the top of a source, folders with a trailing '/', for "what was found". */
export function topEntries(paths: readonly string[], n = 12): string[] {
  const top = new Set<string>();
  for (const p of paths) {
    const i = p.indexOf('/');
    top.add(i < 0 ? p : `${p.slice(0, i)}/`);
  }
  const all = [...top].sort();
  return all.length > n ? [...all.slice(0, n), `… (${all.length} in all)`] : all;
}

/** Paths under a folder prefix (with trailing '/'), for quick per-folder lookups. */
export function indexByDir(paths: readonly string[]): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const p of paths) {
    const d = dirname(p);
    let l = m.get(d);
    if (!l) m.set(d, (l = []));
    l.push(p);
  }
  return m;
}
