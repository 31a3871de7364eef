/**
 * The naive per-step loop a tfjs user writes first: plain tfjs-core ops, each step slices x_t
 * out of the input and multiplies both x_t and h by their weights (no hoisted input projection).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { CellKind } from './cases.js';
import type { TorchWeights } from './layers.js';

/** x [B, T, I] (batch first) -> output sequence [B, T, H]; PyTorch's equations and gate order. */
export function naiveForward(cell: CellKind, w: TorchWeights, x: tf.Tensor3D): tf.Tensor3D {
  return tf.tidy(() => {
    const [B, T, I] = x.shape;
    const H = w.weight_hh.shape[1];
    let h: tf.Tensor = tf.zeros([B, H]);
    let c: tf.Tensor = tf.zeros([B, H]);
    const outs: tf.Tensor[] = [];
    for (let t = 0; t < T; t++) {
      const xt = tf.reshape(tf.slice(x, [0, t, 0], [B, 1, I]), [B, I]) as tf.Tensor2D;
      const gi = tf.add(tf.matMul(xt, w.weight_ih, false, true), w.bias_ih);
      const gh = tf.add(tf.matMul(h as tf.Tensor2D, w.weight_hh, false, true), w.bias_hh);
      if (cell === 'rnn') {
        h = tf.tanh(tf.add(gi, gh));
      } else if (cell === 'lstm') {
        const [i, f, g, o] = tf.split(tf.add(gi, gh), 4, 1);
        c = tf.add(tf.mul(tf.sigmoid(f), c), tf.mul(tf.sigmoid(i), tf.tanh(g)));
        h = tf.mul(tf.sigmoid(o), tf.tanh(c));
      } else {
        const [ir, iz, inn] = tf.split(gi, 3, 1);
        const [hr, hz, hn] = tf.split(gh, 3, 1);
        const r = tf.sigmoid(tf.add(ir, hr));
        const z = tf.sigmoid(tf.add(iz, hz));
        const n = tf.tanh(tf.add(inn, tf.mul(r, hn)));
        h = tf.add(tf.mul(tf.sub(1, z), n), tf.mul(z, h));
      }
      outs.push(h);
    }
    return tf.stack(outs, 1) as tf.Tensor3D;
  });
}
