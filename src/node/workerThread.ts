/**
 * A Node worker thread on one of src/node's `.worker.ts` entries: from source through scripts/ts-worker.mjs (a
 * thread gets none of the first thread's module hooks, so that file registers tsx and the `?raw` loader before
 * importing the TypeScript entry), or on the entry's own bundle in the kit (named by the caller's esbuild define,
 * scripts/kit/bundle.ts), which starts as it is.
 */
import { Worker } from 'node:worker_threads';

export interface WorkerThread {
  worker: Worker;
  /** Rejects, naming the thread, once it fails or exits: "the <name>'s thread failed / exited (code) / was stopped". */
  failed: Promise<never>;
  /** Ends the thread; `failed` then says it was stopped. */
  stop(): void;
}

/**
 * `name` is the thread's in messages ("localiser", "batches'" reads as "the batches' thread"); `bundle` the kit's
 * file name for it (undefined from source: callers read their define through typeof, as an undefined global
 * cannot be named); `entry` the .worker.ts file's URL.
 */
export function startWorkerThread(name: string, bundle: string | undefined, entry: URL): WorkerThread {
  const worker = typeof bundle === 'string'
    ? new Worker(new URL(`./${bundle}`, import.meta.url), { execArgv: [] })
    : new Worker(new URL('../../scripts/ts-worker.mjs', import.meta.url), { workerData: { entry: entry.href }, execArgv: [] });
  const thread = `the ${name}${name.endsWith('\'') ? '' : '\'s'} thread`;
  let stopped = false;
  const failed = new Promise<never>((_, reject) => {
    worker.once('error', (e) => reject(new Error(`${thread} failed: ${e.message}`)));
    worker.once('exit', (code) => reject(new Error(stopped ? `${thread} was stopped` : `${thread} exited (code ${code})`)));
  });
  failed.catch(() => undefined);
  return {
    worker,
    failed,
    stop: () => {
      stopped = true;
      void worker.terminate();
    },
  };
}
