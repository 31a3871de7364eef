import { ShapeError } from '@rnnkit/ops';
import {
  assertFloat,
  assertOneOf,
  assertRank,
  checkLengths,
  checkOptions,
  fillPadding,
  fmtShape,
  zeroPadding,
} from '@rnnkit/ops/internal';
import * as tf from '@tensorflow/tfjs-core';
import type { AttentionPooling } from './attention.js';

/** How pool() reduces the time axis. */
export type Pooling = 'mean' | 'max' | 'sum' | 'first' | 'last' | 'attention' | 'flatten' | 'none';
/** Every pooling mode. */
export const POOLINGS: readonly Pooling[] = [
  'mean',
  'max',
  'sum',
  'first',
  'last',
  'attention',
  'flatten',
  'none',
];

/** Options of {@link pool}. */
export interface PoolOptions {
  /** Valid steps per sequence, each in [1, T]; padding never reaches the result. */
  lengths?: ArrayLike<number>;
  /** The learned scorer, required by mode 'attention'. */
  attention?: AttentionPooling;
}

/**
 * Pools a sequence of features over time, mask-aware.
 * x: [B, T, F] -> [B, F] (mean, max, sum, first, last, attention) | [B, T*F] (flatten) | [B, T, F] (none);
 * with `lengths`, padded steps are excluded (mean, max, sum, last, attention) or zeroed (flatten, none).
 */
export function pool(x: tf.Tensor, mode: Pooling, opts: PoolOptions = {}): tf.Tensor {
  assertRank(x, 'pool(x)', [3], '[B, T, F]');
  assertFloat(x, 'pool(x)');
  assertOneOf(mode, 'pool(mode)', POOLINGS);
  checkOptions(opts, 'pool', ['lengths', 'attention']);
  const [B, T, F] = x.shape as [number, number, number];
  if (T === 0)
    throw new ShapeError(
      `pool(x): expected at least one time step, got shape ${fmtShape(x.shape)}`,
    );
  const lengths = checkLengths(opts.lengths, 'pool(opts.lengths)', B, T);
  if (mode === 'attention') {
    if (!opts.attention) {
      throw new TypeError(
        "pool(x, 'attention'): expected opts.attention, an AttentionPooling module (it holds the learned scores), got undefined",
      );
    }
    return opts.attention.forward(x, { lengths: lengths ?? undefined });
  }
  // an empty batch has an empty result, as in PyTorch (wasm reductions trap on zero-size input)
  if (B === 0)
    return tf.zeros(mode === 'flatten' ? [0, T * F] : mode === 'none' ? [0, T, F] : [0, F]);
  return tf.tidy(() => {
    const masked = lengths ? zeroPadding(x, lengths) : x;
    switch (mode) {
      case 'sum':
        return tf.sum(masked, 1);
      case 'mean': {
        const counts = lengths ? tf.tensor2d(lengths, [B, 1]) : tf.scalar(T);
        return tf.div(tf.sum(masked, 1), counts);
      }
      case 'max':
        // -Infinity on padded steps: a valid -Infinity stays the maximum
        return tf.max(lengths ? fillPadding(x, lengths, Number.NEGATIVE_INFINITY) : x, 1);
      case 'first':
        return tf.reshape(tf.slice(x, [0, 0, 0], [B, 1, F]), [B, F]);
      case 'last': {
        // row b * T + (length - 1) of x as [B * T, F]
        const rows = Array.from({ length: B }, (_, b) => b * T + (lengths ? lengths[b] : T) - 1);
        return tf.gather(tf.reshape(x, [B * T, F]), tf.tensor1d(rows, 'int32'));
      }
      case 'flatten':
        return tf.reshape(masked, [B, T * F]);
      default:
        return lengths ? masked : tf.clone(x);
    }
  });
}
