/**
 * The localiser's thread in Node (started by localiserThread.ts): a LocaliserService on the same CPU
 * backend as the first thread, reached through comlink.
 */
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { parentPort } from 'node:worker_threads';
import type { CpuBackendName } from '../kernels/setup';
import type { LocaliserConfig, OptimConfig } from '../train/config';
import { LocaliserService } from '../train/localiserService';
import { useBackend } from './backend';

export class LocaliserThreadService extends LocaliserService {
  /** Selects the backend (as the command line does), then builds the localiser. */
  async start(backend: CpuBackendName, cfg: LocaliserConfig, optim: OptimConfig): Promise<void> {
    await useBackend(backend);
    this.init(cfg, optim);
  }
}

if (parentPort) Comlink.expose(new LocaliserThreadService(), nodeEndpoint(parentPort));
