import * as tf from '@tensorflow/tfjs-core';
import { assertTensor, describeValue } from './guards.js';

/** The L2 norm of all gradients taken together, as one number. */
export function globalNorm(grads: Record<string, tf.Tensor>): number {
  const values = Object.values(grads);
  if (values.length === 0) return 0;
  const total = tf.tidy(() => tf.sqrt(tf.addN(values.map((g) => tf.sum(tf.square(g))))));
  const norm = total.dataSync()[0];
  total.dispose();
  return norm;
}

/**
 * Scales gradients so their global L2 norm is at most maxNorm, as torch.nn.utils.clip_grad_norm_
 * (factor maxNorm / (totalNorm + 1e-6), applied only when below 1). Returns new tensors (the
 * caller disposes both the inputs and the outputs) and the norm before clipping.
 */
export function clipGradNorm(
  grads: Record<string, tf.Tensor>,
  maxNorm: number,
): { grads: Record<string, tf.Tensor>; totalNorm: number } {
  if (grads === null || typeof grads !== 'object') {
    throw new TypeError(
      `clipGradNorm(grads): expected an object of tensors, got ${describeValue(grads)}`,
    );
  }
  for (const [k, g] of Object.entries(grads)) assertTensor(g, `clipGradNorm(grads["${k}"])`);
  if (typeof maxNorm !== 'number' || !(maxNorm > 0) || !Number.isFinite(maxNorm)) {
    throw new RangeError(
      `clipGradNorm(maxNorm): expected a positive finite number, got ${describeValue(maxNorm)}`,
    );
  }
  const totalNorm = globalNorm(grads);
  const coef = Math.min(maxNorm / (totalNorm + 1e-6), 1);
  const out: Record<string, tf.Tensor> = {};
  for (const [k, g] of Object.entries(grads)) out[k] = coef < 1 ? tf.mul(g, coef) : tf.clone(g);
  return { grads: out, totalNorm };
}
