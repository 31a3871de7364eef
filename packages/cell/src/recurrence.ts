import * as tf from '@tensorflow/tfjs-core';
import {
  type KernelInputs,
  kernelGemm,
  kernelReady,
  kernelRecurrence,
  kernelSumOuter,
  type Run,
  type Saved,
} from './kernel.js';
import type { RecurrentWeights } from './weights.js';

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

/** True while tfjs records operations for a gradient (inside tf.grad, variableGrads, ...). */
function tapeOn(): boolean {
  return (tf.engine() as unknown as { isTapeOn(): boolean }).isTapeOn();
}

/**
 * a [B, K] (host memory) x w [K, N] -> [B, N] in host memory: one tfjs matMul. No tf.tidy here:
 * tidy walks a returned typed array element by element, which would cost more than the matMul.
 */
function hostMatMul(a: Float32Array, B: number, w: tf.Tensor): Float32Array {
  const t = tf.tensor2d(a, [B, w.shape[0] as number]);
  const p = tf.matMul(t, w as tf.Tensor2D);
  const out = p.dataSync() as Float32Array;
  tf.dispose([t, p]);
  return out;
}

/**
 * The whole recurrence of one direction of one layer as a single differentiable tfjs op.
 * xProj [T, B, G] = x W_ih^T + b_ih (from projectInput, which passes the gradient on to W_ih, b_ih
 * and x), h0 [B, S], c0 [B, H] (LSTM only); `valid` [T, B] gives pack_padded_sequence semantics
 * (padded steps keep the state and output zeros). The forward runs whole in the WebAssembly SIMD
 * kernel (kernel.ts) when it is ready, else in JS on host arrays with one tfjs matMul per step;
 * both save the same activations and states for the backward (BPTT), which runs its gate
 * arithmetic on host arrays with one tfjs matMul per step; gradients flow to xProj, h0, c0, W_hh,
 * b_hh, W_hr. Returns one packed tensor [T*B*S + B*S (+ B*H)]: outputs [T, B, S], final h [B, S],
 * final c [B, H].
 */
export function recurrence(
  w: RecurrentWeights,
  xProj: tf.Tensor3D,
  h0: tf.Tensor,
  c0: tf.Tensor | null,
  reverse: boolean,
  valid: Uint8Array | null,
): tf.Tensor1D {
  const [T, B, G] = xProj.shape;
  const H = w.hiddenSize;
  const S = w.whr ? (w.whr.shape[0] as number) : H;
  const run: Run = { mode: w.mode, T, B, H, G, S, reverse, valid };
  const record = tapeOn();
  const inputs = [xProj, h0, c0, w.whh, w.bhh, w.whr].filter((t): t is tf.Tensor => t !== null);
  // The op reads its inputs from this closure; listing them as inputs routes their gradients.
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    // The tape keeps W_hh and W_hr until backward (they may be temporaries, e.g. a split weight).
    (args[args.length - 1] as tf.GradSaveFunc)(w.whr ? [w.whh, w.whr] : [w.whh]);
    const { packed, saved } = kernelReady()
      ? kernelRecurrence(hostInputs(run, w, xProj.dataSync() as Float32Array, h0, c0), record)
      : forward(run, w, xProj, h0, c0, record);
    const value = tf.tensor1d(packed);
    const gradFunc = (dy: tf.Tensor, [whh, whr]: tf.Tensor[]) => {
      const dyHost = dy.dataSync() as Float32Array;
      const g = backward(run, saved!, dyHost, whh, whr ?? null, w.bhh !== null);
      return [g.x, g.h, g.c, g.whh, g.bhh, g.whr].filter((t): t is tf.Tensor => t !== null);
    };
    return { value, gradFunc };
  });
  return op(...inputs) as tf.Tensor1D;
}

/**
 * True when `runSequence` runs in one kernel call, reading and writing either layout as it is:
 * the WebAssembly kernel is ready and no gradient is being recorded.
 */
export function fusedInference(): boolean {
  return kernelReady() && !tapeOn();
}

/**
 * Inference in one kernel call when the WebAssembly kernel is ready and no gradient is being
 * recorded: x [T, B, I] (the raw input; [B, T, I] when `batchFirst`) is projected and run through
 * the recurrence inside the kernel, without the projection ever becoming a tensor. Returns the
 * packed output (as `recurrence`, outputs [B, T, S] when `batchFirst`), or null when the
 * differentiable path must run.
 */
export function fusedSequence(
  w: RecurrentWeights,
  x: tf.Tensor3D,
  h0: tf.Tensor,
  c0: tf.Tensor | null,
  reverse: boolean,
  valid: Uint8Array | null,
  batchFirst: boolean,
): Float32Array | null {
  if (!fusedInference()) return null;
  const [T, B] = batchFirst ? [x.shape[1], x.shape[0]] : [x.shape[0], x.shape[1]];
  const I = x.shape[2];
  const G = w.whh.shape[0] as number;
  const H = w.hiddenSize;
  const S = w.whr ? (w.whr.shape[0] as number) : H;
  const run: Run = { mode: w.mode, T, B, H, G, S, reverse, valid };
  // The kernel reads x's rows in either order: its data as it is, no transpose.
  const inputs = hostInputs(run, w, x.dataSync() as Float32Array, h0, c0);
  const bih = w.bih ? (w.bih.dataSync() as Float32Array) : null;
  inputs.project = { I, wih: w.wih, bih };
  inputs.batchFirst = batchFirst;
  return kernelRecurrence(inputs, false).packed;
}

/** The host arrays the WebAssembly kernel runs on; x [T, B, G] (or [T, B, I], see `project`). */
function hostInputs(
  run: Run,
  w: RecurrentWeights,
  x: Float32Array,
  h0: tf.Tensor,
  c0: tf.Tensor | null,
): KernelInputs {
  const data = (t: tf.Tensor | null) => (t ? (t.dataSync() as Float32Array) : null);
  return {
    ...run,
    x,
    whh: w.whh,
    bhh: data(w.bhh),
    whr: w.whr,
    h0: data(h0)!,
    c0: data(c0),
  };
}

/**
 * The forward pass in JS, the path while the WebAssembly kernel is unavailable. Returns the packed
 * output (see `recurrence`) and, with `save`, what backward needs.
 */
function forward(
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
  const packed = new Float32Array(T * B * S + B * S + (c0 ? B * H : 0));
  const out = packed.subarray(0, T * B * S);
  const h = packed.subarray(T * B * S, T * B * S + B * S);
  h.set(h0.dataSync() as Float32Array);
  const c = c0 ? packed.subarray(T * B * S + B * S) : null;
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

/** Gradients of the op's inputs (null where the input is absent). */
interface Grads {
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
function backward(
  run: Run,
  saved: Saved,
  dy: Float32Array,
  whh: tf.Tensor,
  whr: tf.Tensor | null,
  bias: boolean,
): Grads {
  const { mode, T, B, H, G, S, reverse, valid } = run;
  const { gates, hIn, cIn, hn } = saved;
  const dh = dy.slice(T * B * S, T * B * S + B * S);
  const dc = mode === 'lstm' ? dy.slice(T * B * S + B * S) : null;
  const dX = new Float32Array(T * B * G); // [T, B, G] gradient of xProj
  // [T, B, G] gradient of h W_hh^T + b_hh: that of xProj but for GRU's n gate, scaled by r
  const dHH = mode === 'gru' ? new Float32Array(T * B * G) : dX;
  const dHt = whr ? new Float32Array(T * B * S) : null; // [T, B, P] gradient of each step's h
  const fulls = whr ? new Float32Array(T * B * H) : null; // [T, B, H] h before projection
  const dht = new Float32Array(B * S); // gradient of the state leaving the current step
  // The per-step products in the kernel's sgemm when it is ready (W_hh and W_hr packed once),
  // else one tfjs matMul each.
  const gemm = kernelReady()
    ? kernelGemm(
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
    kernelReady()
      ? tf.tensor2d(kernelSumOuter(a, T * B, M, b, N), [M, N])
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
