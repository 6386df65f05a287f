import { camerasOf, countBySplit, isUsable, type Dataset } from './dataset';
import { vertexCount } from './mesh';
import { problemLine, type Problem } from './problems';

/** What `npm run dataset -- inspect` prints: a plain summary of a loaded dataset, as data and as text. */
export interface DatasetReport {
  source: string;
  format: string;
  name: string;
  usable: boolean;
  objects: { id: number; name: string; vertices: number; faces: number; diameterMm: number; symmetric: boolean; hasModel: boolean }[];
  splits: { split: string; images: number; instances: number }[];
  images: number;
  instances: number;
  cameras: { kPx: number[]; widthPx: number; heightPx: number; images: number }[];
  problems: Problem[];
}

export function reportOf(ds: Dataset): DatasetReport {
  const splits = countBySplit(ds);
  return {
    source: ds.source.label,
    format: ds.format,
    name: ds.name,
    usable: isUsable(ds),
    objects: ds.objects.map((o) => ({
      id: o.id,
      name: o.name,
      vertices: o.mesh ? vertexCount(o.mesh) : 0,
      faces: o.mesh ? o.mesh.faces.length / 3 : 0,
      diameterMm: o.diameterMm,
      symmetric: o.symmetric,
      hasModel: !!o.mesh,
    })),
    splits,
    images: ds.images.length,
    instances: splits.reduce((a, s) => a + s.instances, 0),
    cameras: camerasOf(ds).map((c) => ({ kPx: Array.from(c.kPx), widthPx: c.widthPx, heightPx: c.heightPx, images: c.images })),
    problems: ds.problems,
  };
}

export function reportText(r: DatasetReport): string {
  const lines: string[] = [];
  lines.push(`source:  ${r.source}`);
  lines.push(`format:  ${r.format === 'bop' ? 'BOP' : 'PVNet LINEMOD'} (${r.name})`);
  lines.push(`objects: ${r.objects.length}`);
  for (const o of r.objects) {
    const model = o.hasModel ? `${o.vertices} vertices, ${o.faces} faces` : 'no model';
    lines.push(`  ${String(o.id).padStart(3)} ${o.name.padEnd(14)} ${model}, diameter ${Number.isFinite(o.diameterMm) ? o.diameterMm.toFixed(1) : '?'} mm${o.symmetric ? ', symmetric' : ''}`);
  }
  lines.push(`splits:  ${r.splits.length}`);
  for (const s of r.splits) lines.push(`  ${s.split.padEnd(12)} ${s.images} images, ${s.instances} instances`);
  lines.push(`total:   ${r.images} images, ${r.instances} instances`);
  lines.push(`cameras: ${r.cameras.length}`);
  for (const c of r.cameras) {
    const k = c.kPx;
    lines.push(`  fx ${k[0].toFixed(4)} fy ${k[4].toFixed(4)} cx ${k[2].toFixed(4)} cy ${k[5].toFixed(4)}${k[1] ? ` skew ${k[1]}` : ''}  ${c.widthPx}x${c.heightPx} px  (${c.images} images)`);
  }
  lines.push(`problems: ${r.problems.length}`);
  for (const p of r.problems) lines.push(`  ${problemLine(p)}`);
  lines.push(r.usable ? 'usable: yes' : 'usable: NO (no image holds an instance of an object with a model)');
  return lines.join('\n');
}
