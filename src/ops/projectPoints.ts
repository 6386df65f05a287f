/**
 * projectPoints(pose [B,6], pts3d [n,3] | [B,n,3], K [3,3] | [B,3,3]) -> pts2d [B,n,2] px, and
 * transformPoints(pose, pts3d) -> the camera-frame points [B,n,3] (the units of pts3d and t) it projects.
 * Built from tfjs ops, so both are differentiable in all their inputs on every backend.
 * Pose convention: [rx, ry, rz, tx, ty, tz], axis-angle, model to camera, Xc = R X + t.
 */
import * as tf from '@tensorflow/tfjs';
import { checkRank, checkShape } from './shapes';

/** Rodrigues: r [B,3] -> R [B,3,3]. The Taylor branch is selected with a safe angle, so neither branch
 * produces NaN (tf.where passes the unselected branch's gradient through as zero times its value).
 * The mask comes from greaterEqual, not less: tfjs 4.22 registers a (zero) gradient for GreaterEqual
 * but none for Less, and a missing one throws when the pose itself is differentiated. */
export function rodrigues(r: tf.Tensor2D): tf.Tensor3D {
  return tf.tidy(() => {
    const B = r.shape[0];
    const [rx, ry, rz] = tf.unstack(r, 1) as [tf.Tensor1D, tf.Tensor1D, tf.Tensor1D];
    const a2 = tf.sum(tf.square(r), 1);
    const large = tf.greaterEqual(a2, 1e-8);
    const aSafe = tf.sqrt(tf.where(large, a2, tf.onesLike(a2)));
    const a2Safe = tf.square(aSafe);
    const s = tf.where(large, tf.div(tf.sin(aSafe), aSafe), tf.sub(1, tf.div(a2, 6)));
    const c = tf.where(large, tf.div(tf.sub(1, tf.cos(aSafe)), a2Safe), tf.sub(0.5, tf.div(a2, 24)));
    const zero = tf.zerosLike(rx);
    const Kx = tf.reshape(tf.stack([zero, tf.neg(rz), ry, rz, zero, tf.neg(rx), tf.neg(ry), rx, zero], 1), [B, 3, 3]);
    // [r]x^2 = r r^T - |r|^2 I, an outer product rather than a matMul (see mul3T below).
    const eye = tf.eye(3).reshape([1, 3, 3]);
    const K2 = tf.sub(tf.mul(r.reshape([B, 3, 1]), r.reshape([B, 1, 3])), tf.mul(a2.reshape([B, 1, 1]), eye));
    return tf.add(eye, tf.add(tf.mul(s.reshape([B, 1, 1]), Kx), tf.mul(c.reshape([B, 1, 1]), K2))) as tf.Tensor3D;
  });
}

/**
 * Row vectors times a transposed 3x3: out[b,i,a] = sum_c M[b,a,c] X[b,i,c], for X [B,n,3] and M [B,3,3].
 * A broadcast multiply and a sum rather than tf.matMul: tfjs's matMul programs tile for large matrices,
 * and on a software WebGPU (SwiftShader) each tiny batched 3x3 product, and each of its two gradients,
 * cost ~30 ms, which made projectPoints the slowest part of a demo step; the elementwise form is a few
 * small kernels on any backend.
 */
function mul3T(X: tf.Tensor3D, M: tf.Tensor3D): tf.Tensor3D {
  const [B, n] = X.shape;
  return tf.sum(tf.mul(X.reshape([B, n, 1, 3]), M.reshape([M.shape[0], 1, 3, 3])), 3) as tf.Tensor3D;
}

export function transformPoints(pose: tf.Tensor2D, pts3d: tf.Tensor2D | tf.Tensor3D): tf.Tensor3D {
  checkPosePoints('transformPoints', pose, pts3d);
  return cameraPoints(pose, pts3d);
}

export function projectPoints(pose: tf.Tensor2D, pts3d: tf.Tensor2D | tf.Tensor3D, K: tf.Tensor2D | tf.Tensor3D): tf.Tensor3D {
  const { B, n } = checkPosePoints('projectPoints', pose, pts3d);
  checkShape('projectPoints', 'K', K, K.rank === 2 ? [3, 3] : [B, 3, 3]);
  return tf.tidy(() => {
    // Row vectors: p^T = Xc^T K^T.
    const p = mul3T(cameraPoints(pose, pts3d), (K.rank === 2 ? K.reshape([1, 3, 3]) : K) as tf.Tensor3D);
    const xy = tf.slice(p, [0, 0, 0], [B, n, 2]);
    const z = tf.slice(p, [0, 0, 2], [B, n, 1]);
    return tf.div(xy, z) as tf.Tensor3D;
  });
}

function checkPosePoints(fn: string, pose: tf.Tensor2D, pts3d: tf.Tensor2D | tf.Tensor3D): { B: number; n: number } {
  checkShape(fn, 'pose', pose, [-1, 6]);
  const B = pose.shape[0];
  checkRank(fn, 'pts3d', pts3d, [2, 3]);
  const n = pts3d.shape[pts3d.rank - 2];
  checkShape(fn, 'pts3d', pts3d, pts3d.rank === 2 ? [n, 3] : [B, n, 3]);
  return { B, n };
}

/** Xc = R X + t [B,n,3] for checked shapes. */
function cameraPoints(pose: tf.Tensor2D, pts3d: tf.Tensor2D | tf.Tensor3D): tf.Tensor3D {
  const B = pose.shape[0];
  const n = pts3d.shape[pts3d.rank - 2];
  return tf.tidy(() => {
    const R = rodrigues(tf.slice(pose, [0, 0], [B, 3]));
    const t = tf.slice(pose, [0, 3], [B, 3]).reshape([B, 1, 3]);
    const X = pts3d.rank === 2 ? tf.broadcastTo(pts3d.reshape([1, n, 3]), [B, n, 3]) : pts3d;
    // Row vectors: Xc^T = X^T R^T + t^T.
    return tf.add(mul3T(X as tf.Tensor3D, R), t) as tf.Tensor3D;
  });
}
