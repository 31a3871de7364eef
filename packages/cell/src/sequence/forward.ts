import * as tf from '@tensorflow/tfjs-core';
import type { RecurrentWeights } from '../weights.js';
import { packedLayout, type Run, type Saved } from './layout.js';

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

/**
 * a [B, K] (host memory) x w [K, N] -> [B, N] in host memory: one tfjs matMul. No tf.tidy here:
 * tidy walks a returned typed array element by element, which would cost more than the matMul.
 */
export function hostMatMul(a: Float32Array, B: number, w: tf.Tensor): Float32Array {
  const t = tf.tensor2d(a, [B, w.shape[0] as number]);
  const p = tf.matMul(t, w as tf.Tensor2D);
  const out = p.dataSync() as Float32Array;
  tf.dispose([t, p]);
  return out;
}

/**
 * The forward pass in JS, the path while the WebAssembly kernel is unavailable. Returns the packed
 * output (layout.ts) and, with `save`, what backward needs.
 */
export function forward(
  run: Run,
  w: RecurrentWeights,
  xProj: tf.Tensor,
  h0: tf.Tensor,
  c0: tf.Tensor | null,
  save: boolean,
): { packed: Float32Array; saved: Saved | null } {
  const { mode, T, B, H, G, S, reverse, valid } = run;
  const saved: Saved | null = save
    ? {
        gates: new Float32Array(T * B * G),
        hIn: new Float32Array(T * B * S),
        cIn: c0 ? new Float32Array(T * B * H) : null,
        hn: mode === 'gru' ? new Float32Array(T * B * H) : null,
      }
    : null;
  const X = xProj.dataSync() as Float32Array;
  const bhh = w.bhh ? (w.bhh.dataSync() as Float32Array) : new Float32Array(G);
  const layout = packedLayout(T, B, S, H, c0 !== null);
  const packed = new Float32Array(layout.length);
  const out = packed.subarray(layout.out, layout.h);
  const h = packed.subarray(layout.h, layout.h + B * S);
  h.set(h0.dataSync() as Float32Array);
  const c = c0 ? packed.subarray(layout.c) : null;
  c?.set(c0!.dataSync() as Float32Array);
  const full = w.whr ? new Float32Array(B * H) : null; // LSTM output before projection
  const gates = new Float32Array(B * G);
  const hn = mode === 'gru' ? new Float32Array(B * H) : null;
  // Transposed once here: tfjs-wasm's matMul is markedly slower with transposeB.
  const whhT = tf.transpose(w.whh);
  const whrT = w.whr ? tf.transpose(w.whr) : null;
  for (let s = 0; s < T; s++) {
    const t = reverse ? T - 1 - s : s;
    if (saved) {
      saved.hIn.set(h, t * B * S);
      saved.cIn?.set(c!, t * B * H);
    }
    const hp = hostMatMul(h, B, whhT);
    for (let b = 0; b < B; b++) {
      if (valid && !valid[t * B + b]) continue; // padded step: state kept, output stays zero
      const xo = (t * B + b) * G;
      const go = b * G;
      const ho = b * H;
      switch (mode) {
        case 'rnn_tanh':
          for (let j = 0; j < H; j++) {
            gates[go + j] = h[ho + j] = Math.tanh(X[xo + j] + hp[go + j] + bhh[j]);
          }
          break;
        case 'rnn_relu':
          for (let j = 0; j < H; j++) {
            gates[go + j] = h[ho + j] = Math.max(X[xo + j] + hp[go + j] + bhh[j], 0);
          }
          break;
        case 'lstm': {
          const target = full ?? h;
          for (let j = 0; j < H; j++) {
            const i = sigmoid(X[xo + j] + hp[go + j] + bhh[j]);
            const f = sigmoid(X[xo + H + j] + hp[go + H + j] + bhh[H + j]);
            const g = Math.tanh(X[xo + 2 * H + j] + hp[go + 2 * H + j] + bhh[2 * H + j]);
            const o = sigmoid(X[xo + 3 * H + j] + hp[go + 3 * H + j] + bhh[3 * H + j]);
            gates[go + j] = i;
            gates[go + H + j] = f;
            gates[go + 2 * H + j] = g;
            gates[go + 3 * H + j] = o;
            const cj = Math.fround(f * c![ho + j] + i * g);
            c![ho + j] = cj;
            target[ho + j] = o * Math.tanh(cj);
          }
          break;
        }
        case 'gru':
          for (let j = 0; j < H; j++) {
            const r = sigmoid(X[xo + j] + hp[go + j] + bhh[j]);
            const z = sigmoid(X[xo + H + j] + hp[go + H + j] + bhh[H + j]);
            const hnj = Math.fround(hp[go + 2 * H + j] + bhh[2 * H + j]);
            const n = Math.tanh(X[xo + 2 * H + j] + r * hnj);
            gates[go + j] = r;
            gates[go + H + j] = z;
            gates[go + 2 * H + j] = n;
            hn![ho + j] = hnj;
            h[ho + j] = n + z * (h[ho + j] - n);
          }
          break;
      }
    }
    if (saved) {
      saved.gates.set(gates, t * B * G);
      saved.hn?.set(hn!, t * B * H);
    }
    if (full) {
      // LSTM projection: h = full W_hr^T for the sequences still running.
      const projected = hostMatMul(full, B, whrT!);
      for (let b = 0; b < B; b++) {
        if (!valid || valid[t * B + b]) h.set(projected.subarray(b * S, (b + 1) * S), b * S);
      }
    }
    for (let b = 0; b < B; b++) {
      if (!valid || valid[t * B + b]) out.set(h.subarray(b * S, (b + 1) * S), (t * B + b) * S);
    }
  }
  tf.dispose(whrT ? [whhT, whrT] : [whhT]);
  return { packed, saved };
}
