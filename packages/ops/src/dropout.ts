import * as tf from '@tensorflow/tfjs-core';
import { assertBool, assertProbability, assertTensor } from './guards.js';
import { Module } from './module.js';
import { dropoutMask } from './rng.js';

/**
 * Zeroes each element with probability p in training mode and scales the rest by 1/(1-p); identity
 * in eval, as torch.nn.Dropout. p = 1 zeroes everything (x * 0, as PyTorch).
 * @example
 * ```ts
 * const drop = new Dropout(0.2);
 * const y = drop.forward(x); // training mode: about 20% zeros
 * drop.eval(); // now the identity
 * ```
 */
export class Dropout extends Module {
  /**
   * Probability of zeroing an element, in [0, 1].
   * @default 0.5
   */
  readonly p: number;

  constructor(p = 0.5) {
    super();
    this.p = assertProbability(p, 'Dropout(p)');
  }

  /** x: any shape -> same shape (a new tensor) */
  forward(x: tf.Tensor): tf.Tensor {
    this.assertAlive();
    assertTensor(x, 'Dropout.forward(x)');
    return dropout(x, this.p, this.training);
  }
}

/** Functional dropout with rnnkit's seeded generator. */
export function dropout(x: tf.Tensor, p: number, training: boolean): tf.Tensor {
  assertTensor(x, 'dropout(x)');
  assertProbability(p, 'dropout(p)');
  assertBool(training, 'dropout(training)');
  if (!training || p === 0) return tf.clone(x);
  if (p === 1) return tf.mul(x, tf.scalar(0, x.dtype));
  return tf.tidy(() => tf.mul(x, dropoutMask(x.shape, p)));
}
