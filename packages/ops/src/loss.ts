import * as tf from '@tensorflow/tfjs-core';
import { ShapeError } from './errors.js';
import { assertFloat, assertTensor, checkOptions, describeValue, fmtShape } from './guards.js';

/**
 * Mean cross-entropy of class logits, as torch.nn.functional.cross_entropy.
 * logits: [N, C] (or [N, T, C]), targets: int32 class ids [N] (or [N, T]) -> scalar.
 * Targets equal to `ignoreIndex` (default -100) count neither in the sum nor in the mean.
 */
export function crossEntropy(
  logits: tf.Tensor,
  targets: tf.Tensor,
  opts: { ignoreIndex?: number } = {},
): tf.Scalar {
  checkOptions(opts, 'crossEntropy', ['ignoreIndex']);
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
    const picked = tf.sum(tf.mul(logp, tf.oneHot(safeTargets, numClasses)), 1);
    const mask = tf.cast(valid, 'float32');
    return tf.div(tf.neg(tf.sum(tf.mul(picked, mask))), tf.maximum(tf.sum(mask), 1)) as tf.Scalar;
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
