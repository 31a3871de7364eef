import { expectClose, expectNoLeak } from '@rnnkit/vitest-config/helpers';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { linearProduct, type Products } from './product.js';

/** y = x w^T + b with tfjs's own matMul and its generic gradient: the reference. */
const reference = (x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D) =>
  tf.add(tf.matMul(x, w, false, true), b);

describe('linearProduct', () => {
  const x = tf.randomNormal([5, 3], 0, 1, 'float32', 1) as tf.Tensor2D;
  const w = tf.randomNormal([4, 3], 0, 1, 'float32', 2) as tf.Tensor2D;
  const b = tf.randomNormal([4], 0, 1, 'float32', 3) as tf.Tensor1D;
  const dy = tf.randomNormal([5, 4], 0, 1, 'float32', 4);

  it('equals x w^T + b and tfjs generic gradients in x, w and b', () => {
    const loss = (f: typeof reference) => (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) =>
      tf.sum(tf.mul(f(xx as tf.Tensor2D, ww as tf.Tensor2D, bb as tf.Tensor1D), dy));
    const ours = tf.grads(loss(linearProduct))([x, w, b]);
    const theirs = tf.grads(loss(reference))([x, w, b]);
    expectClose(linearProduct(x, w, b), reference(x, w, b), 1e-6);
    for (const [i, g] of ours.entries()) expectClose(g, theirs[i], 1e-6);
  });

  it('is differentiable twice (a gradient penalty through it)', () => {
    // d/dw of sum((d loss/dx)^2): the backward's products are recorded like any tfjs op
    const penalty = (f: typeof reference) => (ww: tf.Tensor) => {
      const gx = tf.grad((xx: tf.Tensor) =>
        tf.sum(tf.mul(tf.tanh(f(xx as tf.Tensor2D, ww as tf.Tensor2D, b)), dy)),
      )(x);
      return tf.sum(tf.square(gx));
    };
    expectClose(tf.grad(penalty(linearProduct))(w), tf.grad(penalty(reference))(w), 1e-5);
  });

  it('runs every product through the given Products, with no tensor left behind', () => {
    const calls: string[] = [];
    const spy: Products = {
      forward: (xx, ww, bb) => {
        calls.push('forward');
        return tf.add(tf.matMul(xx, tf.transpose(ww)), bb ?? 0) as tf.Tensor2D;
      },
      backward: (d, xx, ww) => {
        calls.push('backward');
        return [tf.matMul(d, ww), tf.matMul(tf.transpose(d), xx)];
      },
    };
    const grads = expectNoLeak(
      () =>
        tf.grads((xx: tf.Tensor, ww: tf.Tensor) =>
          tf.sum(linearProduct(xx as tf.Tensor2D, ww as tf.Tensor2D, null, spy)),
        )([x, w]),
      2,
    );
    expect(calls).toEqual(['forward', 'backward']);
    expect(grads.map((g) => g.shape)).toEqual([
      [5, 3],
      [4, 3],
    ]);
    tf.dispose(grads);
  });
});
