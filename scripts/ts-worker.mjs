// A worker thread on a TypeScript entry (workerData.entry, a file URL): a thread gets none of the
// first thread's module hooks, so it registers tsx and the `?raw` loader itself, then imports the entry.
import { register } from 'tsx/esm/api';
import { workerData } from 'node:worker_threads';

register();
await import('./raw-loader.mjs');
await import(workerData.entry);
