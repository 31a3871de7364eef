import * as tf from '@tensorflow/tfjs-core';
import { NumericsError } from './errors.js';
import { assertBool, assertFloat, assertTensor, checkOptions, describeValue } from './guards.js';

/** Options of {@link clipGradNorm}, as torch.nn.utils.clip_grad_norm_'s. */
export interface ClipGradNormOptions {
  /** Order of the norm: any number (2, 1, Infinity, 0.5, ...), as torch.norm. @default 2 */
  normType?: number;
  /** Throw NumericsError (gradients untouched) when the total norm is NaN or infinite. @default false */
  errorIfNonfinite?: boolean;
}

/** The L2 norm of all gradients taken together, as one number. */
export function globalNorm(grads: Record<string, tf.Tensor>): number {
  return totalNorm(Object.values(grads), 2);
}

/**
 * Scales gradients so their global norm of order `normType` is at most maxNorm, as
 * torch.nn.utils.clip_grad_norm_: total = norm of the per-tensor norms, every gradient times
 * min(maxNorm / (total + 1e-6), 1) (NaN when the total is NaN). Returns new tensors (the caller
 * disposes both the inputs and the outputs) and the norm before clipping.
 */
export function clipGradNorm(
  grads: Record<string, tf.Tensor>,
  maxNorm: number,
  opts: ClipGradNormOptions = {},
): {
  /** The clipped gradients (new tensors), by the same keys. */
  grads: Record<string, tf.Tensor>;
  /** The total norm before clipping. */
  totalNorm: number;
} {
  checkGrads(grads, 'clipGradNorm');
  checkOptions(opts, 'clipGradNorm', ['normType', 'errorIfNonfinite']);
  if (typeof maxNorm !== 'number' || !(maxNorm >= 0) || !Number.isFinite(maxNorm)) {
    throw new RangeError(
      `clipGradNorm(maxNorm): expected a finite number >= 0, got ${describeValue(maxNorm)}`,
    );
  }
  const normType = opts.normType ?? 2;
  if (typeof normType !== 'number' || Number.isNaN(normType)) {
    throw new TypeError(
      `clipGradNorm({ normType }): expected a number (2, 1, Infinity, any p), got ${describeValue(normType)}`,
    );
  }
  const errorIfNonfinite = assertBool(
    opts.errorIfNonfinite ?? false,
    'clipGradNorm({ errorIfNonfinite })',
  );
  const total = totalNorm(Object.values(grads), normType);
  if (errorIfNonfinite && !Number.isFinite(total)) {
    throw new NumericsError(
      `clipGradNorm(grads): the total norm of order ${normType} for gradients is ${total}, so it cannot be clipped; pass { errorIfNonfinite: false } to scale the gradients by the non-finite norm anyway`,
    );
  }
  // float32 arithmetic, as PyTorch's clip_coef tensor; Math.min keeps NaN
  const coef = Math.min(Math.fround(maxNorm / Math.fround(total + 1e-6)), 1);
  const out: Record<string, tf.Tensor> = {};
  for (const [k, g] of Object.entries(grads)) out[k] = coef === 1 ? tf.clone(g) : tf.mul(g, coef);
  return { grads: out, totalNorm: total };
}

/**
 * Clamps every gradient element to [-clipValue, clipValue], as torch.nn.utils.clip_grad_value_.
 * Returns new tensors; the caller disposes both the inputs and the outputs.
 */
export function clipGradValue(
  grads: Record<string, tf.Tensor>,
  clipValue: number,
): Record<string, tf.Tensor> {
  checkGrads(grads, 'clipGradValue');
  if (typeof clipValue !== 'number' || !(clipValue >= 0)) {
    throw new RangeError(
      `clipGradValue(clipValue): expected a number >= 0, got ${describeValue(clipValue)}`,
    );
  }
  const out: Record<string, tf.Tensor> = {};
  for (const [k, g] of Object.entries(grads)) out[k] = tf.clipByValue(g, -clipValue, clipValue);
  return out;
}

function checkGrads(grads: unknown, where: string): asserts grads is Record<string, tf.Tensor> {
  if (grads === null || typeof grads !== 'object' || Array.isArray(grads)) {
    throw new TypeError(
      `${where}(grads): expected an object of tensors, got ${describeValue(grads)}`,
    );
  }
  for (const [k, g] of Object.entries(grads)) {
    assertTensor(g, `${where}(grads["${k}"])`);
    assertFloat(g, `${where}(grads["${k}"])`);
  }
}

/**
 * torch.norm(stack([torch.norm(g, p) for g in grads]), p): accumulated in float64 on the host as
 * PyTorch does on cpu, each per-tensor norm rounded to float32. 0 for no gradients.
 */
function totalNorm(grads: tf.Tensor[], p: number): number {
  if (grads.length === 0) return 0;
  const norms = grads.map((g) => Math.fround(vectorNorm(g.dataSync() as Float32Array, p)));
  return Math.fround(vectorNorm(norms, p));
}

/** torch.linalg.vector_norm(x, p) in float64: p = Infinity is max|x|, -Infinity min|x|, 0 the count of non-zeros. */
export function vectorNorm(x: ArrayLike<number>, p: number): number {
  if (x.length === 0) return p === -Infinity ? Infinity : 0;
  let acc = p === -Infinity ? Infinity : 0;
  for (let i = 0; i < x.length; i++) {
    const a = Math.abs(x[i]);
    if (p === 0)
      acc += a === 0 ? 0 : 1; // NaN counts as non-zero, as torch.norm(x, 0)
    else if (Number.isNaN(a)) return Number.NaN;
    else if (p === Infinity) acc = Math.max(acc, a);
    else if (p === -Infinity) acc = Math.min(acc, a);
    else if (p === 1) acc += a;
    else if (p === 2) acc += a * a;
    else acc += a ** p;
  }
  if (p === Infinity || p === -Infinity || p === 0 || p === 1) return acc;
  return p === 2 ? Math.sqrt(acc) : acc ** (1 / p);
}
