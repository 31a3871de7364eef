import * as tf from '@tensorflow/tfjs-core';
import type { CellMode, RecurrentWeights, State } from '../weights.js';
import { readValid } from './project.js';

/**
 * The recurrence of one direction of one layer as plain tfjs ops, one step at a time (matMul,
 * sigmoid, tanh, where): slower than the fused op, but every op's gradient is itself tfjs ops, so
 * gradients of gradients (gradient penalties, Hessian-vector products) are exact. The engine runs
 * it only when such a gradient may be asked for (`higherOrder()` in engine.ts).
 * x [T, B, I] time-major; `valid` [T, B] as in `recurrence` (padded steps keep the state, output
 * zeros, and their x is read as zeros). Returns outputs [T, B, S] and the final state.
 */
export function stepwise(
  w: RecurrentWeights,
  x: tf.Tensor3D,
  init: State,
  reverse: boolean,
  valid: Uint8Array | null,
): { output: tf.Tensor3D; state: State } {
  const [T, B, I] = x.shape;
  const H = w.hiddenSize;
  const G = w.wih.shape[0] as number;
  const S = init.h.shape[1] as number;
  let xp = tf.matMul(tf.reshape(valid ? readValid(x, valid) : x, [T * B, I]), w.wih, false, true);
  if (w.bih) xp = tf.add(xp, w.bih);
  const proj = tf.reshape(xp, [T, B, G]);
  let h = init.h;
  let c = init.c ?? null;
  const outs: tf.Tensor[] = new Array(T);
  for (let s = 0; s < T; s++) {
    const t = reverse ? T - 1 - s : s;
    const xt = tf.reshape(tf.slice(proj, [t, 0, 0], [1, B, G]), [B, G]);
    let hp = tf.matMul(h, w.whh, false, true);
    if (w.bhh) hp = tf.add(hp, w.bhh);
    const next = step(w.mode, xt, hp, h, c);
    let hNext = next.h;
    const cNext = next.c;
    if (w.whr) hNext = tf.matMul(hNext, w.whr, false, true);
    if (valid) {
      const row = valid.subarray(t * B, (t + 1) * B);
      const keep = (size: number) => {
        const m = new Uint8Array(B * size);
        for (let b = 0; b < B; b++) if (row[b]) m.fill(1, b * size, (b + 1) * size);
        return tf.tensor2d(m, [B, size], 'bool');
      };
      const mS = keep(S);
      outs[t] = tf.where(mS, hNext, tf.zerosLike(hNext));
      h = tf.where(mS, hNext, h);
      if (c && cNext) c = tf.where(keep(H), cNext, c);
    } else {
      outs[t] = h = hNext;
      c = cNext;
    }
  }
  const state: State = { h };
  if (c) state.c = c;
  return { output: tf.stack(outs) as tf.Tensor3D, state };
}

/**
 * tanh and sigmoid with gradients computed from their input, by themselves: any order exact. tfjs's
 * own Tanh and Sigmoid gradients read the saved output, a clone the tape records before the op
 * itself, so a gradient of their gradient treats it as a constant (a wrong second derivative).
 */
const tanh = activation(tf.tanh, (x, dy) => tf.mul(dy, tf.sub(1, tf.square(tanh(x)))));
const sigmoid = activation(tf.sigmoid, (x, dy) => {
  const s = sigmoid(x);
  return tf.mul(dy, tf.mul(s, tf.sub(1, s)));
});

function activation(
  f: (x: tf.Tensor) => tf.Tensor,
  grad: (x: tf.Tensor, dy: tf.Tensor) => tf.Tensor,
): (x: tf.Tensor) => tf.Tensor {
  return tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
    save([x]);
    return { value: f(x), gradFunc: (dy: tf.Tensor, [xs]: tf.Tensor[]) => grad(xs, dy) };
  }) as unknown as Parameters<typeof tf.customGrad>[0]) as (x: tf.Tensor) => tf.Tensor;
}

/** One step's gate math: xt = x W_ih^T + b_ih and hp = h W_hh^T + b_hh, both [B, G]. */
function step(
  mode: CellMode,
  xt: tf.Tensor,
  hp: tf.Tensor,
  h: tf.Tensor,
  c: tf.Tensor | null,
): { h: tf.Tensor; c: tf.Tensor | null } {
  switch (mode) {
    case 'rnn_tanh':
      return { h: tanh(tf.add(xt, hp)), c: null };
    case 'rnn_relu':
      return { h: tf.relu(tf.add(xt, hp)), c: null };
    case 'lstm': {
      const [i, f, g, o] = tf.split(tf.add(xt, hp), 4, 1);
      const cNext = tf.add(tf.mul(sigmoid(f), c!), tf.mul(sigmoid(i), tanh(g)));
      return { h: tf.mul(sigmoid(o), tanh(cNext)), c: cNext };
    }
    case 'gru': {
      const [xr, xz, xn] = tf.split(xt, 3, 1);
      const [hr, hz, hn] = tf.split(hp, 3, 1);
      const r = sigmoid(tf.add(xr, hr));
      const z = sigmoid(tf.add(xz, hz));
      const n = tanh(tf.add(xn, tf.mul(r, hn)));
      return { h: tf.add(n, tf.mul(z, tf.sub(h, n))), c: null };
    }
  }
}
