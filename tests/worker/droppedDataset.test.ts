/**
 * The README's promise about dropped datasets across reloads, through the worker's EngineHost: a drop of up
 * to 512 MB (kMaxStoredDatasetBytes) is kept with its files, a larger one is remembered without them, and
 * a saved run whose dataset was too large says so and asks for the drop again. The store is held in
 * memory here (Node has no IndexedDB); what the host decides to keep is what is tested.
 */
import { zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EngineHost } from '../../src/worker/host';
import type { DroppedBlob } from '../../src/worker/protocol';
import { kMaxStoredDatasetBytes, runStore, type StoredDropped, type StoredRun } from '../../src/worker/runStore';
import { bopFixture } from '../data/fixtures';

const saved = new Map<string, unknown>();
const original = { ...runStore };

beforeAll(() => {
  runStore.saveDropped = async (d) => { saved.set('dropped', d); };
  runStore.loadDropped = async () => saved.get('dropped') as StoredDropped | undefined;
  runStore.saveRun = async (r) => { saved.set('run', r); };
  runStore.loadRun = async () => saved.get('run') as StoredRun | undefined;
  runStore.clearRun = async () => { saved.delete('run'); };
});

afterAll(() => {
  Object.assign(runStore, original);
});

/**
 * A file that reports `bytes` as its size without holding them (a 512 MB buffer would be copied twice
 * into this test's memory): the dataset's loader never reads a file it does not recognise, and the host
 * sums the sizes the browser reports.
 */
class SizedBlob extends Blob {
  constructor(private readonly reported: number) {
    super([]);
  }

  override get size(): number {
    return this.reported;
  }
}

/** The BOP fixture as dropped files, padded by one more file to `total` bytes in all. */
function dropOf(total: number): DroppedBlob[] {
  const files: DroppedBlob[] = [...bopFixture()].map(([path, bytes]) => ({ path, file: new Blob([new Uint8Array(bytes)]) }));
  const have = files.reduce((n, f) => n + f.file.size, 0);
  files.push({ path: 'lmfix/video-of-the-capture.mov', file: new SizedBlob(total - have) });
  return files;
}

const noProgress = () => undefined;

describe('dropped datasets kept across reloads', () => {
  const host = new EngineHost();

  it('a drop of exactly 512 MB is kept with its files; one byte more is remembered without them', async () => {
    expect(kMaxStoredDatasetBytes).toBe(512 * 2 ** 20);
    const atLimit = dropOf(kMaxStoredDatasetBytes);
    const s = await host.loadFiles('lmfix', atLimit, noProgress);
    expect(s.usable, 'the fixture loads').toBe(true);
    const kept = saved.get('dropped') as StoredDropped;
    expect(kept.bytes).toBe(kMaxStoredDatasetBytes);
    expect(kept.files, 'the files of a 512 MB drop').toBe(atLimit);

    await host.loadFiles('lmfix', dropOf(kMaxStoredDatasetBytes + 1), noProgress);
    const over = saved.get('dropped') as StoredDropped;
    expect(over.bytes).toBe(kMaxStoredDatasetBytes + 1);
    expect(over.files, 'no files kept above 512 MB').toBeUndefined();
    expect(over.label).toBe(kept.label);
  });

  it('a saved run on a dataset too large to keep says so, and resuming asks for the drop again', async () => {
    const label = (saved.get('dropped') as StoredDropped).label;
    const run: StoredRun = {
      settings: host.presets().tiny, objId: 1, step: 3, totalSteps: 10, finished: false, savedAt: 0, checkpoint: {},
      history: [], evals: [], datasetLabel: label, datasetOrigin: 'dropped',
    };
    saved.set('run', run);
    const info = await host.savedRun();
    expect(info?.dataset).toEqual({ label, origin: 'dropped', readable: false, why: 'it was too large to keep (512 MB): drop it again' });
    // Another page load: nothing is open in the worker yet.
    await expect(new EngineHost().resumeSaved(noProgress)).rejects.toThrow(`the run's dataset (${label}) was too large to keep: drop it again, then resume`);
  });
});

describe('litter in dropped zips', () => {
  it('is said on the page once, for split zips as the one tree they merge into', async () => {
    // Each half of the fixture zipped as macOS's Archive Utility zips: a __MACOSX/ twin of every file.
    const twin = new Uint8Array([0x00, 0x05, 0x16, 0x07, 0, 2, 0, 0]);
    const half = (keep: (p: string) => boolean) => {
      const files = [...bopFixture()].filter(([p]) => keep(p));
      return zipSync(Object.fromEntries([...files, ...files.map(([p]) => [`__MACOSX/${p.replace(/[^/]+$/, (b) => `._${b}`)}`, twin] as const)]));
    };
    const zips: DroppedBlob[] = [
      { path: 'lmfix_models.zip', file: new Blob([half((p) => p.includes('/models/'))]) },
      { path: 'lmfix_test.zip', file: new Blob([half((p) => !p.includes('/models/'))]) },
    ];
    const s = await new EngineHost().loadFiles('2 zips', zips, noProgress);
    expect(s.usable).toBe(true);
    const litter = s.problems.filter((p) => /OS or tool entr(y|ies) ignored/.test(p.message));
    expect(litter.map((p) => p.file)).toEqual(['2 zips']);
    // One __MACOSX/ for both zips: the merged tree's one folder.
    expect(litter[0].message).toMatch(/^1 OS or tool entry ignored \(.*\), e\.g\. __MACOSX\/$/);
  });
});

