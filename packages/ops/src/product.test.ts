import { expectClose, expectNoLeak } from '@rnnkit/vitest-config/helpers';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { batchProduct, linearProduct, type Products, TFJS_PRODUCTS } from './product.js';

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
      ...TFJS_PRODUCTS,
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

describe('batchProduct', () => {
  const a = tf.randomNormal([3, 4, 5], 0, 1, 'float32', 5) as tf.Tensor3D;
  const b = tf.randomNormal([3, 5, 2], 0, 1, 'float32', 6) as tf.Tensor3D;
  const bT = tf.randomNormal([3, 2, 5], 0, 1, 'float32', 7) as tf.Tensor3D;
  const dy = tf.randomNormal([3, 4, 2], 0, 1, 'float32', 8);

  for (const transposeB of [false, true]) {
    const right = transposeB ? bT : b;
    const loss =
      (f: (x: tf.Tensor3D, y: tf.Tensor3D) => tf.Tensor) => (x: tf.Tensor, y: tf.Tensor) =>
        tf.sum(tf.mul(tf.tanh(f(x as tf.Tensor3D, y as tf.Tensor3D)), dy));
    const ours = (x: tf.Tensor3D, y: tf.Tensor3D) => batchProduct(x, y, transposeB);
    const theirs = (x: tf.Tensor3D, y: tf.Tensor3D): tf.Tensor3D =>
      tf.matMul(x, y, false, transposeB);

    it(`equals tf.matMul and its gradients (transposeB ${transposeB})`, () => {
      expectClose(ours(a, right), theirs(a, right), 1e-6);
      const g = tf.grads(loss(ours))([a, right]);
      const r = tf.grads(loss(theirs))([a, right]);
      for (const [i, t] of g.entries()) expectClose(t, r[i]!, 1e-6);
    });

    it(`is differentiable twice (transposeB ${transposeB})`, () => {
      const penalty = (f: typeof ours) => (y: tf.Tensor) =>
        tf.sum(tf.square(tf.grad((x: tf.Tensor) => loss(f)(x, y))(a)));
      expectClose(tf.grad(penalty(ours))(right), tf.grad(penalty(theirs))(right), 1e-5);
    });
  }

  it('names the argument, what was expected and what was given when shapes do not fit', () => {
    expect(() => batchProduct(tf.zeros([3, 4]) as unknown as tf.Tensor3D, b)).toThrow(
      'batchProduct(a): expected rank 3 ([B, M, K]), got rank 2 with shape [3,4]',
    );
    expect(() => batchProduct(a, bT)).toThrow(
      'batchProduct(b): expected shape [3,5,*], got [3,2,5]',
    );
    expect(() => batchProduct(a, b, true)).toThrow(
      'batchProduct(b): expected shape [3,*,5], got [3,5,2]',
    );
  });

  it('runs both directions through the given Products, with no tensor left behind', () => {
    const calls: string[] = [];
    const spy: Products = {
      ...TFJS_PRODUCTS,
      batchForward: (x, y, t) => {
        calls.push('forward');
        return TFJS_PRODUCTS.batchForward(x, y, t);
      },
      batchBackward: (d, x, y, t) => {
        calls.push('backward');
        return TFJS_PRODUCTS.batchBackward(d, x, y, t);
      },
    };
    const grads = expectNoLeak(
      () =>
        tf.grads((x: tf.Tensor, y: tf.Tensor) =>
          tf.sum(batchProduct(x as tf.Tensor3D, y as tf.Tensor3D, false, spy)),
        )([a, b]),
      2,
    );
    expect(calls).toEqual(['forward', 'backward']);
    expect(grads.map((g) => g.shape)).toEqual([a.shape, b.shape]);
    tf.dispose(grads);
  });
});
