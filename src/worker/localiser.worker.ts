/**
 * The localiser's nested worker (started by localiserWorker.ts): a LocaliserService on the CPU backend
 * the training worker chose, reached through comlink.
 */
import * as Comlink from 'comlink';
import { useCpuBackend, type CpuBackendName } from '../kernels/setup';
import type { LocaliserConfig, OptimConfig } from '../train/config';
import { LocaliserService } from '../train/localiserService';
import { useServedWasmBinaries } from './wasmBinaries';

export class LocaliserWorkerService extends LocaliserService {
  /** Selects the backend, then builds the localiser. */
  async start(backend: CpuBackendName, cfg: LocaliserConfig, optim: OptimConfig): Promise<void> {
    if (backend === 'wasm') await useServedWasmBinaries();
    await useCpuBackend(backend);
    this.init(cfg, optim);
  }
}

Comlink.expose(new LocaliserWorkerService());
