import * as tf from '@tensorflow/tfjs-core';

/**
 * Masks from sequence lengths, the one place that turns `lengths` (one valid length per sequence)
 * into what the recurrence and the heads read.
 */

/** lengths [B] -> host [T, B] time-major: 1 while t < lengths[b], else 0. */
export function validSteps(lengths: readonly number[], T: number): Uint8Array {
  const B = lengths.length;
  const valid = new Uint8Array(T * B);
  for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) valid[t * B + b] = t < lengths[b] ? 1 : 0;
  return valid;
}

/** lengths [B] -> float [B, T, 1]: 1 where t < length, else 0. */
export function stepMask(lengths: readonly number[], T: number): tf.Tensor3D {
  const B = lengths.length;
  const data = new Float32Array(B * T);
  for (let b = 0; b < B; b++) data.fill(1, b * T, b * T + lengths[b]);
  return tf.tensor3d(data, [B, T, 1]);
}

/**
 * x [B, T, F] with every step t >= lengths[b] set to 0 by selection (not by multiplying with a
 * mask, which would let NaN or Infinity in the padding through as NaN). Gradient 0 there.
 */
export function zeroPadding(x: tf.Tensor, lengths: readonly number[]): tf.Tensor {
  const [B, T, F] = x.shape as [number, number, number];
  const keep = new Uint8Array(B * T * F);
  for (let b = 0; b < B; b++) keep.fill(1, b * T * F, (b * T + lengths[b]) * F);
  return tf.tidy(() => tf.where(tf.tensor3d(keep, [B, T, F], 'bool'), x, tf.zerosLike(x)));
}
