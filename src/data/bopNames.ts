/** Names the BOP toolkit's scripts expect and BOP's paths, shared by the command line and the page. */
/**
 * The results file name the BOP toolkit's scripts parse (scripts/eval_bop19_pose.py):
 * `<method>_<dataset>-<split>[-<split type>].csv`. The method may hold no '_' (the name is split on it),
 * so '_' and spaces become '-'; a split like T-LESS's 'test_primesense' is split 'test', type 'primesense'.
 */
export function bopResultsName(method: string, dataset: string, split: string): string {
  const clean = (s: string) => s.trim().replace(/[\s_]+/g, '-').replace(/[^A-Za-z0-9.-]/g, '') || 'x';
  const [base, ...type] = split.split('_');
  const splitPart = [base, ...type].map(clean).join('-');
  return `${clean(method)}_${clean(bopDatasetName(dataset))}-${splitPart}.csv`;
}

/** A dataset folder's BOP name: 'lm', 'lmo', 'tless', ... from '/data/bop/tless/' or 'lmo_test_all.zip'. */
export function bopDatasetName(nameOrPath: string): string {
  const base = nameOrPath.replace(/[\\/]+$/, '').split(/[\\/]/).pop() ?? '';
  return base.replace(/\.zip$/i, '').replace(/_(?:base|models|test.*|train.*|val.*)$/i, '').toLowerCase() || 'dataset';
}

/**
 * BOP scene and image ids from a path <...>/<scene digits>/<rgb|gray>/<im digits>.<png|jpg|jpeg>, when it is
 * one (the BOP toolkit's image folders; any other folder between the numbers, such as 2024/trip/0001.jpg, is
 * not a BOP path).
 */
export function bopIdsOf(path: string): { sceneId: number; imId: number } | undefined {
  const m = /(?:^|\/)(\d+)\/(?:rgb|gray)\/(\d+)\.(?:png|jpe?g)$/i.exec(path);
  return m ? { sceneId: Number(m[1]), imId: Number(m[2]) } : undefined;
}
