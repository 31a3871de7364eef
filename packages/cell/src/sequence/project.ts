import { linearProduct, type Products, TFJS_PRODUCTS, useProducts } from '@rnnkit/ops/internal';
import * as tf from '@tensorflow/tfjs-core';
import { kernelTensor } from '../wasm/memory.js';
import type { RecurrentWeights } from '../weights.js';
import { kernel, tapeOn } from './engine.js';
import { hostView } from './infer.js';

/**
 * The products of `linearProduct` in the WebAssembly kernel's SIMD sgemm when it is ready (several
 * times faster than tfjs-cpu's matMul, and than tfjs-wasm's single-threaded one; W is packed once
 * and cached while unchanged), else tfjs's. A backward computed while a tape records it (a
 * gradient that will itself be differentiated) runs as tfjs ops, which that tape can see.
 */
const KERNEL_PRODUCTS: Products = {
  forward(x, w, b) {
    const k = kernel();
    if (!k) return TFJS_PRODUCTS.forward(x, w, b);
    const [N, K] = x.shape;
    const M = w.shape[0];
    const data = (t: tf.Tensor) => t.dataSync() as Float32Array;
    return tf.tensor2d(k.project(data(x), N, K, w, M, b ? data(b) : null), [N, M]);
  },
  backward(dy, x, w) {
    const k = tapeOn() ? null : kernel();
    if (!k) return TFJS_PRODUCTS.backward(dy, x, w);
    const [N, M] = dy.shape;
    const K = x.shape[1];
    const dHost = dy.dataSync() as Float32Array;
    const mul = k.gemm([{ b: w.dataSync() as Float32Array, K: M, N: K }], N);
    return [
      tf.tensor2d(mul(0, dHost, N).slice(), [N, K]),
      tf.tensor2d(k.sumOuter(dHost, N, M, x.dataSync() as Float32Array, K), [M, K]),
    ];
  },
  batchForward(a, b, transposeB) {
    const k = kernel();
    if (!k) return TFJS_PRODUCTS.batchForward(a, b, transposeB);
    const [B, M, K] = a.shape;
    const N = b.shape[transposeB ? 1 : 2];
    const c = k.batchGemm(hostView(a), hostView(b), B, M, K, N, transposeB);
    return kernelTensor(c, [B, M, N]) as tf.Tensor3D;
  },
  batchBackward(dy, a, b, transposeB) {
    const k = tapeOn() ? null : kernel();
    if (!k) return TFJS_PRODUCTS.batchBackward(dy, a, b, transposeB);
    const [B, M, N] = dy.shape;
    const K = a.shape[2];
    // y = a b^T: da = dy b, db = dy^T a; y = a b: da = dy b^T, db = a^T dy. Each result becomes a
    // tensor before the next kernel call, and no tfjs op runs while views of its heap are read.
    const da = kernelTensor(k.batchGemm(hostView(dy), hostView(b), B, M, N, K, !transposeB), [
      B,
      M,
      K,
    ]);
    const db = transposeB
      ? k.batchGemm(hostView(dy), hostView(a), B, N, M, K, false, true)
      : k.batchGemm(hostView(a), hostView(dy), B, K, M, N, false, true);
    return [da as tf.Tensor3D, kernelTensor(db, b.shape) as tf.Tensor3D];
  },
};

// Every `linearProduct` given no products (Linear's: attention, output layers) runs on them too.
useProducts(KERNEL_PRODUCTS);

/**
 * x [T, B, I] -> x W_ih^T + b_ih as [T, B, G*H], in one product (`linearProduct`), differentiable in
 * x, W_ih and b_ih. With `valid` [T, B] (1 while t < length), padded rows of x are read as zeros,
 * forward and backward, so NaN or Infinity there reaches neither the result nor dW_ih (PyTorch
 * never reads padding); their gradient is 0.
 */
export function projectInput(
  w: RecurrentWeights,
  x: tf.Tensor3D,
  valid: Uint8Array | null = null,
): tf.Tensor3D {
  const [T, B, I] = x.shape;
  const G = w.wih.shape[0] as number;
  const xs = valid ? readValid(x, valid) : x;
  const p = linearProduct(
    tf.reshape(xs, [T * B, I]),
    w.wih as tf.Tensor2D,
    (w.bih ?? null) as tf.Tensor1D | null,
    KERNEL_PRODUCTS,
  );
  return tf.reshape(p, [T, B, G]);
}

/** x [T, B, I] with the rows where valid [T, B] is 0 replaced by zeros (selected, not multiplied). */
export function readValid(x: tf.Tensor, valid: Uint8Array): tf.Tensor {
  const [T, B, I] = x.shape as number[];
  const keep = new Uint8Array(T * B * I);
  for (let r = 0; r < T * B; r++) if (valid[r]) keep.fill(1, r * I, (r + 1) * I);
  return tf.tidy(() => tf.where(tf.tensor3d(keep, [T, B, I], 'bool'), x, tf.zerosLike(x)));
}
