/**
 * The localiser's training steps on a second thread (localiserThread.worker.ts), for `npm run train`
 * and `bench:train` on the CPU backends: tfjs's wasm and cpu backends compute on one thread in Node,
 * so the keypoint network and the localiser, which share nothing within a step, can each have a core
 * (engine.ts).
 */
import * as Comlink from 'comlink';
import { availableParallelism } from 'node:os';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import type { CpuBackendName } from '../kernels/setup';
import type { LocaliserConfig, OptimConfig } from '../train/config';
import type { LocaliserSteps } from '../train/localiser';
import { localiserStepsOn } from '../train/localiserService';
import type { LocaliserThreadService } from './localiserThread.worker';
import { startWorkerThread } from './workerThread';

/**
 * Where `npm run train` and `bench:train` train the localiser: on its own thread on a CPU backend with a
 * second core, else beside the keypoint network. `where` says which, and why not its own thread when it
 * could have had one (the thread did not start: training goes on, more slowly).
 */
export async function placeLocaliser(backend: string, cfg: LocaliserConfig, optim: OptimConfig): Promise<{ steps?: LocaliserSteps; where: string }> {
  if (backend !== 'wasm' && backend !== 'cpu') return { where: 'the localiser on the same device' };
  if (availableParallelism() < 2) return { where: 'the localiser on the same thread (one core)' };
  try {
    return { steps: await startLocaliserThread(backend, cfg, optim), where: 'the localiser on a second thread' };
  } catch (e) {
    return { where: `the localiser on the same thread (its own thread did not start: ${e instanceof Error ? e.message : String(e)})` };
  }
}

/**
 * The file name of localiserThread.worker.ts's own bundle, beside this code's, in the kit's bundles (set there by
 * esbuild's define, scripts/kit/bundle.ts); undefined when this runs from source (tsx, vitest).
 */
declare const __POSELAB_LOCALISER_THREAD_BUNDLE__: string | undefined;

/** Starts the thread on `backend` with a localiser of `cfg`; resolves once it is ready, else rejects saying why. */
export async function startLocaliserThread(backend: CpuBackendName, cfg: LocaliserConfig, optim: OptimConfig): Promise<LocaliserSteps> {
  const { worker, failed, stop } = startWorkerThread('localiser', typeof __POSELAB_LOCALISER_THREAD_BUNDLE__ === 'string' ? __POSELAB_LOCALISER_THREAD_BUNDLE__ : undefined,
    new URL('./localiserThread.worker.ts', import.meta.url));
  const remote = Comlink.wrap<LocaliserThreadService>(nodeEndpoint(worker));
  return localiserStepsOn({
    remote,
    failed,
    terminate: () => {
      remote[Comlink.releaseProxy]();
      stop();
    },
  }, backend, cfg, optim);
}
