/**
 * Demo 1 of BPnP (Chen et al., CVPR 2020, sec. 5.1; BoChenYS/BPnP demoPoseEst.py): a network that maps a
 * constant input to n 2D keypoints learns, through the PnP layer, to put them where a known 3D structure
 * projects under a target pose. Each step solves pose = bpnp(keypoints, structure, K) and minimises
 *   mean |project(pose, structure) - target|^2 + mean |project(pose, structure) - keypoints|^2   (px^2),
 * the first term reaching the network only through bpnp's implicit gradient, the second keeping the
 * keypoints consistent with a rigid projection. As in the paper the network is the only thing learnt,
 * the optimiser is Adam and each PnP is warm-started from the previous step's pose.
 */
import * as tf from '@tensorflow/tfjs';
import type { Demo, DemoStep } from './demoInterface';
import type { Rng } from '../data/rng';
import { cubeCorners, demoRng, intrinsicsMatrix, projectExact, viewFrom } from './scenes';
import { DemoFit, solveAndProject } from './demoUpdate';
import { f32, variableFrom } from './tensors';

export interface PoseEstimationOptions {
  seed: number;
  /** Adam's step size (default kPoseLearningRate) */
  learningRate?: number;
}

/** The fixed world of the demo; arrays are float64 and belong to the caller once returned. */
export interface PoseEstimationScene {
  imageWidth: number;
  imageHeight: number;
  /** [9] row-major, px */
  K: Float64Array;
  n: number;
  /** [n,3] the known structure (a cube's corners), mm */
  pts3d: Float64Array;
  /** [6] the pose the keypoints should come to imply */
  targetPose: Float64Array;
  /** [n,2] px, the structure projected with targetPose */
  targetPts2d: Float64Array;
}

export interface PoseEstimationStep extends DemoStep {
  /** [n,2] px, the network's keypoints that produced this step's loss */
  keypoints: Float32Array;
  /** [n,2] px, the structure projected with the pose bpnp solved from those keypoints */
  projected: Float32Array;
  /** [6] that pose */
  pose: Float32Array;
  /** mean distance of the projected points to the targets, px */
  projectedError: number;
}

// The paper's camera: f = 300 px, principal point (128, 128) in a 256 x 256 image.
const kImageSize = 256;
const kFocalPx = 300;
/** Side of the cube, mm, and the distance it is seen from: it spans about half the image. */
const kCubeSideMm = 100;
const kDistanceMm = 400;
/** Target views lie within this angle of the initial guess's viewing direction. */
const kMaxTiltRad = 0.6;
export const kPoseLearningRate = 0.01;
const kInputSize = 16;
const kHidden = 32;
/** The network's outputs are scaled by this and added to the image centre: keypoints start as a random
 * scatter about the centre, not piled on one pixel. */
const kSpreadPx = 80;


/** LeCun-normal weights, so tanh units start in their linear range whatever the layer's width. */
function lecun(rng: Rng, fanIn: number, fanOut: number): tf.Variable {
  const std = 1 / Math.sqrt(fanIn);
  return variableFrom(f32(Array.from({ length: fanIn * fanOut }, () => std * rng.normal()), [fanIn, fanOut]));
}

export class PoseEstimationDemo implements Demo<PoseEstimationStep> {
  readonly kind = 'pose';
  readonly errorName = 'keypoint error (px)';
  readonly scene: PoseEstimationScene;
  private readonly pts3d: tf.Tensor2D;
  private readonly K: tf.Tensor2D;
  private readonly target: tf.Tensor3D;
  private readonly input: tf.Tensor2D;
  private readonly center: tf.Tensor;
  private readonly weights: tf.Variable[];
  private readonly fit: DemoFit;

  constructor(opts: PoseEstimationOptions) {
    const rng = demoRng(opts.seed);
    const K = intrinsicsMatrix(kFocalPx, kFocalPx, kImageSize / 2, kImageSize / 2);
    const pts3d = cubeCorners(kCubeSideMm);
    const targetPose = viewFrom(kDistanceMm, kMaxTiltRad, rng);
    const n = pts3d.length / 3;
    const targetPts2d = projectExact(pts3d, targetPose, K);
    this.scene = { imageWidth: kImageSize, imageHeight: kImageSize, K, n, pts3d, targetPose, targetPts2d };
    this.pts3d = f32(pts3d, [n, 3]) as tf.Tensor2D;
    this.K = f32(K, [3, 3]) as tf.Tensor2D;
    this.target = f32(targetPts2d, [1, n, 2]) as tf.Tensor3D;
    this.input = tf.ones([1, kInputSize]);
    this.center = f32([K[2], K[5]], [1, 1, 2]);
    this.weights = [
      lecun(rng, kInputSize, kHidden),
      variableFrom(tf.zeros([kHidden])),
      lecun(rng, kHidden, 2 * n),
      variableFrom(tf.zeros([2 * n])),
    ];
    // The paper's start: no rotation, the structure straight ahead at about its distance.
    const initPose = f32([0, 0, 0, 0, 0, kDistanceMm], [1, 6]) as tf.Tensor2D;
    this.fit = new DemoFit([this.pts3d, this.K, this.target, this.input, this.center, ...this.weights], this.weights, opts.learningRate ?? kPoseLearningRate, 1, initPose);
  }

  /** keypoints [1,n,2] px = centre + kSpreadPx * MLP(constant input) */
  private keypoints(): tf.Tensor3D {
    const [w1, b1, w2, b2] = this.weights;
    const h = tf.tanh(tf.add(tf.matMul(this.input, w1), b1));
    const out = tf.add(tf.matMul(h, w2), b2).reshape([1, this.scene.n, 2]);
    return tf.add(this.center, tf.mul(out, kSpreadPx)) as tf.Tensor3D;
  }

  async step(): Promise<PoseEstimationStep> {
    const u = await this.fit.update(() => {
      const kp = this.keypoints();
      const { pose, status, proj } = solveAndProject(kp, this.pts3d, this.K, this.fit.warm);
      const loss = tf.add(tf.mean(tf.squaredDifference(proj, this.target)), tf.mean(tf.squaredDifference(proj, kp))) as tf.Scalar;
      return { loss, report: { kp, proj, pose, status } };
    });
    const { kp, proj, pose } = u.values;
    return {
      iteration: u.iteration,
      loss: u.loss,
      error: meanDistance(kp, this.scene.targetPts2d),
      failedPnp: u.failedPnp,
      keypoints: kp,
      projected: proj,
      pose,
      projectedError: meanDistance(proj, this.scene.targetPts2d),
    };
  }

  dispose(): void {
    this.fit.dispose();
  }
}

/** Mean Euclidean distance between two [n,2] point lists, px. */
export function meanDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = b.length / 2;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += Math.hypot(a[2 * i] - b[2 * i], a[2 * i + 1] - b[2 * i + 1]);
  return sum / n;
}
