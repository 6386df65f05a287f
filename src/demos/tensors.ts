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
