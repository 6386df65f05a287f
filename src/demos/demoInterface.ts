/**
 * What the three demos have in common, so that the command line, the tests and the page drive them alike:
 * create with a seed, call step() until satisfied, dispose(). Each step is one optimiser update through
 * the bpnp op; its result carries the loss, the demo's own accuracy measure and the arrays to draw.
 */
export type DemoKind = 'pose' | 'sfm' | 'calib';

export const kDemoKinds: readonly DemoKind[] = ['pose', 'sfm', 'calib'];

export interface DemoStep {
  /** 0-based index of the update this step made */
  iteration: number;
  /** the loss before this update */
  loss: number;
  /** the demo's accuracy measure before this update (see `Demo.errorName`) */
  error: number;
  /** PnP problems of this step whose status was not Converged (they give no gradient) */
  failedPnp: number;
}

export interface Demo<S extends DemoStep = DemoStep> {
  readonly kind: DemoKind;
  /** what `error` measures, with its unit, e.g. 'keypoint error (px)' */
  readonly errorName: string;
  /** one optimiser update; the returned arrays are copies the caller may keep */
  step(): Promise<S>;
  /** frees the demo's tensors and variables */
  dispose(): void;
}
