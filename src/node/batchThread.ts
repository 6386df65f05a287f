/**
 * The training batches cut on a thread of their own (batchThread.worker.ts), for `npm run train` on the CPU
 * backends: the crops, the localiser's views and the heatmap targets are JavaScript work on the dataset's
 * images (resampling, augmentation), which on the first thread ran between the keypoint network's kernels. On
 * their own thread they are cut while the network computes (the engine reads the next batch during each step),
 * the same bytes (a batch is a function of its step: TrainBatches).
 */
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { availableParallelism } from 'node:os';
import { ThreadCalls } from '../train/threadCalls';
import type { BatchSource, TrainBatch } from '../train/trainBatches';
import type { BatchThreadArgs, BatchThreadService } from './batchThread.worker';
import { startWorkerThread } from './workerThread';

export interface BatchThread extends BatchSource {
  /** The training images the thread could not read, each with the reason naming the file. */
  unreadable(): { file: string; reason: string }[];
  /** The thread's failure, once it has failed, exited or been stopped; else null. */
  readonly failure: Error | null;
  dispose(): void;
}

/**
 * Where `npm run train` cuts its batches: on their own thread on a CPU backend with a second core, else on the
 * first. `where` says which, and why not a thread of their own when they could have had one (the thread did not
 * start: training goes on, more slowly). onUnreadable is told of each training image the thread cannot read.
 * Should the thread fail during the run, the batches from then on are cut on the first thread by `fallback`
 * (the same bytes), after `say` has told why: the run goes on.
 */
export async function placeBatches(backend: string, args: BatchThreadArgs, onUnreadable: (reason: string) => void,
  fallback: () => BatchSource, say: (message: string) => void): Promise<{ batches?: BatchThread; where: string }> {
  if (backend !== 'wasm' && backend !== 'cpu') return { where: 'batches cut on the first thread' };
  if (availableParallelism() < 2) return { where: 'batches cut on the first thread (one core)' };
  let thread: BatchThread;
  try {
    thread = await startBatchThread(args, onUnreadable);
  } catch (e) {
    return { where: `batches cut on the first thread (their own thread did not start: ${e instanceof Error ? e.message : String(e)})` };
  }
  let first: BatchSource | null = null;
  const batches: BatchThread = {
    load: async (step) => {
      if (first) return first.load(step);
      try {
        return await thread.load(step);
      } catch (e) {
        // A batch's own error (no training image readable) is the run's; the thread's failure is not.
        if (!thread.failure || first) throw e;
        say(`${thread.failure.message}: batches cut on the first thread from step ${step}`);
        first = fallback();
        return first.load(step);
      }
    },
    unreadable: () => thread.unreadable(),
    get failure() { return thread.failure; },
    dispose: () => thread.dispose(),
  };
  return { batches, where: 'batches cut on a thread of their own' };
}

/** The file name of batchThread.worker.ts's own bundle in the kit (scripts/kit/bundle.ts's define); undefined from source. */
declare const __POSELAB_BATCH_THREAD_BUNDLE__: string | undefined;

/**
 * Starts the thread on args's dataset; resolves once it has opened it, else rejects saying why. Once the thread
 * fails, exits or is disposed, every load (pending or later) rejects with the reason: a step never waits forever.
 */
export async function startBatchThread(args: BatchThreadArgs, onUnreadable: (reason: string) => void = () => {}): Promise<BatchThread> {
  const { worker, failed, stop } = startWorkerThread('batches\'', typeof __POSELAB_BATCH_THREAD_BUNDLE__ === 'string' ? __POSELAB_BATCH_THREAD_BUNDLE__ : undefined,
    new URL('./batchThread.worker.ts', import.meta.url));
  let stopped = false;
  const calls = new ThreadCalls(failed);
  const remote = Comlink.wrap<BatchThreadService>(nodeEndpoint(worker));
  const unreadable: { file: string; reason: string }[] = [];
  const dispose = (): void => {
    if (stopped) return;
    stopped = true;
    calls.fail(new Error('the batches\' thread was stopped'));
    remote[Comlink.releaseProxy]();
    stop();
  };
  const thread: BatchThread = {
    load: async (step: number): Promise<TrainBatch> => {
      const r = await calls.call(() => remote.load(step));
      for (const u of r.unreadable) {
        unreadable.push(u);
        onUnreadable(u.reason);
      }
      return r.batch;
    },
    unreadable: () => [...unreadable],
    get failure() { return calls.failure; },
    dispose,
  };
  try {
    await calls.call(() => remote.start(args));
  } catch (e) {
    dispose();
    throw e;
  }
  return thread;
}
