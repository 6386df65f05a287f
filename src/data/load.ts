import type { Dataset } from './dataset';
import { detectFormat } from './formats/detect';
import { loadBop } from './formats/bop';
import { loadPvnet } from './formats/pvnet';
import { ProblemLog } from './problems';
import type { ByteSource } from './source/source';
import { checkFiles, type CheckFilesOptions } from './validate';

export interface LoadOptions {
  /** Read every image's and mask's header (or, with checkFiles.decode, decode them) while loading. */
  checkFiles?: boolean | CheckFilesOptions;
  /** BOP: the models folder to take meshes from ('models_cad'), instead of the first of models, models_cad, models_reconst, .... */
  modelsDir?: string;
}

/**
 * For a source inside a BOP dataset (a split's folder, a scene's), a hint to give the dataset's folder;
 * '' otherwise. (One class folder of PVNet's LINEMOD layout loads as it is.)
 */
function partOfDataset(paths: readonly string[]): string {
  if (paths.some((p) => /^scene_(gt|camera)\.json$/.test(p))) {
    return '; this is a BOP scene folder (scene_gt.json, rgb/): give the dataset\'s folder, two above, which holds the split and the models';
  }
  if (paths.some((p) => /^[^/]+\/scene_(gt|camera)\.json$/.test(p))) {
    return '; these are a BOP split\'s scene folders (<scene>/scene_gt.json): give the dataset\'s folder, the one above, which holds the split and the models';
  }
  return '';
}

/**
 * Bytes to the dataset model: detects the layout, loads it, and gathers every problem (the source's
 * own included). Never throws for a bad dataset: the result may be empty, with problems saying why.
 */
export async function loadDataset(source: ByteSource, opts: LoadOptions = {}): Promise<Dataset> {
  const log = new ProblemLog();
  log.addAll(source.problems);
  const found = detectFormat(source.paths, source.label);
  let ds: Dataset;
  if (found.format === 'none') {
    const top = found.top.length > 0 ? `found at the top: ${found.top.join(', ')}` : 'the source holds no files';
    log.add(source.label, 'format', `unknown: none of the layouts looked for was found among ${source.paths.length} files; looked for ${found.lookedFor}; ${top}${partOfDataset(source.paths)}`);
    ds = { format: 'bop', layout: 'unknown', name: source.label, objects: [], images: [], splits: [], problems: [], source };
  } else {
    for (const other of found.otherRoots) log.add(other || source.label, '', `a second dataset root; only ${found.root || 'the top level'} is loaded`);
    ds = found.format === 'bop' ? await loadBop(source, found.root, log, opts) : await loadPvnet(source, found.root, found.classes, log);
  }
  if (opts.checkFiles) await checkFiles(ds, log, opts.checkFiles === true ? {} : opts.checkFiles);
  ds.problems = log.list();
  return ds;
}
