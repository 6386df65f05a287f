/**
 * The localiser's training steps in a nested worker (localiser.worker.ts) when the page trains on a
 * CPU backend: tfjs's wasm and cpu backends compute on the training worker's one thread, so the
 * keypoint network and the localiser, which share nothing within a step, can each have a core (engine.ts).
 */
import * as Comlink from 'comlink';
import type { CpuBackendName } from '../kernels/setup';
import type { LocaliserConfig, OptimConfig } from '../train/config';
import type { LocaliserSteps } from '../train/localiser';
import { localiserStepsOn } from '../train/localiserService';
import type { LocaliserWorkerService } from './localiser.worker';

/** Starts the worker on `backend` with a localiser of `cfg`; resolves once it is ready, else rejects saying why. */
export async function startLocaliserWorker(backend: CpuBackendName, cfg: LocaliserConfig, optim: OptimConfig): Promise<LocaliserSteps> {
  const worker = new Worker(new URL('./localiser.worker.ts', import.meta.url), { type: 'module' });
  const failed = new Promise<never>((_, reject) => {
    worker.addEventListener('error', (e) => reject(new Error(`the localiser's worker failed: ${e.message || 'it could not start'}`)), { once: true });
    worker.addEventListener('messageerror', () => reject(new Error('the localiser\'s worker received a message it could not read')), { once: true });
  });
  const remote = Comlink.wrap<LocaliserWorkerService>(worker);
  return localiserStepsOn({
    remote,
    failed,
    terminate: () => {
      remote[Comlink.releaseProxy]();
      worker.terminate();
    },
  }, backend, cfg, optim);
}
