import * as tf from '@tensorflow/tfjs-core';
import type { RecurrentWeights } from '../weights.js';
import { kernel } from './engine.js';

/**
 * x [T, B, I] -> x W_ih^T + b_ih as [T, B, G*H], in one matMul, differentiable in x, W_ih and b_ih.
 * With `valid` [T, B] (1 while t < length), padded rows of x are read as zeros, forward and
 * backward, so NaN or Infinity there reaches neither the result nor dW_ih (PyTorch never reads
 * padding); their gradient is 0.
 * Its own gradient only so every matMul, forward and backward, runs untransposed: tfjs-wasm's
 * matMul is many times slower with transposeA or transposeB, which tfjs's generic gradient uses.
 * The forward and both products of the backward run in the WebAssembly kernel's SIMD sgemm when it
 * is ready (several times faster than tfjs-cpu's matMul), else as tfjs matMuls.
 */
export function projectInput(
  w: RecurrentWeights,
  x: tf.Tensor3D,
  valid: Uint8Array | null = null,
): tf.Tensor3D {
  const [T, B, I] = x.shape;
  const G = w.wih.shape[0] as number;
  const inputs = w.bih ? [x, w.wih, w.bih] : [x, w.wih];
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [given, wih, bih] = args.slice(0, inputs.length) as tf.Tensor[];
    const xs = valid ? readValid(given, valid) : given;
    const x2 = tf.reshape(xs, [T * B, I]);
    let p: tf.Tensor;
    const k = kernel();
    if (k) {
      const data = (t: tf.Tensor) => t.dataSync() as Float32Array;
      const b = bih ? data(bih) : null;
      p = tf.tensor2d(k.project(data(x2), T * B, I, wih, G, b), [T * B, G]);
    } else {
      p = tf.matMul(x2, tf.transpose(wih));
      if (bih) p = tf.add(p, bih);
    }
    // Saved only now: tfjs keeps its copies outside every tidy, so a failed forward would leak them.
    (args[inputs.length] as tf.GradSaveFunc)([xs, wih]);
    const gradFunc = (dy: tf.Tensor, [xSaved, wSaved]: tf.Tensor[]) => {
      const d = tf.reshape(dy, [T * B, G]);
      let dx: tf.Tensor;
      let dw: tf.Tensor;
      const k = kernel();
      if (k) {
        // dx = d W_ih and dW_ih = d^T x in the kernel's sgemm (tfjs-cpu's matMul is far slower).
        const dHost = d.dataSync() as Float32Array;
        const xHost = xSaved.dataSync() as Float32Array;
        const mul = k.gemm([{ b: wSaved.dataSync() as Float32Array, K: G, N: I }], T * B);
        dx = tf.tensor3d(mul(0, dHost, T * B).slice(), [T, B, I]);
        dw = tf.tensor2d(k.sumOuter(dHost, T * B, G, xHost, I), [G, I]);
      } else {
        dx = tf.reshape(tf.matMul(d, wSaved), [T, B, I]);
        dw = tf.matMul(tf.transpose(d), tf.reshape(xSaved, [T * B, I]));
      }
      return bih ? [dx, dw, tf.sum(d, 0)] : [dx, dw];
    };
    return { value: tf.reshape(p, [T, B, G]), gradFunc };
  });
  return op(...inputs) as tf.Tensor3D;
}

/** x [T, B, I] with the rows where valid [T, B] is 0 replaced by zeros (selected, not multiplied). */
export function readValid(x: tf.Tensor, valid: Uint8Array): tf.Tensor {
  const [T, B, I] = x.shape as number[];
  const keep = new Uint8Array(T * B * I);
  for (let r = 0; r < T * B; r++) if (valid[r]) keep.fill(1, r * I, (r + 1) * I);
  return tf.tidy(() => tf.where(tf.tensor3d(keep, [T, B, I], 'bool'), x, tf.zerosLike(x)));
}
