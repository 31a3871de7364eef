import * as tf from '@tensorflow/tfjs-core';
import { clipGradNorm, globalNorm } from './clip.js';
import { ensureGradients } from './gradients.js';
import { checkOptions, describeValue } from './guards.js';
import type { Module } from './module.js';

export interface TrainStepOptions {
  /** Clip the global gradient norm to this value before the update (clip_grad_norm_). */
  clipNorm?: number;
}

/**
 * One step of backpropagation through time: gradients of `loss()` with respect to every parameter
 * of `model`, optional clipping, then `optimizer.applyGradients`. Leaves no tensors behind.
 * Returns the loss and the gradient norm before clipping.
 */
export function trainStep(
  model: Module,
  loss: () => tf.Scalar,
  optimizer: tf.Optimizer,
  opts: TrainStepOptions = {},
): { loss: number; gradNorm: number } {
  checkOptions(opts, 'trainStep', ['clipNorm']);
  if (typeof loss !== 'function')
    throw new TypeError(
      `trainStep(loss): expected a function returning a scalar, got ${describeValue(loss)}`,
    );
  if (!(optimizer instanceof tf.Optimizer)) {
    throw new TypeError(
      `trainStep(optimizer): expected a tf.train optimizer, got ${describeValue(optimizer)}`,
    );
  }
  ensureGradients();
  const vars = model.parameters();
  const { value, grads } = tf.variableGrads(loss, vars);
  try {
    if (value.rank !== 0) {
      throw new TypeError(
        `trainStep(loss): expected loss() to return a scalar, got shape [${value.shape.join(',')}]`,
      );
    }
    let gradNorm: number;
    if (opts.clipNorm !== undefined) {
      const clipped = clipGradNorm(grads, opts.clipNorm);
      gradNorm = clipped.totalNorm;
      optimizer.applyGradients(clipped.grads);
      tf.dispose(clipped.grads);
    } else {
      gradNorm = globalNorm(grads);
      optimizer.applyGradients(grads);
    }
    return { loss: value.dataSync()[0], gradNorm };
  } finally {
    tf.dispose([value, ...Object.values(grads)]);
  }
}
