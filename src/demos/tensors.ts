/** Small tensor helpers the demos share. */
import * as tf from '@tensorflow/tfjs';

/** A float32 tensor from float64 values (tfjs would otherwise infer a dtype per platform). */
export function f32(values: ArrayLike<number>, shape: number[]): tf.Tensor {
  return tf.tensor(Float32Array.from(values), shape, 'float32');
}

/**
 * A variable holding `initial`, which it consumes: tf.variable shares the tensor's data but leaves the
 * tensor itself alive, one leaked tensor per variable unless it is disposed here.
 */
export function variableFrom(initial: tf.Tensor, trainable = true): tf.Variable {
  const v = tf.variable(initial, trainable);
  initial.dispose();
  return v;
}

/**
 * The next PnP warm start [B,6] from this step's `pose` [B,6] and `status` [B]: a failed PnP's pose is no
 * warm start, so those rows keep `prev` (every row is the new pose when there is no `prev` yet). A new
 * tensor; the caller still owns the arguments.
 */
export function nextWarmStart(prev: tf.Tensor2D | null, pose: tf.Tensor2D, status: tf.Tensor1D): tf.Tensor2D {
  if (!prev) return tf.clone(pose);
  return tf.tidy(() => tf.where(tf.equal(status, 0).reshape([-1, 1]), pose, prev) as tf.Tensor2D);
}
