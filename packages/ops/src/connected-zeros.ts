import * as tf from '@tensorflow/tfjs-core';

/**
 * 0 (a scalar) as a function of every tensor in `of`: a gradient through it reaches each of them
 * as zeros instead of tfjs's "Cannot find a connection" error. `of` is not empty; call it inside
 * tf.tidy (it makes intermediates).
 */
export function connectedZero(of: tf.Tensor[]): tf.Scalar {
  return tf.mul(tf.addN(of.map((t) => tf.sum(t))), 0) as tf.Scalar;
}

/**
 * Zeros of each of `shapes`, each a function of every tensor in `of` (see connectedZero): the
 * result of a call with nothing to compute (an empty batch, hiddenSize 0), whose gradients are
 * then zeros for the input, the states and every parameter, as PyTorch's.
 */
export function connectedZeros(of: tf.Tensor[], shapes: number[][]): tf.Tensor[] {
  const zero = connectedZero(of);
  return shapes.map((shape) => tf.add(tf.zeros(shape), zero));
}
