import * as tf from '@tensorflow/tfjs-core';
import { projectInput } from './project.js';
import type { State } from './step.js';
import { GATES, type RecurrentWeights } from './weights.js';

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

/** h [B, S] (host memory) x wT [S, G] -> [B, G] in host memory: one tfjs matMul. */
function hostMatMul(h: Float32Array, B: number, wT: tf.Tensor): Float32Array {
  return tf.tidy(() => {
    const hT = tf.tensor2d(h, [B, wT.shape[0] as number]);
    return tf.matMul(hT, wT as tf.Tensor2D).dataSync() as Float32Array;
  });
}

/**
 * The same recurrence as `cellStep` over a whole sequence, for inference (no gradient tape):
 * the input projection is one tfjs matMul read back once, each step runs one tfjs matMul for
 * h W_hh^T and does the gate arithmetic in place on host arrays, so no per-step slice, split or
 * small elementwise kernels are launched (they dominate on wasm). Same semantics as runSequence.
 */
export function runSequenceInference(
  w: RecurrentWeights,
  x: tf.Tensor3D,
  init: State,
  reverse: boolean,
  mask: tf.Tensor3D | null,
): { output: tf.Tensor3D; state: State } {
  const [T, B] = x.shape;
  const H = w.hiddenSize;
  const G = GATES[w.mode] * H;
  const S = w.whr ? (w.whr.shape[0] as number) : H;
  const projected = projectInput(w, x);
  const X = projected.dataSync() as Float32Array;
  projected.dispose();
  const bhh = w.bhh ? (w.bhh.dataSync() as Float32Array) : new Float32Array(G);
  const valid = mask ? (mask.dataSync() as Uint8Array) : null;
  const h = Float32Array.from(init.h.dataSync() as Float32Array);
  const c = init.c ? Float32Array.from(init.c.dataSync() as Float32Array) : null;
  const full = w.whr ? new Float32Array(B * H) : null; // LSTM output before projection
  const out = new Float32Array(T * B * S);
  // Transposed once here: tfjs-wasm's matMul is markedly slower with transposeB.
  const whhT = tf.transpose(w.whh);
  const whrT = w.whr ? tf.transpose(w.whr) : null;
  for (let s = 0; s < T; s++) {
    const t = reverse ? T - 1 - s : s;
    const hp = hostMatMul(h, B, whhT);
    for (let b = 0; b < B; b++) {
      if (valid && !valid[t * B + b]) continue; // padded step: state kept, output stays zero
      const xo = (t * B + b) * G;
      const ho = b * G;
      const so = b * H;
      switch (w.mode) {
        case 'rnn_tanh':
        case 'rnn_relu':
          for (let j = 0; j < H; j++) {
            const v = X[xo + j] + hp[ho + j] + bhh[j];
            h[so + j] = w.mode === 'rnn_tanh' ? Math.tanh(v) : Math.max(v, 0);
          }
          break;
        case 'lstm': {
          const target = full ?? h;
          for (let j = 0; j < H; j++) {
            const i = sigmoid(X[xo + j] + hp[ho + j] + bhh[j]);
            const f = sigmoid(X[xo + H + j] + hp[ho + H + j] + bhh[H + j]);
            const g = Math.tanh(X[xo + 2 * H + j] + hp[ho + 2 * H + j] + bhh[2 * H + j]);
            const o = sigmoid(X[xo + 3 * H + j] + hp[ho + 3 * H + j] + bhh[3 * H + j]);
            const cj = Math.fround(f * c![so + j] + i * g);
            c![so + j] = cj;
            target[so + j] = o * Math.tanh(cj);
          }
          break;
        }
        case 'gru':
          for (let j = 0; j < H; j++) {
            const r = sigmoid(X[xo + j] + hp[ho + j] + bhh[j]);
            const z = sigmoid(X[xo + H + j] + hp[ho + H + j] + bhh[H + j]);
            const n = Math.tanh(
              X[xo + 2 * H + j] + r * Math.fround(hp[ho + 2 * H + j] + bhh[2 * H + j]),
            );
            h[so + j] = n + z * (h[so + j] - n);
          }
          break;
      }
    }
    if (full) {
      // LSTM projection: h = full W_hr^T for the sequences still running.
      const projectedH = hostMatMul(full, B, whrT!);
      for (let b = 0; b < B; b++) {
        if (!valid || valid[t * B + b]) h.set(projectedH.subarray(b * S, (b + 1) * S), b * S);
      }
    }
    for (let b = 0; b < B; b++) {
      if (!valid || valid[t * B + b]) out.set(h.subarray(b * S, (b + 1) * S), (t * B + b) * S);
    }
  }
  tf.dispose([whhT, whrT ?? []].flat());
  return {
    output: tf.tensor3d(out, [T, B, S]),
    state: { h: tf.tensor2d(h, [B, S]), ...(c ? { c: tf.tensor2d(c, [B, H]) } : {}) },
  };
}
