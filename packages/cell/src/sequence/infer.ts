import { validSteps } from '@rnnkit/ops/internal';
import * as tf from '@tensorflow/tfjs-core';
import type { Kernel } from '../wasm/kernel.js';
import type { RecurrentWeights } from '../weights.js';
import { inferenceKernel } from './engine.js';
import { packedLayout } from './layout.js';

/**
 * Inference on host arrays: a whole stack of recurrent layers (or one layer of a decoder's step)
 * through the WebAssembly kernel with no tfjs tensor in between, so that a short call (a decode
 * step, B = 1 and T = 1) costs the kernel's arithmetic plus one read of the input and one tensor
 * per result. Each layer and direction is the same kernel call `runSequence` makes for an
 * inference, so the results are bit-identical to it.
 */

/** Host arrays in, host arrays out: x [T, B, I] ([B, T, I] with `batchFirst`). */
export interface HostRun {
  T: number;
  B: number;
  I: number;
  batchFirst: boolean;
  reverse: boolean;
  /** [T, B], 1 while t < length; null when every sequence runs all T steps */
  valid: Uint8Array | null;
}

/** Host copies of parameters (tf.Variables), by dataId: assigning a variable gives it a new one. */
const hostCopies = new WeakMap<object, Float32Array>();
/** Parameters up to this many floats are copied to the host once (biases, small tables). */
const HOST_COPY_MAX = 1 << 20;

/**
 * A parameter's values as a host array read once and kept while the parameter keeps its value
 * (read-only): for tf.Variables of at most HOST_COPY_MAX floats, else null.
 */
export function hostCopy(t: tf.Tensor): Float32Array | null {
  if (!(t instanceof tf.Variable) || t.size > HOST_COPY_MAX) return null;
  const key = t.dataId as object;
  let data = hostCopies.get(key);
  if (!data) {
    data = t.dataSync() as Float32Array;
    hostCopies.set(key, data);
  }
  return data;
}

/** t's values as a host array (read-only): `hostCopy`'s when it keeps one, else read now. */
export const hostData = (t: tf.Tensor): Float32Array =>
  hostCopy(t) ?? (t.dataSync() as Float32Array);

/** S: the size of h (the LSTM projection P, else H). */
export const stateSize = (w: RecurrentWeights): number =>
  w.whr ? (w.whr.shape[0] as number) : w.hiddenSize;

/**
 * One direction of one layer in one kernel call (projection and recurrence): x [T, B, I] (or
 * [B, T, I]), h0 [B, S] and c0 [B, H] (LSTM; zeros when null) -> the packed output (layout.ts).
 */
export function kernelSequence(
  k: Kernel,
  w: RecurrentWeights,
  x: Float32Array,
  r: HostRun,
  h0: Float32Array | null,
  c0: Float32Array | null,
): Float32Array {
  const { T, B } = r;
  const H = w.hiddenSize;
  const S = stateSize(w);
  const lstm = w.mode === 'lstm';
  const data = (t: tf.Tensor | null) => (t ? hostData(t) : null);
  return k.recurrence(
    {
      mode: w.mode,
      T,
      B,
      H,
      G: w.whh.shape[0] as number,
      S,
      reverse: r.reverse,
      valid: r.valid,
      batchFirst: r.batchFirst,
      x,
      project: { I: r.I, wih: w.wih, bih: data(w.bih) },
      whh: w.whh,
      bhh: data(w.bhh),
      whr: w.whr,
      h0: h0 ?? new Float32Array(B * S),
      c0: lstm ? (c0 ?? new Float32Array(B * H)) : null,
    },
    false,
  ).packed;
}

/**
 * A stack's layers x directions (weights[layer][direction]) on host arrays: x [T, B, I] (or
 * [B, T, I]), h0 [L*D, B, S] and c0 [L*D, B, H] (LSTM; zeros when null) -> output [T, B, D*S]
 * (or [B, T, D*S]), hN [L*D, B, S], cN [L*D, B, H] (LSTM, else null). Layer k > 0 reads layer
 * k-1's directions side by side, as `tf.concat` on the last axis.
 */
export function kernelStack(
  k: Kernel,
  weights: readonly (readonly RecurrentWeights[])[],
  x: Float32Array,
  r: Omit<HostRun, 'reverse'>,
  h0: Float32Array | null,
  c0: Float32Array | null,
): { output: Float32Array; h: Float32Array; c: Float32Array | null } {
  const { T, B } = r;
  const w0 = weights[0]![0]!;
  const H = w0.hiddenSize;
  const S = stateSize(w0);
  const D = weights[0]!.length;
  const lstm = w0.mode === 'lstm';
  const layout = packedLayout(T, B, S, H, lstm);
  const hN = new Float32Array(weights.length * D * B * S);
  const cN = lstm ? new Float32Array(weights.length * D * B * H) : null;
  let input = x;
  let I = r.I;
  weights.forEach((dirs, layer) => {
    const outs = dirs.map((w, d) => {
      const at = layer * D + d;
      const part = (s: Float32Array | null, n: number) => s?.subarray(at * n, (at + 1) * n) ?? null;
      const run = { ...r, I, reverse: d === 1 };
      const packed = kernelSequence(k, w, input, run, part(h0, B * S), part(c0, B * H));
      hN.set(packed.subarray(layout.h, layout.h + B * S), at * B * S);
      cN?.set(packed.subarray(layout.c, layout.length), at * B * H);
      return packed.subarray(layout.out, layout.h);
    });
    input =
      outs.length === 1
        ? outs[0]!
        : sideBySide(
            outs,
            outs.map(() => S),
            T * B,
          );
    I = D * S;
  });
  return { output: input, h: hN, c: cN };
}

/** Rows of arrays [R, F_i] side by side: [R, sum of F_i], as tf.concat on the last axis. */
export function sideBySide(parts: Float32Array[], widths: number[], R: number): Float32Array {
  const F = widths.reduce((a, b) => a + b, 0);
  const out = new Float32Array(R * F);
  for (let row = 0; row < R; row++) {
    let at = row * F;
    for (let i = 0; i < parts.length; i++) {
      const w = widths[i]!;
      out.set(parts[i]!.subarray(row * w, (row + 1) * w), at);
      at += w;
    }
  }
  return out;
}

/**
 * A recurrent layer's forward for an inference, when the engine runs it in the kernel (no
 * gradient being recorded; see engine.ts `inferenceKernel`), else null (the caller then runs its
 * tfjs path). x [T, B, I] | [B, T, I] (`batchFirst`) | unbatched [T, I], checked by the caller;
 * init: [h0] or [h0, c0], each [L*D, B, *] ([L*D, *] unbatched) or null for zeros; lengths as
 * `runSequence`'s. Returns output [.., T, D*S] in x's layout and the final states [L*D, (B,) *]:
 * new tensors the caller owns, and no other tensor is made.
 */
export function stackInference(
  weights: readonly (readonly RecurrentWeights[])[],
  x: tf.Tensor,
  batchFirst: boolean,
  init: ReadonlyArray<tf.Tensor | null>,
  lengths: readonly number[] | null,
): { output: tf.Tensor; finals: tf.Tensor[] } | null {
  const k = inferenceKernel();
  if (!k) return null;
  const batched = x.rank === 3;
  const bf = batched && batchFirst;
  const [T, B] = !batched
    ? [x.shape[0], 1]
    : bf
      ? [x.shape[1]!, x.shape[0]]
      : [x.shape[0], x.shape[1]!];
  const I = x.shape[x.rank - 1]!;
  const valid = lengths ? validSteps(lengths, T) : null;
  const [h0, c0] = init.map((s) => (s ? (s.dataSync() as Float32Array) : null));
  const run = { T, B, I, batchFirst: bf, valid };
  const r = kernelStack(k, weights, x.dataSync() as Float32Array, run, h0 ?? null, c0 ?? null);
  const w0 = weights[0]![0]!;
  const LD = weights.length * weights[0]!.length;
  const F = r.output.length / (T * B);
  const outShape = !batched ? [T, F] : bf ? [B, T, F] : [T, B, F];
  const state = (s: Float32Array, n: number) => tf.tensor(s, batched ? [LD, B, n] : [LD, n]);
  return tf.tidy(() => {
    const finals = [state(r.h, stateSize(w0))];
    if (init.length > 1) finals.push(state(r.c!, w0.hiddenSize));
    return { output: tf.tensor(r.output, outShape), finals };
  });
}
