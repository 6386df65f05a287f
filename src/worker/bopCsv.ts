/**
 * BOP results CSV (bop_toolkit's format, one line per estimate):
 *   scene_id,im_id,obj_id,score,R,t,time
 * R: 9 numbers row-major, t: 3 numbers in mm, both space-separated; time: seconds per image (the
 * network and the PnP), the same for every estimate of one image.
 */
import type { InstanceResult } from '../train/evaluate';

export function bopCsv(instances: readonly InstanceResult[]): string {
  const lines = ['scene_id,im_id,obj_id,score,R,t,time'];
  for (const r of instances) {
    const R = Array.from(r.R, (v) => v.toPrecision(8)).join(' ');
    const t = Array.from(r.tMm, (v) => v.toFixed(4)).join(' ');
    lines.push(`${r.sceneId},${r.imId},${r.objId},${r.score.toFixed(6)},${R},${t},${(r.timeMs / 1000).toFixed(6)}`);
  }
  return `${lines.join('\n')}\n`;
}
