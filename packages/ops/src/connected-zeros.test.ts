import { expectNoLeak, values } from '@rnnkit/vitest-config/helpers';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { connectedZero, connectedZeros } from './connected-zeros.js';
import { ensureGradients } from './gradients.js';

describe('connectedZero(s)', () => {
  it('gives zeros of each shape, 0 even for large inputs', () => {
    const a = tf.tensor2d([
      [1e30, -2],
      [3, 4],
    ]);
    const b = tf.tensor1d([5, 6, 7]);
    const all = expectNoLeak(
      () => tf.tidy(() => connectedZeros([a, b], [[0, 3], [2, 0, 4], [2]])),
      3,
    );
    expect(all.map((t) => t.shape)).toEqual([[0, 3], [2, 0, 4], [2]]);
    expect(values(all[2])).toEqual([0, 0]);
    const zero = expectNoLeak(() => tf.tidy(() => connectedZero([a, b])), 1);
    expect(zero.shape).toEqual([]);
    expect(values(zero)).toEqual([0]);
    tf.dispose([a, b, zero, ...all]);
  });

  it('is a function of every tensor: their gradients are zeros, not a missing connection', () => {
    ensureGradients();
    const a = tf.tensor2d([
      [1, 2],
      [3, 4],
    ]);
    const b = tf.tensor1d([5, 6, 7]);
    const grads = expectNoLeak(
      () =>
        tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(connectedZeros([x, y], [[2]])[0]))([a, b]),
      2,
    );
    expect(grads.map((g) => g.shape)).toEqual([a.shape, b.shape]);
    expect(values(grads[0])).toEqual([0, 0, 0, 0]);
    expect(values(grads[1])).toEqual([0, 0, 0]);
    tf.dispose([a, b, ...grads]);
  });
});
