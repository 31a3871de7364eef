import * as tf from '@tensorflow/tfjs-core';
import { ShapeError } from './errors.js';
import {
  assertFloat,
  assertOneOf,
  assertTensor,
  checkOptions,
  describeValue,
  fmtShape,
} from './guards.js';

/** How per-target losses are combined: 'mean' over non-ignored targets, 'sum', or 'none' (kept per target). */
export type Reduction = 'mean' | 'sum' | 'none';

/** Options of crossEntropy, as torch.nn.functional.cross_entropy's keyword arguments. */
export interface CrossEntropyOptions {
  /** Targets equal to this id count neither in the loss nor in the mean. @default -100 */
  ignoreIndex?: number;
  /** Mixes the one-hot target with the uniform distribution: (1-e)*nll + e*mean_c(-log p_c). @default 0 */
  labelSmoothing?: number;
  /** 'mean' over non-ignored targets, 'sum', or 'none' (per target, 0 where ignored). @default 'mean' */
  reduction?: Reduction;
}

/**
 * Cross-entropy of class logits, as torch.nn.functional.cross_entropy with class-id targets.
 * logits: [N, C] (or [N, T, C]), targets: int32 class ids [N] (or [N, T]) -> scalar ('mean', 'sum')
 * or the targets' shape ('none'). Per target: (1-e)*(-log p_y) + e*sum_c(-log p_c)/C, 0 where ignored;
 * 'mean' divides the sum by the number of non-ignored targets, as PyTorch (label smoothing included).
 * One deviation: when every target is ignored, 'mean' is 0 (PyTorch gives NaN), with zero gradients.
 */
export function crossEntropy(
  logits: tf.Tensor,
  targets: tf.Tensor,
  opts: CrossEntropyOptions & { reduction: 'none' },
): tf.Tensor;
export function crossEntropy(
  logits: tf.Tensor,
  targets: tf.Tensor,
  opts?: CrossEntropyOptions & { reduction?: 'mean' | 'sum' },
): tf.Scalar;
export function crossEntropy(
  logits: tf.Tensor,
  targets: tf.Tensor,
  opts: CrossEntropyOptions = {},
): tf.Tensor {
  checkOptions(opts, 'crossEntropy', ['ignoreIndex', 'labelSmoothing', 'reduction']);
  assertTensor(logits, 'crossEntropy(logits)');
  assertFloat(logits, 'crossEntropy(logits)');
  assertTensor(targets, 'crossEntropy(targets)');
  if (targets.dtype !== 'int32') {
    throw new TypeError(
      `crossEntropy(targets): expected int32 class ids, got a ${targets.dtype} tensor of shape ${fmtShape(targets.shape)}`,
    );
  }
  if (logits.rank < 2 || !tf.util.arraysEqual(targets.shape, logits.shape.slice(0, -1))) {
    throw new ShapeError(
      `crossEntropy: expected logits [N, C] or [N, T, C] and targets of the leading shape, got logits ${fmtShape(logits.shape)} and targets ${fmtShape(targets.shape)}`,
    );
  }
  const numClasses = logits.shape[logits.rank - 1];
  const ignore = opts.ignoreIndex ?? -100;
  if (!Number.isInteger(ignore)) {
    throw new TypeError(
      `crossEntropy({ ignoreIndex }): expected an integer, got ${describeValue(ignore)}`,
    );
  }
  const eps = opts.labelSmoothing ?? 0;
  if (typeof eps !== 'number' || !(eps >= 0 && eps <= 1)) {
    throw new RangeError(
      `crossEntropy({ labelSmoothing }): expected a number in [0, 1], got ${describeValue(eps)}`,
    );
  }
  const reduction = assertOneOf(opts.reduction ?? 'mean', 'crossEntropy({ reduction })', [
    'mean',
    'sum',
    'none',
  ] as const);
  const ids = targets.dataSync();
  for (let i = 0; i < ids.length; i++) {
    if (ids[i] !== ignore && (ids[i] < 0 || ids[i] >= numClasses)) {
      throw new RangeError(
        `crossEntropy(targets): expected class ids in [0, ${numClasses - 1}], got ${ids[i]} at flat index ${i}`,
      );
    }
  }
  return tf.tidy(() => {
    const flatLogits = tf.reshape(logits, [-1, numClasses]);
    const flatTargets = tf.reshape(targets, [-1]);
    const valid = tf.notEqual(flatTargets, ignore);
    const safeTargets = tf.where(valid, flatTargets, tf.zerosLike(flatTargets));
    const logp = tf.logSoftmax(flatLogits);
    let per = tf.neg(tf.sum(tf.mul(logp, tf.oneHot(safeTargets, numClasses)), 1));
    if (eps > 0) {
      const smooth = tf.div(tf.neg(tf.sum(logp, 1)), numClasses);
      per = tf.add(tf.mul(per, 1 - eps), tf.mul(smooth, eps));
    }
    // where, not a product with the mask: an ignored row with -Infinity log-probs stays 0
    per = tf.where(valid, per, tf.zerosLike(per));
    if (reduction === 'none') return tf.reshape(per, targets.shape);
    if (reduction === 'sum') return tf.sum(per);
    return tf.div(tf.sum(per), tf.maximum(tf.sum(tf.cast(valid, 'float32')), 1));
  });
}

/** Mean squared error, as torch.nn.functional.mse_loss: pred and target of the same shape -> scalar. */
export function mseLoss(pred: tf.Tensor, target: tf.Tensor): tf.Scalar {
  assertTensor(pred, 'mseLoss(pred)');
  assertTensor(target, 'mseLoss(target)');
  assertFloat(pred, 'mseLoss(pred)');
  assertFloat(target, 'mseLoss(target)');
  if (!tf.util.arraysEqual(pred.shape, target.shape)) {
    throw new ShapeError(
      `mseLoss: expected pred and target of the same shape, got pred ${fmtShape(pred.shape)} and target ${fmtShape(target.shape)}`,
    );
  }
  return tf.tidy(() => tf.mean(tf.squaredDifference(pred, target)) as tf.Scalar);
}
