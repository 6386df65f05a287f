import type { Dataset } from './dataset';
import { hashSeed, Rng } from './rng';

/**
 * Train/test split as image indices. 'dataset': the split the dataset defines (BOP folders whose name
 * starts with 'train' train, the rest test; PVNet's train.txt / test.txt). 'seeded': per scene (a
 * LINEMOD sequence, or a PVNet class), a seeded shuffle puts trainFraction of the images in train,
 * 15% by default as in LINEMOD practice (Brachmann et al. 2014; PVNet). 'auto': the dataset's split
 * when it has both parts, else seeded.
 */
export interface SplitOptions {
  mode: 'dataset' | 'seeded' | 'auto';
  trainFraction?: number;
  seed?: number;
}

export interface Split {
  train: number[];
  test: number[];
  /** What was done, for the UI and logs. */
  how: string;
  /**
   * True when the dataset's own split was not used (it had no train part, or no test part) and a seeded
   * split was made instead: hosts announce it, and a bundle records it, because the test part is then
   * smaller than the dataset's test split.
   */
  automatic: boolean;
}

export function splitDataset(ds: Dataset, opts: SplitOptions = { mode: 'auto' }): Split {
  if (opts.mode !== 'seeded') {
    const train: number[] = [];
    const test: number[] = [];
    ds.images.forEach((im, i) => (isTrainSplit(im.split) ? train : test).push(i));
    if (opts.mode === 'dataset' || (train.length > 0 && test.length > 0)) {
      return { train, test, how: `the dataset's own split (${ds.splits.join(', ')})`, automatic: false };
    }
  }
  const fraction = opts.trainFraction ?? 0.15;
  const seed = opts.seed ?? 0;
  const byScene = new Map<string, number[]>();
  ds.images.forEach((im, i) => {
    const key = `${im.split}/${im.scene}`;
    const l = byScene.get(key);
    if (l) l.push(i);
    else byScene.set(key, [i]);
  });
  const train: number[] = [];
  const test: number[] = [];
  for (const [scene, idx] of [...byScene].sort((a, b) => a[0].localeCompare(b[0]))) {
    // Sorted by key first, so the split depends on the images, not on the order they were listed in.
    idx.sort((a, b) => ds.images[a].imId - ds.images[b].imId || ds.images[a].key.localeCompare(ds.images[b].key));
    const rng = new Rng(hashSeed(seed, ...[...scene].map((ch) => ch.charCodeAt(0))));
    const shuffled = rng.shuffle([...idx]);
    const nTrain = Math.round(fraction * shuffled.length);
    train.push(...shuffled.slice(0, nTrain));
    test.push(...shuffled.slice(nTrain));
  }
  train.sort((a, b) => a - b);
  test.sort((a, b) => a - b);
  const pct = (fraction * 100).toFixed(0);
  const seeded = `seeded split: ${pct}% train per scene, seed ${seed}`;
  if (opts.mode === 'seeded') return { train, test, how: seeded, automatic: false };
  const had = ds.splits.length > 0 ? ds.splits.join(', ') : 'none';
  const why = ds.images.some((im) => isTrainSplit(im.split)) ? 'no test split' : 'no train* split';
  return {
    train,
    test,
    how: `automatic split: the dataset has ${why} (splits: ${had}), so a ${seeded}; evaluation, during training and of the bundle, covers the other ${100 - Number(pct)}%`,
    automatic: true,
  };
}

/**
 * The images of the dataset's own test split (every split not named train*, PVNet's test.txt), for
 * evaluating a finished model whose run did not split this dataset itself (after an automatic split, its
 * evaluation covers that split's test part: train/datasetTrainingData.ts). Undefined when the dataset
 * defines no test split (PVNet classes without lists: 'all').
 */
export function datasetTestImages(ds: Dataset): number[] | undefined {
  const out: number[] = [];
  ds.images.forEach((im, i) => {
    if (!isTrainSplit(im.split) && im.split !== 'all' && im.split !== 'unlisted') out.push(i);
  });
  return out.length > 0 ? out : undefined;
}

function isTrainSplit(name: string): boolean {
  return name.startsWith('train');
}
