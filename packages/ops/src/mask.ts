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

/**
 * x [B, T, ...] with every step t >= lengths[b] set to `value` by selection (not by multiplying with
 * a mask, which would let NaN or Infinity in the padding through as NaN). Gradient 0 there.
 */
export function fillPadding(x: tf.Tensor, lengths: readonly number[], value: number): tf.Tensor {
  const [B, T] = x.shape as number[];
  const inner = x.size / (B * T);
  const keep = new Uint8Array(x.size);
  for (let b = 0; b < B; b++) keep.fill(1, b * T * inner, (b * T + lengths[b]) * inner);
  return tf.tidy(() =>
    tf.where(tf.tensor(keep, x.shape, 'bool'), x, tf.fill(x.shape, value, x.dtype)),
  );
}

/** x [B, T, ...] with every padded step set to 0 (see fillPadding). */
export function zeroPadding(x: tf.Tensor, lengths: readonly number[]): tf.Tensor {
  return fillPadding(x, lengths, 0);
}
