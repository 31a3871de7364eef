import { batchProduct, linearProduct, TFJS_PRODUCTS } from '@rnnkit/ops/internal';
import { expectNoLeak, maxAbs, maxAbsDiff, randn } from '@rnnkit/vitest-config/helpers';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { kernelReady } from './engine.js';
import './project.js';

// Loading this package makes the kernel's products those of every linearProduct given none
// (Linear's); tfjs's products, passed explicitly, are the reference.
describe('linearProduct with the installed (kernel) products', () => {
  const x = randn([6, 5], 1) as tf.Tensor2D;
  const w = tf.variable(randn([4, 5], 2)) as tf.Variable<tf.Rank.R2>;
  const b = tf.variable(randn([4], 3)) as tf.Variable<tf.Rank.R1>;
  const both = (f: (p?: typeof TFJS_PRODUCTS) => tf.Tensor[]) => [f(), f(TFJS_PRODUCTS)] as const;

  it('runs in the kernel where it is ready, and matches tfjs products forward and backward', () => {
    expect(kernelReady()).toBe(true);
    const [ours, ref] = both((p) =>
      tf.tidy(() => {
        const g = tf.grads((xs, ws, bs) =>
          tf.sum(
            tf.tanh(linearProduct(xs as tf.Tensor2D, ws as tf.Tensor2D, bs as tf.Tensor1D, p)),
          ),
        )([x, w, b]);
        return [linearProduct(x, w, b, p), ...g];
      }),
    );
    for (const [i, t] of ours.entries()) expect(maxAbsDiff(t, ref[i]!)).toBeLessThanOrEqual(1e-5);
    tf.dispose([...ours, ...ref]);
  });

  it('gives the right second derivative: a backward being recorded runs as tfjs ops', () => {
    // d/dw of a gradient penalty sum((dL/dx)^2), L = sum(tanh(x w^T + b)): it depends on w through
    // dL/dx = (1 - y^2) W, which a backward on host arrays would hide from the outer tape.
    const penaltyGrad = (p?: typeof TFJS_PRODUCTS) =>
      tf.tidy(() =>
        tf.grad((ws: tf.Tensor) => {
          const dx = tf.grad((xs: tf.Tensor) =>
            tf.sum(tf.tanh(linearProduct(xs as tf.Tensor2D, ws as tf.Tensor2D, b, p))),
          )(x);
          return tf.sum(tf.square(dx));
        })(w),
      );
    const [ours, ref] = both((p) => [penaltyGrad(p)]);
    expect(maxAbs(ref[0]!)).toBeGreaterThan(0.1);
    expect(maxAbsDiff(ours[0]!, ref[0]!)).toBeLessThanOrEqual(1e-5);
    tf.dispose([...ours, ...ref]);
  });

  it('leaves no tensor behind', () => {
    expectNoLeak(() =>
      tf.dispose(tf.grads((xs: tf.Tensor) => tf.sum(linearProduct(xs as tf.Tensor2D, w, b)))([x])),
    );
  });
});

describe('batchProduct with the installed (kernel) products', () => {
  // attention's shapes in small: queries [B, T, H] against keys [B, S, H], weights [B, T, S]
  const q = randn([3, 4, 6], 4) as tf.Tensor3D;
  const keys = randn([3, 5, 6], 5) as tf.Tensor3D;
  const values = randn([3, 5, 7], 6) as tf.Tensor3D;
  const run = (p?: typeof TFJS_PRODUCTS) => (qs: tf.Tensor, ks: tf.Tensor, vs: tf.Tensor) => {
    const scores = batchProduct(qs as tf.Tensor3D, ks as tf.Tensor3D, true, p);
    return tf.tanh(batchProduct(tf.softmax(scores), vs as tf.Tensor3D, false, p));
  };
  const both = (f: (p?: typeof TFJS_PRODUCTS) => tf.Tensor[]) => [f(), f(TFJS_PRODUCTS)] as const;

  it('matches tfjs products forward and backward, with and without transposeB', () => {
    const [ours, ref] = both((p) =>
      tf.tidy(() => [
        run(p)(q, keys, values),
        ...tf.grads((a, b, c) => tf.sum(run(p)(a!, b!, c!)))([q, keys, values]),
      ]),
    );
    for (const [i, t] of ours.entries()) {
      expect(t.shape).toEqual(ref[i]!.shape);
      expect(maxAbsDiff(t, ref[i]!)).toBeLessThanOrEqual(1e-5);
    }
    tf.dispose([...ours, ...ref]);
  });

  it('gives the right second derivative: a backward being recorded runs as tfjs ops', () => {
    const penaltyGrad = (p?: typeof TFJS_PRODUCTS) =>
      tf.tidy(() =>
        tf.grad((ks: tf.Tensor) => {
          const dq = tf.grad((qs: tf.Tensor) => tf.sum(run(p)(qs, ks, values)))(q);
          return tf.sum(tf.square(dq));
        })(keys),
      );
    const [ours, ref] = both((p) => [penaltyGrad(p)]);
    expect(maxAbs(ref[0]!)).toBeGreaterThan(0.01);
    expect(maxAbsDiff(ours[0]!, ref[0]!)).toBeLessThanOrEqual(1e-5);
    tf.dispose([...ours, ...ref]);
  });

  it('leaves no tensor behind', () => {
    expectNoLeak(() =>
      tf.dispose(tf.grads((a, b, c) => tf.sum(run()(a!, b!, c!)))([q, keys, values])),
    );
  });
});
