import * as tf from '@tensorflow/tfjs-core';
import { assertRank, assertShape } from './guards.js';

/**
 * How the products of y = x W^T (x [N, K], w [M, K]) and of batched y = a b (a [B, M, K], b
 * [B, K, N], or b [B, N, K] used transposed with `transposeB`) are computed, with their gradients:
 * tensors in, tensors out. The default runs them as tfjs matMuls; @rnnkit/cell installs its
 * WebAssembly kernel's sgemm.
 */
export interface Products {
  /** x w^T (+ b) -> [N, M] */
  forward(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D | null): tf.Tensor2D;
  /** dy [N, M] -> [dx = dy w [N, K], dw = dy^T x [M, K]] */
  backward(dy: tf.Tensor2D, x: tf.Tensor2D, w: tf.Tensor2D): [tf.Tensor2D, tf.Tensor2D];
  /** a b (or a b^T) -> [B, M, N] */
  batchForward(a: tf.Tensor3D, b: tf.Tensor3D, transposeB: boolean): tf.Tensor3D;
  /** dy [B, M, N] -> [da, db], shaped as a and b */
  batchBackward(
    dy: tf.Tensor3D,
    a: tf.Tensor3D,
    b: tf.Tensor3D,
    transposeB: boolean,
  ): [tf.Tensor3D, tf.Tensor3D];
}

/** t [B, R, C] -> [B, C, R] */
const swap = (t: tf.Tensor3D) => tf.transpose(t, [0, 2, 1]);

/**
 * The products as tfjs matMuls, every one untransposed (the transposes are explicit copies):
 * tfjs-wasm's matMul is many times slower with transposeA or transposeB (about 15x at
 * [2560, 384] x [384, 128]), and tfjs's generic matMul gradient uses both.
 */
export const TFJS_PRODUCTS: Products = {
  forward(x, w, b) {
    const y = tf.matMul(x, tf.transpose(w)) as tf.Tensor2D;
    return b ? (tf.add(y, b) as tf.Tensor2D) : y;
  },
  backward(dy, x, w) {
    return [tf.matMul(dy, w), tf.matMul(tf.transpose(dy), x)];
  },
  batchForward(a, b, transposeB) {
    return tf.matMul(a, transposeB ? swap(b) : b);
  },
  batchBackward(dy, a, b, transposeB) {
    return transposeB
      ? [tf.matMul(dy, b), tf.matMul(swap(dy), a)]
      : [tf.matMul(dy, swap(b)), tf.matMul(swap(a), dy)];
  },
};

/** The products of a `linearProduct` given none (Linear's): tfjs's until `useProducts`. */
let installed: Products = TFJS_PRODUCTS;

/**
 * Makes `p` the products of every `linearProduct` given none, e.g. `Linear`'s: @rnnkit/cell
 * installs its WebAssembly kernel's when it loads (they fall back to tfjs's where the kernel is not
 * in use).
 */
export function useProducts(p: Products): void {
  installed = p;
}

/**
 * x [N, K] -> x w^T + b as [N, M] (w [M, K], b [M] or null), differentiable in x, w and b, with
 * its own gradient so that `products` decide every product, forward and backward (default: the
 * installed ones, see `useProducts`).
 */
export function linearProduct(
  x: tf.Tensor2D,
  w: tf.Tensor2D,
  b: tf.Tensor1D | null,
  products: Products = installed,
): tf.Tensor2D {
  const inputs = b ? [x, w, b] : [x, w];
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [xs, ws, bs] = args.slice(0, inputs.length) as tf.Tensor[];
    const value = products.forward(
      xs as tf.Tensor2D,
      ws as tf.Tensor2D,
      (bs ?? null) as tf.Tensor1D,
    );
    // Saved only now: tfjs keeps its copies outside every tidy, so a failed forward would leak them.
    (args[inputs.length] as tf.GradSaveFunc)([xs, ws]);
    const gradFunc = (dy: tf.Tensor, [xSaved, wSaved]: tf.Tensor[]) => {
      const [dx, dw] = products.backward(
        dy as tf.Tensor2D,
        xSaved as tf.Tensor2D,
        wSaved as tf.Tensor2D,
      );
      return b ? [dx, dw, tf.sum(dy, 0)] : [dx, dw];
    };
    return { value, gradFunc };
  });
  return op(...inputs) as tf.Tensor2D;
}

/**
 * a [B, M, K] x b [B, K, N] (or b^T with `transposeB`, b [B, N, K]) -> [B, M, N], as
 * tf.matMul(a, b, false, transposeB), differentiable in a and b, with its own gradient so that
 * `products` decide every product, forward and backward (default: the installed ones). Throws
 * ShapeError when the shapes do not fit (the kernel's products read the arrays as these shapes).
 */
export function batchProduct(
  a: tf.Tensor3D,
  b: tf.Tensor3D,
  transposeB = false,
  products: Products = installed,
): tf.Tensor3D {
  assertRank(a, 'batchProduct(a)', [3], '[B, M, K]');
  const [B, , K] = a.shape;
  assertShape(b, 'batchProduct(b)', transposeB ? [B, null, K] : [B, K, null]);
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [as, bs] = args as [tf.Tensor3D, tf.Tensor3D];
    const value = products.batchForward(as, bs, transposeB);
    (args[2] as tf.GradSaveFunc)([as, bs]);
    const gradFunc = (dy: tf.Tensor, [aSaved, bSaved]: tf.Tensor[]) =>
      products.batchBackward(
        dy as tf.Tensor3D,
        aSaved as tf.Tensor3D,
        bSaved as tf.Tensor3D,
        transposeB,
      );
    return { value, gradFunc };
  });
  return op(a, b) as tf.Tensor3D;
}
