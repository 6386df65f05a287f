/**
 * One optimiser step of the keypoint network (engine.ts runs it): the heatmaps, soft-argmax keypoints,
 * the heatmap and keypoint losses, once beta > 0 the pose loss through bpnp, and Adam on the clipped
 * gradients.
 *
 * Timing ('split', the default, while beta > 0): the step is cut at the keypoints so the time in the
 * PnP layer can be measured with a sync on either side. (1) network forward -> keypoints; (2) beta
 * L_pose and its gradients dL/dkp, dL/dconf (bpnp and the reprojection: "PnP time"); (3) the network's
 * gradients of L_heatmap + w L_kp + <kp, dL/dkp> + <conf, dL/dconf>, which equal those of the full loss
 * by the chain rule. It costs one more network forward than 'fused', which runs one tape over
 * everything and reports no PnP time.
 */
import * as tf from '@tensorflow/tfjs';
import { heatmapSide, type TrainConfig } from './config';
import { networkTerms, poseTerm, type LossBatch, type LossPoints } from './loss';
import { normalise, runModel, type NetOutputs } from './model';
import type { Adam } from '../ops/adam';

export interface Losses {
  /** heatmap + keypointWeight x keypoint + beta x pose */
  total: number;
  heatmap: number;
  keypoint: number;
  /** unweighted; 0 while beta = 0 */
  pose: number;
  /** The localiser's centre heatmap loss + sizeWeight x its box-size L1 (trained apart, not in total). */
  localiser: number;
}

/** A batch as typed arrays: crops [B, S, S, 3], crop K [B, 9], GT poses [B, 6], GT keypoints [B, k, 2] px, heatmap targets [B, H, H, k]. */
export interface StepBatch {
  image: Float32Array;
  kCrop: Float32Array;
  poseGt: Float32Array;
  kpGtPx: Float32Array;
  targets: Float32Array;
}

/** What a step trains: the network, its variables and optimiser, and the 3D points of the pose loss. */
export interface StepNetwork {
  model: tf.LayersModel;
  vars: tf.Variable[];
  adam: Adam;
  points: LossPoints;
  config: TrainConfig;
  /** Keypoints per object (heatmap channels). */
  keypoints: number;
  /** 'split': the step timed in parts (netMs, pnpMs) with a second forward pass; 'fused': one tape, pnpMs NaN. */
  timing: 'split' | 'fused';
}

export interface StepStats {
  losses: Losses;
  gradNorm: number;
  netMs: number;
  pnpMs: number;
  pnpFailures: number;
}

/** Loss tensors kept past the tapes that made them, to be read once the update is queued. */
class Recorded {
  readonly kept: tf.Tensor[] = [];
  heatmap?: tf.Scalar;
  keypoint?: tf.Scalar;
  pose?: tf.Scalar;
  status?: tf.Tensor;

  keep<T extends tf.Tensor>(t: T): T {
    this.kept.push(tf.keep(t));
    return t;
  }
}

/**
 * The network's forward pass and its own loss, heatmap + keypointWeight x keypoint (both terms
 * recorded): what both timings differentiate, each adding its pose term.
 */
function networkLoss(net: StepNetwork, x: tf.Tensor4D, lb: LossBatch, rec: Recorded): { o: NetOutputs; kpPx: tf.Tensor3D; total: tf.Tensor } {
  const o = runModel(net.model, x);
  const t = networkTerms(o, lb);
  rec.heatmap = rec.keep(t.heatmap);
  rec.keypoint = rec.keep(t.keypoint);
  return { o, kpPx: t.kpPx, total: tf.add(t.heatmap, tf.mul(t.keypoint, net.config.loss.keypointWeight)) };
}

export async function trainStep(net: StepNetwork, h: StepBatch, lr: number, beta: number): Promise<StepStats> {
  const { model: mc, loss: lc, data: dc } = net.config;
  const B = net.config.optim.batchSize;
  const S = mc.inputPx;
  const H = heatmapSide(mc);
  const k = net.keypoints;
  const t0 = performance.now();
  const x = tf.tidy(() => normalise(tf.tensor4d(h.image, [B, S, S, 3]), dc.mean, dc.std));
  const lb: LossBatch = {
    kpGtPx: tf.tensor3d(h.kpGtPx, [B, k, 2]),
    targets: tf.tensor4d(h.targets, [B, H, H, k]),
    kCrop: tf.tensor3d(h.kCrop, [B, 3, 3]),
    poseGt: tf.tensor2d(h.poseGt, [B, 6]),
  };
  const rec = new Recorded();
  const inputs = [x, ...Object.values(lb)];
  if (beta > 0 && net.timing === 'split') {
    // (1) keypoints (and confidences) from the network
    const fwd = tf.tidy(() => {
      const o = runModel(net.model, x);
      return { kp: networkTerms(o, lb).kpPx, conf: o.confidence };
    });
    await fwd.kp.data();
    const t1 = performance.now();
    // (2) beta L_pose and its gradients at the keypoints
    const pg = tf.valueAndGrads((...a: tf.Tensor[]) => {
      const p = poseTerm(a[0] as tf.Tensor3D, a[1] as tf.Tensor2D | undefined, lb, net.points, lc);
      rec.pose = rec.keep(p.loss);
      rec.status = rec.keep(p.status);
      return tf.mul(p.loss, beta) as tf.Scalar;
    })(fwd.conf ? [fwd.kp, fwd.conf] : [fwd.kp]);
    await Promise.all(pg.grads.map((g) => g.data()));
    const t2 = performance.now();
    // (3) the network's gradients through the surrogate
    const vg = tf.variableGrads(() => {
      const n = networkLoss(net, x, lb, rec);
      let total = tf.add(n.total, tf.sum(tf.mul(n.kpPx, pg.grads[0])));
      if (n.o.confidence && pg.grads[1]) total = tf.add(total, tf.sum(tf.mul(n.o.confidence, pg.grads[1])));
      return total as tf.Scalar;
    }, net.vars);
    tf.dispose([fwd.kp, fwd.conf, pg.value, ...pg.grads, vg.value].filter((t): t is tf.Tensor => !!t));
    const norm = net.adam.apply(orderedGrads(net.vars, vg.grads), lr);
    const [n] = await Promise.all([norm.data(), ...rec.kept.map((t) => t.data())]);
    // The network's time: (1), plus (3) with the update.
    const netMs = t1 - t0 + performance.now() - t2;
    return finishStep(net, { norm, gradNorm: n[0], rec, beta, grads: vg.grads, inputs, netMs, pnpMs: t2 - t1 });
  }
  const vg = tf.variableGrads(() => {
    const n = networkLoss(net, x, lb, rec);
    let total = n.total;
    if (beta > 0) {
      const p = poseTerm(n.kpPx, n.o.confidence, lb, net.points, lc);
      rec.pose = rec.keep(p.loss);
      rec.status = rec.keep(p.status);
      total = tf.add(total, tf.mul(p.loss, beta));
    }
    return total as tf.Scalar;
  }, net.vars);
  vg.value.dispose();
  const norm = net.adam.apply(orderedGrads(net.vars, vg.grads), lr);
  const [n] = await Promise.all([norm.data(), ...rec.kept.map((t) => t.data())]);
  const netMs = performance.now() - t0;
  return finishStep(net, { norm, gradNorm: n[0], rec, beta, grads: vg.grads, inputs, netMs, pnpMs: beta > 0 ? NaN : 0 });
}

interface StepEnd {
  /** The gradient norm tensor Adam returned, and its value. */
  norm: tf.Tensor;
  gradNorm: number;
  rec: Recorded;
  beta: number;
  grads: tf.NamedTensorMap;
  /** The batch's tensors. */
  inputs: tf.Tensor[];
  netMs: number;
  pnpMs: number;
}

/** Reads the recorded losses and frees every tensor of the step. */
function finishStep(net: StepNetwork, e: StepEnd): StepStats {
  const { rec, beta } = e;
  const heatmap = rec.heatmap!.dataSync()[0];
  const keypoint = rec.keypoint!.dataSync()[0];
  const pose = rec.pose ? rec.pose.dataSync()[0] : 0;
  const pnpFailures = rec.status ? Array.from(rec.status.dataSync()).filter((s) => s !== 0).length : 0;
  tf.dispose([e.norm, ...Object.values(e.grads), ...rec.kept, ...e.inputs]);
  const total = heatmap + net.config.loss.keypointWeight * keypoint + beta * pose;
  return { losses: { total, heatmap, keypoint, pose, localiser: 0 }, gradNorm: e.gradNorm, netMs: e.netMs, pnpMs: e.pnpMs, pnpFailures };
}

/** Gradients in variable order; a variable the loss does not reach (the confidence head while beta = 0) gets zeros. */
function orderedGrads(vars: tf.Variable[], grads: tf.NamedTensorMap): tf.Tensor[] {
  return vars.map((v) => {
    const g = grads[v.name];
    if (g) return g;
    const z = tf.zerosLike(v);
    grads[`${v.name}#zeros`] = z;
    return z;
  });
}
