import * as tf from '@tensorflow/tfjs-core';
import type { RecurrentWeights } from './weights.js';

/** x [T, B, I] -> x W_ih^T + b_ih as [T, B, G*H], in one matMul. */
export function projectInput(w: RecurrentWeights, x: tf.Tensor3D): tf.Tensor3D {
  return tf.tidy(() => {
    const [T, B, I] = x.shape;
    let p: tf.Tensor2D = tf.matMul(tf.reshape(x, [T * B, I]), w.wih as tf.Tensor2D, false, true);
    if (w.bih) p = tf.add(p, w.bih);
    return tf.reshape(p, [T, B, -1]);
  });
}
