/**
 * Demo 3 of BPnP (Chen et al., CVPR 2020, sec. 5.3; BoChenYS/BPnP demoCamCali.py): camera calibration
 * with the PnP layer. The intrinsics fx, fy, cx, cy are learnt from 2D-3D correspondences of a known
 * structure seen in B views whose poses are not given: each step builds K from the four parameters,
 * solves pose_b = bpnp(observed_b, structure, K) and minimises
 *   mean |project(pose_b, structure, K) - observed_b|^2   (px^2)
 * over the four parameters, the gradient reaching K directly and through bpnp's implicit derivative.
 *
 * The parameters are learnt in units of kScalePx (K entries = kScalePx * theta), so that Adam's step
 * size is a fraction of the image rather than a pixel count; it decays exponentially so the estimate
 * settles instead of dithering within one step of the truth.
 */
import * as tf from '@tensorflow/tfjs';
import type { Demo, DemoStep } from './demoInterface';
import { demoRng, intrinsicsMatrix, projectExact, viewFrom } from './scenes';
import { DemoFit, kDemoLearningRateDecay, solveAndProject } from './demoUpdate';
import { f32, variableFrom } from './tensors';

export interface CalibrationOptions {
  seed: number;
  /** Adam's initial step size, in units of kScalePx (default kCalibLearningRate) */
  learningRate?: number;
}

/** The fixed world of the demo; arrays are float64. */
export interface CalibrationScene {
  imageWidth: number;
  imageHeight: number;
  /** [4] fx, fy, cx, cy px: the truth to recover */
  trueIntrinsics: Float64Array;
  /** [4] fx, fy, cx, cy px: where learning starts */
  initialIntrinsics: Float64Array;
  n: number;
  /** number of views */
  B: number;
  /** [n,3] mm, the known structure */
  pts3d: Float64Array;
  /** [B,6] the views' true poses (never shown to the optimiser) */
  viewPoses: Float64Array;
  /** [B,n,2] px, the observations */
  observed: Float64Array;
}

export interface CalibrationStep extends DemoStep {
  /** [4] fx, fy, cx, cy px that produced this step's loss */
  intrinsics: Float64Array;
  /** [4] |estimate - truth| / truth of each */
  relativeErrors: Float64Array;
}

export const kIntrinsicNames = ['fx', 'fy', 'cx', 'cy'] as const;

// The paper's camera shape: an 800 x 600 image.
const kImageWidth = 800;
const kImageHeight = 600;
const kPoints = 16;
const kViews = 8;
/** A cloud of this size seen from this close has depth enough (+-33%) to tell a focal length from a
 * distance: from farther away the loss barely changes along that direction and Adam crawls along it. */
const kCloudSideMm = 300;
const kDistanceMm = 450;
const kMaxTiltRad = 0.8;
const kScalePx = 100;
export const kCalibLearningRate = 0.3;


export class CalibrationDemo implements Demo<CalibrationStep> {
  readonly kind = 'calib';
  readonly errorName = 'largest intrinsic relative error';
  readonly scene: CalibrationScene;
  private readonly pts3d: tf.Tensor2D;
  private readonly observed: tf.Tensor3D;
  /** [4] fx, fy, cx, cy in units of kScalePx */
  private readonly theta: tf.Variable;
  private readonly fit: DemoFit;

  constructor(opts: CalibrationOptions) {
    const rng = demoRng(opts.seed);
    const fx = rng.uniform(600, 1000);
    const trueIntrinsics = Float64Array.of(fx, fx * rng.uniform(0.85, 1.15),
      kImageWidth / 2 + rng.uniform(-40, 40), kImageHeight / 2 + rng.uniform(-40, 40));
    // A guess as one would make it: one focal length off by up to 30%, the principal point at the centre.
    const f0 = fx * rng.uniform(0.7, 1.3);
    const initialIntrinsics = Float64Array.of(f0, f0, kImageWidth / 2, kImageHeight / 2);
    const pts3d = Float64Array.from({ length: 3 * kPoints }, () => rng.uniform(-kCloudSideMm / 2, kCloudSideMm / 2));
    const viewPoses = new Float64Array(6 * kViews);
    for (let v = 0; v < kViews; v++) viewPoses.set(viewFrom(kDistanceMm, kMaxTiltRad, rng), 6 * v);
    const [tfx, tfy, tcx, tcy] = trueIntrinsics;
    const observed = projectExact(pts3d, viewPoses, intrinsicsMatrix(tfx, tfy, tcx, tcy));
    this.scene = { imageWidth: kImageWidth, imageHeight: kImageHeight, trueIntrinsics, initialIntrinsics, n: kPoints, B: kViews, pts3d, viewPoses, observed };
    this.pts3d = f32(pts3d, [kPoints, 3]) as tf.Tensor2D;
    this.observed = f32(observed, [kViews, kPoints, 2]) as tf.Tensor3D;
    this.theta = variableFrom(f32(Array.from(initialIntrinsics, (v) => v / kScalePx), [4]));
    this.fit = new DemoFit([this.pts3d, this.observed, this.theta], [this.theta], opts.learningRate ?? kCalibLearningRate, kDemoLearningRateDecay);
  }

  /** K [3,3] = [[fx, 0, cx], [0, fy, cy], [0, 0, 1]] from theta, differentiable in theta. */
  private K(): tf.Tensor2D {
    const [fx, fy, cx, cy] = tf.unstack(tf.mul(this.theta, kScalePx));
    const zero = tf.zeros([]);
    const one = tf.ones([]);
    return tf.stack([fx, zero, cx, zero, fy, cy, zero, zero, one]).reshape([3, 3]) as tf.Tensor2D;
  }

  async step(): Promise<CalibrationStep> {
    const thetaBefore = await this.theta.data();
    const u = await this.fit.update(() => {
      const { pose, status, proj } = solveAndProject(this.observed, this.pts3d, this.K(), this.fit.warm);
      return { loss: tf.mean(tf.squaredDifference(proj, this.observed)) as tf.Scalar, report: { pose, status } };
    });
    const intrinsics = Float64Array.from(thetaBefore, (v) => v * kScalePx);
    const truth = this.scene.trueIntrinsics;
    const relativeErrors = intrinsics.map((v, i) => Math.abs(v - truth[i]) / truth[i]);
    return {
      iteration: u.iteration,
      loss: u.loss,
      error: Math.max(...relativeErrors),
      failedPnp: u.failedPnp,
      intrinsics,
      relativeErrors,
    };
  }

  dispose(): void {
    this.fit.dispose();
  }
}
