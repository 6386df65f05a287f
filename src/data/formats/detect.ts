import { dirname } from '../source/paths';

/**
 * Which layout a list of paths holds, and where its root is (a dropped folder or zip usually adds a
 * leading folder: 'lm/models/...', 'LINEMOD/cat/JPEGImages/...').
 *   BOP:   <root><split>/<scene>/{scene_gt.json, scene_camera.json, rgb/...}, <root>models/models_info.json
 *   PVNet: <root><class>/{JPEGImages/, mask/, pose/pose<i>.npy, <class>.ply}
 */
export type Detected =
  | { format: 'bop'; root: string; otherRoots: string[] }
  | { format: 'pvnet'; root: string; classes: string[]; otherRoots: string[] }
  | { format: 'none' };

const kBopScene = /^((?:.*\/)?)([^/]+)\/([^/]+)\/(?:scene_gt\.json|scene_camera\.json|rgb\/[^/]+)$/;
const kBopModels = /^((?:.*\/)?)models\/models_info\.json$/;
const kPvnet = /^((?:.*\/)?)([^/]+)\/(?:pose\/pose\d+\.npy|JPEGImages\/[^/]+)$/;

export function detectFormat(paths: readonly string[]): Detected {
  const bopRoots = new Map<string, number>();
  const pvnet = new Map<string, Set<string>>();
  for (const p of paths) {
    let m = kBopScene.exec(p);
    if (m && m[2] !== 'models') {
      bopRoots.set(m[1], (bopRoots.get(m[1]) ?? 0) + 1);
      continue;
    }
    m = kBopModels.exec(p);
    if (m) {
      bopRoots.set(m[1], (bopRoots.get(m[1]) ?? 0) + 1);
      continue;
    }
    m = kPvnet.exec(p);
    if (m) {
      let s = pvnet.get(m[1]);
      if (!s) pvnet.set(m[1], (s = new Set()));
      s.add(m[2]);
    }
  }
  if (bopRoots.size > 0) {
    const sorted = [...bopRoots.entries()].sort((a, b) => b[1] - a[1]);
    return { format: 'bop', root: sorted[0][0], otherRoots: sorted.slice(1).map((e) => e[0]) };
  }
  if (pvnet.size > 0) {
    const sorted = [...pvnet.entries()].sort((a, b) => b[1].size - a[1].size);
    return { format: 'pvnet', root: sorted[0][0], classes: [...sorted[0][1]].sort(), otherRoots: sorted.slice(1).map((e) => e[0]) };
  }
  return { format: 'none' };
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
