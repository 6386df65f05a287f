import { camerasOf, countBySplit, isUsable, type Dataset } from './dataset';
import { vertexCount } from './mesh';
import { problemLine, type Problem } from './problems';
import { ignoredMessage } from './source/paths';

/** What `npm run dataset -- inspect` prints: a plain summary of a loaded dataset, as data and as text. */
export interface DatasetReport {
  source: string;
  format: string;
  name: string;
  usable: boolean;
  objects: { id: number; name: string; vertices: number; faces: number; diameterMm: number; symmetric: boolean; hasModel: boolean }[];
  /** masks / masksVisib: instances with a full / visible-part mask file that passed the checks. */
  splits: { split: string; images: number; instances: number; masks: number; masksVisib: number }[];
  /** OS and tool litter the source left out (__MACOSX/, ._*, .DS_Store, hidden entries). */
  ignored: { count: number; examples: string[] };
  /** What evaluation uses: the models_eval meshes (per object) and the BOP test targets file, when present. */
  evaluation: { evalModels: { id: number; path: string }[]; targets?: { path: string; targets: number; instances: number } };
  images: number;
  instances: number;
  cameras: { kPx: number[]; widthPx: number; heightPx: number; images: number }[];
  problems: Problem[];
}

export function reportOf(ds: Dataset): DatasetReport {
  const splits = countBySplit(ds);
  return {
    source: ds.source.label,
    format: ds.layout ?? ds.format,
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
    evaluation: {
      evalModels: ds.objects.filter((o) => o.evalMeshPath).map((o) => ({ id: o.id, path: o.evalMeshPath! })),
      targets: ds.testTargets && {
        path: ds.testTargets.path,
        targets: ds.testTargets.targets.length,
        instances: ds.testTargets.targets.reduce((a, t) => a + t.instCount, 0),
      },
    },
    ignored: { count: ds.source.ignored?.count ?? 0, examples: [...(ds.source.ignored?.examples ?? [])] },
    images: ds.images.length,
    instances: splits.reduce((a, s) => a + s.instances, 0),
    cameras: camerasOf(ds).map((c) => ({ kPx: Array.from(c.kPx), widthPx: c.widthPx, heightPx: c.heightPx, images: c.images })),
    problems: ds.problems,
  };
}

export function reportText(r: DatasetReport): string {
  const lines: string[] = [];
  lines.push(`source:  ${r.source}`);
  const layoutName: Record<string, string> = { bop: 'BOP', pvnet: 'PVNet LINEMOD', 'pvnet-custom': 'clean-pvnet custom', unknown: 'unknown' };
  lines.push(r.format === 'unknown' ? 'format:  unknown' : `format:  ${layoutName[r.format] ?? r.format} (${r.name})`);
  if (r.ignored.count > 0) lines.push(`litter:  ${ignoredMessage(r.ignored)}`);
  lines.push(`objects: ${r.objects.length}`);
  for (const o of r.objects) {
    const model = o.hasModel ? `${o.vertices} vertices, ${o.faces} faces` : 'no model';
    lines.push(`  ${String(o.id).padStart(3)} ${o.name.padEnd(14)} ${model}, diameter ${Number.isFinite(o.diameterMm) ? o.diameterMm.toFixed(1) : '?'} mm${o.symmetric ? ', symmetric' : ''}`);
  }
  lines.push(`splits:  ${r.splits.length}`);
  for (const s of r.splits) lines.push(`  ${s.split.padEnd(12)} ${s.images} images, ${s.instances} instances, masks ${s.masks}, visible masks ${s.masksVisib}`);
  lines.push(`total:   ${r.images} images, ${r.instances} instances`);
  const ev = r.evaluation;
  if (ev.evalModels.length > 0) lines.push(`metrics: evaluation models ${ev.evalModels.map((m) => m.path).slice(0, 3).join(', ')}${ev.evalModels.length > 3 ? ', …' : ''} (ADD(-S), 2D projection)`);
  if (ev.targets) lines.push(`targets: ${ev.targets.path}, ${ev.targets.targets} targets, ${ev.targets.instances} instances (evaluation covers exactly these)`);
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
