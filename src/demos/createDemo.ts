/**
 * createDemo(kind, {seed}): the one way the command line, the tests and the page start a demo, so all
 * three run the same scene and the same optimiser for a given seed.
 */
import { CalibrationDemo, type CalibrationStep } from './calibration';
import type { DemoKind } from './demoInterface';
import { PoseEstimationDemo, type PoseEstimationStep } from './poseEstimation';
import { StructureFromMotionDemo, type StructureFromMotionStep } from './structureFromMotion';

export { kDemoKinds, type Demo, type DemoKind, type DemoStep } from './demoInterface';
export { CalibrationDemo, type CalibrationStep } from './calibration';
export { PoseEstimationDemo, type PoseEstimationStep } from './poseEstimation';
export { StructureFromMotionDemo, type StructureFromMotionStep } from './structureFromMotion';

export interface DemoOptions {
  seed: number;
  /** the optimiser's initial step size; each demo has its own tuned default */
  learningRate?: number;
}

export type AnyDemo = PoseEstimationDemo | StructureFromMotionDemo | CalibrationDemo;
export type AnyDemoStep = PoseEstimationStep | StructureFromMotionStep | CalibrationStep;

/**
 * The command line's and the page's default run length: each demo on seed 1 is then well inside the
 * accuracy its test asserts (tests/demos), on both backends.
 */
export const kDefaultIterations: Readonly<Record<DemoKind, number>> = { pose: 200, sfm: 200, calib: 150 };

export function createDemo(kind: 'pose', opts: DemoOptions): PoseEstimationDemo;
export function createDemo(kind: 'sfm', opts: DemoOptions): StructureFromMotionDemo;
export function createDemo(kind: 'calib', opts: DemoOptions): CalibrationDemo;
export function createDemo(kind: DemoKind, opts: DemoOptions): AnyDemo;
export function createDemo(kind: DemoKind, opts: DemoOptions): AnyDemo {
  switch (kind) {
    case 'pose': return new PoseEstimationDemo(opts);
    case 'sfm': return new StructureFromMotionDemo(opts);
    case 'calib': return new CalibrationDemo(opts);
  }
}

/** True when `s` names a demo (for argument parsing). */
export function isDemoKind(s: string): s is DemoKind {
  return s === 'pose' || s === 'sfm' || s === 'calib';
}

