/**
 * The localiser trained on another thread (EngineOptions.localiserSteps). The thread runs a
 * LocaliserService; the engine's thread reaches it through a LocaliserThread handle (a host's: a Node
 * worker thread, a nested Web Worker) wrapped by localiserStepsOn. The engine gives the service its
 * start state, sends each step's whole-image views and learning rate, and gets the losses and the
 * weights after the step back, so its own localiser (the one detection reads) stays equal to this one.
 */
import type { CpuBackendName } from '../kernels/setup';
import type { LocaliserConfig, OptimConfig } from './config';
import type { Normalisation } from './evaluate';
import { ThreadCalls } from './threadCalls';
import { Localiser, type LocaliserState, type LocaliserSteps, type LocaliserStepResult, type ViewSample } from './localiser';

export class LocaliserService {
  private localiser: Localiser | null = null;

  /** Builds the network; its weights come from setState (the engine's, before the first step). */
  init(cfg: LocaliserConfig, optim: OptimConfig): void {
    this.localiser?.dispose();
    this.localiser = new Localiser(cfg, optim, 0);
  }

  async trainStep(views: readonly ViewSample[], lr: number, norm: Normalisation): Promise<Required<LocaliserStepResult>> {
    const l = this.built();
    const r = await l.trainStep(views, lr, norm);
    return { centre: r.centre, size: r.size, weights: await l.getWeights() };
  }

  getState(): Promise<LocaliserState> {
    return this.built().getState();
  }

  setState(s: LocaliserState): void {
    this.built().setState(s);
  }

  private built(): Localiser {
    if (!this.localiser) throw new Error('LocaliserService: init() was not called');
    return this.localiser;
  }
}

/** The service's methods as another thread offers them (a comlink Remote of a host's LocaliserService). */
export interface RemoteLocaliserService {
  /** Starts `backend` on that thread (as the host does it there), then init(cfg, optim). */
  start(backend: CpuBackendName, cfg: LocaliserConfig, optim: OptimConfig): Promise<void>;
  trainStep(views: readonly ViewSample[], lr: number, norm: Normalisation): Promise<LocaliserStepResult>;
  getState(): Promise<LocaliserState>;
  setState(s: LocaliserState): Promise<void>;
}

/** A host's thread running a LocaliserService. */
export interface LocaliserThread {
  remote: RemoteLocaliserService;
  /** Rejects, with the reason, once the thread fails or exits. */
  failed: Promise<never>;
  /** Ends the thread. */
  terminate(): void;
}

/**
 * The engine's LocaliserSteps on a host's thread, once it has started `backend` and a localiser of
 * `cfg`; rejects saying why it could not (and ends the thread). Once the thread fails, exits or is
 * disposed, every call (pending or later) rejects with the reason: a step never waits forever.
 */
export async function localiserStepsOn(t: LocaliserThread, backend: CpuBackendName, cfg: LocaliserConfig, optim: OptimConfig): Promise<LocaliserSteps> {
  const calls = new ThreadCalls(t.failed);
  let disposed = false;
  const steps: LocaliserSteps = {
    trainStep: (views, lr, norm) => calls.call(() => t.remote.trainStep(views, lr, norm)),
    getState: () => calls.call(() => t.remote.getState()),
    setState: (s) => calls.call(() => t.remote.setState(s)),
    dispose: () => {
      if (disposed) return;
      disposed = true;
      calls.fail(new Error('the localiser\'s thread was stopped'));
      t.terminate();
    },
  };
  try {
    await calls.call(() => t.remote.start(backend, cfg, optim));
  } catch (e) {
    steps.dispose();
    throw e;
  }
  return steps;
}
