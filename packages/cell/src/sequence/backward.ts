import * as tf from '@tensorflow/tfjs-core';
import { kernel } from './engine.js';
import { hostMatMul } from './forward.js';
import { packedLayout, type Run, type Saved } from './layout.js';

/** Gradients of the op's inputs (null where the input is absent). */
export interface Grads {
  x: tf.Tensor;
  h: tf.Tensor;
  c: tf.Tensor | null;
  whh: tf.Tensor;
  bhh: tf.Tensor | null;
  whr: tf.Tensor | null;
}

/**
 * BPTT over the saved forward, dy the packed output's gradient. Walks the steps in reverse on host
 * arrays with one matMul per step (dh_prev = dgates W_hh); dW_hh and dW_hr are one matMul each
 * over all T*B rows at the end. Padded steps pass the state gradient through unchanged.
 */
export function backward(
  run: Run,
  saved: Saved,
  dy: Float32Array,
  whh: tf.Tensor,
  whr: tf.Tensor | null,
  bias: boolean,
): Grads {
  const { mode, T, B, H, G, S, reverse, valid } = run;
  const { gates, hIn, cIn, hn } = saved;
  const layout = packedLayout(T, B, S, H, mode === 'lstm');
  const dh = dy.slice(layout.h, layout.h + B * S);
  const dc = layout.c >= 0 ? dy.slice(layout.c) : null;
  const dX = new Float32Array(T * B * G); // [T, B, G] gradient of xProj
  // [T, B, G] gradient of h W_hh^T + b_hh: that of xProj but for GRU's n gate, scaled by r
  const dHH = mode === 'gru' ? new Float32Array(T * B * G) : dX;
  const dHt = whr ? new Float32Array(T * B * S) : null; // [T, B, P] gradient of each step's h
  const fulls = whr ? new Float32Array(T * B * H) : null; // [T, B, H] h before projection
  const dht = new Float32Array(B * S); // gradient of the state leaving the current step
  // The per-step products in the kernel's sgemm when it is ready (W_hh and W_hr packed once),
  // else one tfjs matMul each.
  const k = kernel();
  const gemm = k
    ? k.gemm(
        [
          { b: whh.dataSync() as Float32Array, K: G, N: S },
          ...(whr ? [{ b: whr.dataSync() as Float32Array, K: S, N: H }] : []),
        ],
        B,
      )
    : null;
  const mulWhh = (a: Float32Array) => (gemm ? gemm(0, a, B) : hostMatMul(a, B, whh));
  const mulWhr = (a: Float32Array) => (gemm ? gemm(1, a, B) : hostMatMul(a, B, whr!));
  for (let s = T - 1; s >= 0; s--) {
    const t = reverse ? T - 1 - s : s;
    for (let b = 0; b < B; b++) {
      const row = (t * B + b) * S;
      const on = !valid || valid[t * B + b];
      for (let j = 0; j < S; j++) dht[b * S + j] = on ? dh[b * S + j] + dy[row + j] : 0;
    }
    // LSTM projection h = full W_hr^T: the gradient of full is dh W_hr
    dHt?.set(dht, t * B * S);
    const dfull = whr ? mulWhr(dht) : dht;
    for (let b = 0; b < B; b++) {
      if (valid && !valid[t * B + b]) continue;
      const go = (t * B + b) * G;
      const ro = (t * B + b) * H;
      const ho = b * H;
      switch (mode) {
        case 'rnn_tanh':
          for (let j = 0; j < H; j++) {
            const y = gates[go + j];
            dX[go + j] = dht[ho + j] * (1 - y * y);
          }
          break;
        case 'rnn_relu':
          for (let j = 0; j < H; j++) dX[go + j] = gates[go + j] > 0 ? dht[ho + j] : 0;
          break;
        case 'lstm':
          for (let j = 0; j < H; j++) {
            const i = gates[go + j];
            const f = gates[go + H + j];
            const g = gates[go + 2 * H + j];
            const o = gates[go + 3 * H + j];
            const cp = cIn![ro + j];
            const tc = Math.tanh(Math.fround(f * cp + i * g));
            if (fulls) fulls[ro + j] = o * tc;
            const dhj = dfull[ho + j];
            const dct = dc![ho + j] + dhj * o * (1 - tc * tc);
            dX[go + j] = dct * g * i * (1 - i);
            dX[go + H + j] = dct * cp * f * (1 - f);
            dX[go + 2 * H + j] = dct * i * (1 - g * g);
            dX[go + 3 * H + j] = dhj * tc * o * (1 - o);
            dc![ho + j] = dct * f;
          }
          break;
        case 'gru':
          for (let j = 0; j < H; j++) {
            const r = gates[go + j];
            const z = gates[go + H + j];
            const n = gates[go + 2 * H + j];
            const dhj = dht[ho + j];
            const dn = dhj * (1 - z) * (1 - n * n);
            const dr = dn * hn![ro + j] * r * (1 - r);
            const dz = dhj * (hIn[ro + j] - n) * z * (1 - z);
            dX[go + j] = dHH[go + j] = dr;
            dX[go + H + j] = dHH[go + H + j] = dz;
            dX[go + 2 * H + j] = dn;
            dHH[go + 2 * H + j] = dn * r;
          }
          break;
      }
    }
    const dhp = mulWhh(dHH.subarray(t * B * G, (t + 1) * B * G));
    for (let b = 0; b < B; b++) {
      if (valid && !valid[t * B + b]) continue;
      const go = (t * B + b) * G + H; // GRU: h' = (1 - z) n + z h also passes dh * z straight on
      for (let j = 0; j < S; j++) {
        dh[b * S + j] = dhp[b * S + j] + (mode === 'gru' ? dht[b * S + j] * gates[go + j] : 0);
      }
    }
  }
  const dbhh = bias ? new Float32Array(G) : null;
  if (dbhh) {
    const acc = new Float64Array(G);
    for (let r = 0; r < T * B; r++) for (let k = 0; k < G; k++) acc[k] += dHH[r * G + k];
    dbhh.set(acc);
  }
  // a^T b over all T*B rows, a [T*B, M], b [T*B, N] -> [M, N]: in the kernel when it is ready,
  // else with an explicit transpose, because tfjs-wasm's matMul with transposeA is several times
  // slower.
  const sumOuter = (a: Float32Array, M: number, b: Float32Array, N: number) =>
    k
      ? tf.tensor2d(k.sumOuter(a, T * B, M, b, N), [M, N])
      : tf.tidy(() =>
          tf.matMul(tf.transpose(tf.tensor2d(a, [T * B, M])), tf.tensor2d(b, [T * B, N])),
        );
  return {
    x: tf.tensor3d(dX, [T, B, G]),
    h: tf.tensor2d(dh, [B, S]),
    c: dc ? tf.tensor2d(dc, [B, H]) : null,
    whh: sumOuter(dHH, G, hIn, S),
    bhh: dbhh ? tf.tensor1d(dbhh) : null,
    whr: whr ? sumOuter(dHt!, S, fulls!, H) : null,
  };
}
