import * as tf from '@tensorflow/tfjs-core';
import type { RecurrentWeights } from './weights.js';

/** The recurrent state: h [B, H or P]; c [B, H] for LSTM only. */
export type State = {
  h: tf.Tensor;
  c?: tf.Tensor;
};

/** h [B, S] x W [G, S] -> [B, G] (+ bias) */
function hiddenProjection(h: tf.Tensor, w: tf.Tensor, b: tf.Tensor | null): tf.Tensor {
  const hp = tf.matMul(h as tf.Tensor2D, w as tf.Tensor2D, false, true);
  return b ? tf.add(hp, b) : hp;
}

/**
 * One time step of any PyTorch recurrence, given xp = x W_ih^T + b_ih [B, G*H] (already projected).
 * RNN: h' = act(xp + h W_hh^T + b_hh)
 * LSTM: i,f,g,o = split(xp + h W_hh^T + b_hh); c' = σf*c + σi*tanh g; h' = (σo*tanh c') W_hr^T
 * GRU: r,z = σ(xp_rz + hp_rz); n = tanh(xp_n + r*hp_n); h' = (1-z)*n + z*h
 * Returns new tensors; the caller owns them.
 */
export function cellStep(w: RecurrentWeights, xp: tf.Tensor, state: State): State {
  return tf.tidy((): State => {
    const hp = hiddenProjection(state.h, w.whh, w.bhh);
    switch (w.mode) {
      case 'rnn_tanh':
        return { h: tf.tanh(tf.add(xp, hp)) };
      case 'rnn_relu':
        return { h: tf.relu(tf.add(xp, hp)) };
      case 'lstm': {
        const [i, f, g, o] = tf.split(tf.add(xp, hp), 4, 1);
        const c = tf.add(tf.mul(tf.sigmoid(f), state.c!), tf.mul(tf.sigmoid(i), tf.tanh(g)));
        let h: tf.Tensor = tf.mul(tf.sigmoid(o), tf.tanh(c));
        if (w.whr) h = tf.matMul(h as tf.Tensor2D, w.whr as tf.Tensor2D, false, true);
        return { h, c };
      }
      case 'gru': {
        const [xr, xz, xn] = tf.split(xp, 3, 1);
        const [hr, hz, hn] = tf.split(hp, 3, 1);
        const r = tf.sigmoid(tf.add(xr, hr));
        const z = tf.sigmoid(tf.add(xz, hz));
        const n = tf.tanh(tf.add(xn, tf.mul(r, hn)));
        return { h: tf.add(n, tf.mul(z, tf.sub(state.h, n))) };
      }
    }
  });
}
