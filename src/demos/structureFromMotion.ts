/**
 * Demo 2 of BPnP (Chen et al., CVPR 2020, sec. 5.2; BoChenYS/BPnP demoSfM.py): structure from motion
 * with the PnP layer. A 3D point set is learnt from its 2D observations in B views; the views' poses are
 * never given: each step solves them, pose_b = bpnp(observed_b, points, K), and minimises
 *   mean |project(pose_b, points) - observed_b|^2   (px^2)
 * over the points alone, the gradient reaching them directly and through bpnp's implicit derivative.
 * Only a similarity (scale, rotation, translation) of the truth can be recovered, so the error is measured
 * after the best such alignment (./similarity).
 *
 * The points are learnt in units of the structure's radius (points = kRadiusMm * unit), so Adam's step
 * size is scale-free; it decays exponentially to settle into the optimum instead of dithering about it.
 *
 * From a random start about half the seeds descend into the mirror image of the structure: with cameras
 * a few object radii away, perspective is weak and the reflected points with reflected poses explain the
 * views almost as well (the depth-reversal or Necker ambiguity of structure from motion), a local minimum
 * some 40% of the radius away. So every kMirrorCheckEvery steps the demo also solves the views for the
 * reflected points (one forward pass, fresh EPnP poses) and continues from the reflection when its loss
 * is less than half the current one. Near the true structure the reflection's loss is far larger, so the
 * check never fires there; the step reports when it did (`mirrored`). Partial folds (some points on the
 * wrong side) are not undone by it: of seeds 0..20 on the cpu backend, seed 6 settles at 6 mm RMS.
 */
import * as tf from '@tensorflow/tfjs';
import { bpnp } from '../ops/bpnp';
import { projectPoints } from '../ops/projectPoints';
import type { Demo, DemoStep } from './demoInterface';
import { demoRng, intrinsicsMatrix, projectExact, trefoilPoints, viewsAround } from './scenes';
import { structureError } from './similarity';
import { DemoFit, kDemoLearningRateDecay, solveAndProject } from './demoUpdate';
import { f32, variableFrom } from './tensors';

export interface StructureFromMotionOptions {
  seed: number;
  /** Adam's initial step size, in structure radii (default kSfmLearningRate) */
  learningRate?: number;
}

/** The fixed world of the demo; arrays are float64. */
export interface StructureFromMotionScene {
  imageWidth: number;
  imageHeight: number;
  /** [9] row-major, px, known */
  K: Float64Array;
  n: number;
  /** number of views */
  B: number;
  /** [n,3] mm, the structure to recover (never shown to the optimiser) */
  truth: Float64Array;
  /** [B,6] the views' true poses (never shown to the optimiser) */
  viewPoses: Float64Array;
  /** [B,n,2] px, the observations */
  observed: Float64Array;
}

export interface StructureFromMotionStep extends DemoStep {
  /** [n,3] mm, the learnt points that produced this step's loss, as learnt (arbitrary similarity) */
  points: Float32Array;
  /** [n,3] mm, those points after the similarity that best aligns them onto the truth */
  aligned: Float64Array;
  /** `error` over the truth's RMS radius: scale-free */
  relativeError: number;
  /** [B,6] the views' poses bpnp solved this step */
  poses: Float32Array;
  /** true when after this step's update the points were replaced by their mirror image (see above) */
  mirrored: boolean;
}

const kImageWidth = 320;
const kImageHeight = 240;
const kFocalPx = 400;
/** Number of points and of views: small enough to run live on SwiftShader, enough to pin the structure. */
const kPoints = 24;
const kViews = 12;
/** The structure's size and the cameras' distance from its centre, mm. */
const kRadiusMm = 100;
const kDistanceMm = 450;
export const kSfmLearningRate = 0.05;
/** Standard deviation of the initial points, in structure radii: a small blob, from which the points
 * spread out as the views pull them apart (a cloud as large as the truth started in more wrong folds). */
const kInitialSpread = 0.1;

/** How often the mirror image is tried, steps. */
const kMirrorCheckEvery = 25;


export class StructureFromMotionDemo implements Demo<StructureFromMotionStep> {
  readonly kind = 'sfm';
  readonly errorName = 'structure RMS error after similarity alignment (mm)';
  readonly scene: StructureFromMotionScene;
  private readonly K: tf.Tensor2D;
  private readonly observed: tf.Tensor3D;
  /** [n,3] the learnt structure in units of kRadiusMm */
  private readonly unitPoints: tf.Variable;
  private readonly fit: DemoFit;

  constructor(opts: StructureFromMotionOptions) {
    const rng = demoRng(opts.seed);
    const K = intrinsicsMatrix(kFocalPx, kFocalPx, kImageWidth / 2, kImageHeight / 2);
    const truth = trefoilPoints(kPoints, kRadiusMm, rng);
    const viewPoses = viewsAround(kViews, kDistanceMm, rng);
    const observed = projectExact(truth, viewPoses, K);
    this.scene = { imageWidth: kImageWidth, imageHeight: kImageHeight, K, n: kPoints, B: kViews, truth, viewPoses, observed };
    this.K = f32(K, [3, 3]) as tf.Tensor2D;
    this.observed = f32(observed, [kViews, kPoints, 2]) as tf.Tensor3D;
    // The start knows nothing of the shape: a seeded Gaussian blob about the origin.
    this.unitPoints = variableFrom(f32(Array.from({ length: 3 * kPoints }, () => kInitialSpread * rng.normal()), [kPoints, 3]));
    this.fit = new DemoFit([this.K, this.observed, this.unitPoints], [this.unitPoints], opts.learningRate ?? kSfmLearningRate, kDemoLearningRateDecay);
  }

  async step(): Promise<StructureFromMotionStep> {
    const u = await this.fit.update(() => {
      const pts = tf.mul(this.unitPoints, kRadiusMm) as tf.Tensor2D;
      const { pose, status, proj } = solveAndProject(this.observed, pts, this.K, this.fit.warm);
      return { loss: tf.mean(tf.squaredDifference(proj, this.observed)) as tf.Scalar, report: { pts, pose, status } };
    });
    const mirrored = (u.iteration + 1) % kMirrorCheckEvery === 0 && (await this.tryMirror(u.loss));
    const err = structureError(u.values.pts, this.scene.truth, kPoints);
    return {
      iteration: u.iteration,
      loss: u.loss,
      error: err.rms,
      relativeError: err.relative,
      failedPnp: u.failedPnp,
      points: u.values.pts,
      aligned: err.aligned,
      poses: u.values.pose,
      mirrored,
    };
  }

  /** Replaces the points by their reflection x -> -x when that explains the views with less than half
   * of `loss`; true when it did. */
  private async tryMirror(loss: number): Promise<boolean> {
    const reflected = tf.tidy(() => tf.mul(this.unitPoints, f32([-1, 1, 1], [1, 3])));
    const reflectedLoss = tf.tidy(() => {
      const pts = tf.mul(reflected, kRadiusMm) as tf.Tensor2D;
      const { pose, status } = bpnp(this.observed, pts, this.K);
      const sq = tf.sum(tf.squaredDifference(projectPoints(pose, pts, this.K), this.observed), [1, 2]);
      // A failed view counts as unexplained, not as a perfect fit.
      return tf.mean(tf.where(tf.equal(status, 0), tf.div(sq, 2 * kPoints), tf.fill([kViews], Infinity)));
    });
    const better = (await reflectedLoss.data())[0] < 0.5 * loss;
    if (better) {
      this.unitPoints.assign(reflected);
      this.fit.restart();
    }
    tf.dispose([reflected, reflectedLoss]);
    return better;
  }

  dispose(): void {
    this.fit.dispose();
  }
}
