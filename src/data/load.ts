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
}

/**
 * Bytes to the dataset model: detects the layout, loads it, and gathers every problem (the source's
 * own included). Never throws for a bad dataset: the result may be empty, with problems saying why.
 */
export async function loadDataset(source: ByteSource, opts: LoadOptions = {}): Promise<Dataset> {
  const log = new ProblemLog();
  log.addAll(source.problems);
  const found = detectFormat(source.paths);
  let ds: Dataset;
  if (found.format === 'none') {
    log.add(source.label, '', `neither a BOP dataset (<split>/<scene>/scene_gt.json, models/models_info.json) nor PVNet's LINEMOD layout (<class>/JPEGImages, <class>/pose) found among ${source.paths.length} files`);
    ds = { format: 'bop', name: source.label, objects: [], images: [], splits: [], problems: [], source };
  } else {
    for (const other of found.otherRoots) log.add(other || source.label, '', `a second dataset root; only ${found.root || 'the top level'} is loaded`);
    ds = found.format === 'bop' ? await loadBop(source, found.root, log) : await loadPvnet(source, found.root, found.classes, log);
  }
  if (opts.checkFiles) await checkFiles(ds, log, opts.checkFiles === true ? {} : opts.checkFiles);
  ds.problems = log.list();
  return ds;
}
