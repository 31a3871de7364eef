import { validSteps } from '@rnnkit/ops/internal';
import * as tf from '@tensorflow/tfjs-core';
import type { Kernel } from '../wasm/kernel.js';
import { kernelTensor } from '../wasm/memory.js';
import type { KernelInputs } from '../wasm/recurrence.js';
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

/** A backend that shows a tensor's values where it keeps them (tfjs-backend-wasm: its heap). */
interface InPlace {
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array;
}

/**
 * A float32 tensor's values, to be read before the next tfjs op: on the wasm backend a view of its
 * heap (no copy; a later op may move or free them), elsewhere `dataSync` (cpu: its own array).
 */
export function hostView(t: tf.Tensor): Float32Array {
  const b = tf.backend() as Partial<InPlace>;
  return b.typedArrayFromHeap ? b.typedArrayFromHeap(t) : (t.dataSync() as Float32Array);
}

/** S: the size of h (the LSTM projection P, else H). */
export const stateSize = (w: RecurrentWeights): number =>
  w.whr ? (w.whr.shape[0] as number) : w.hiddenSize;

/**
 * The kernel call of one direction of one layer (projection and recurrence): x [T, B, I] (or
 * [B, T, I]), h0 [B, S] and c0 [B, H] (LSTM; zeros when null).
 */
export function layerCall(
  w: RecurrentWeights,
  x: Float32Array,
  r: HostRun,
  h0: Float32Array | null,
  c0: Float32Array | null,
): KernelInputs {
  const data = (t: tf.Tensor | null) => (t ? hostData(t) : null);
  return {
    mode: w.mode,
    T: r.T,
    B: r.B,
    H: w.hiddenSize,
    G: w.whh.shape[0] as number,
    S: stateSize(w),
    reverse: r.reverse,
    valid: r.valid,
    batchFirst: r.batchFirst,
    x,
    project: { I: r.I, wih: w.wih, bih: data(w.bih) },
    whh: w.whh,
    bhh: data(w.bhh),
    whr: w.whr,
    h0,
    c0,
  };
}

/**
 * One direction of one layer in one kernel call (`layerCall`) -> the packed output (layout.ts), a
 * view of the kernel's memory valid until its next call.
 */
export function kernelSequence(k: Kernel, ...call: Parameters<typeof layerCall>): Float32Array {
  return k.recurrence(layerCall(...call), false).packed;
}

/** A stack's results: output [T, B, D*S] (or [B, T, D*S]), hN [L*D, B, S], cN [L*D, B, H] or null. */
interface StackResult {
  output: Float32Array;
  h: Float32Array;
  c: Float32Array | null;
}

/**
 * A stack's layers x directions (weights[layer][direction]) on host arrays: x [T, B, I] (or
 * [B, T, I]), h0 [L*D, B, S] and c0 [L*D, B, H] (LSTM; zeros when null) -> output [T, B, D*S]
 * (or [B, T, D*S]), hN [L*D, B, S], cN [L*D, B, H] (LSTM, else null). Layer k > 0 reads layer
 * k-1's directions side by side, as `tf.concat` on the last axis. With `views`, the results are
 * views of the kernel's memory (valid until its next call): one layer and direction reads its
 * results straight from its packed output; else host arrays the caller owns.
 */
function stackViews(
  k: Kernel,
  weights: readonly (readonly RecurrentWeights[])[],
  x: Float32Array,
  r: Omit<HostRun, 'reverse'>,
  h0: Float32Array | null,
  c0: Float32Array | null,
): StackResult & { views: boolean } {
  const { T, B } = r;
  const w0 = weights[0]![0]!;
  const H = w0.hiddenSize;
  const S = stateSize(w0);
  const [L, D] = [weights.length, weights[0]!.length];
  const layout = packedLayout(T, B, S, H, w0.mode === 'lstm');
  const cell = layout.c >= 0;
  const part = (s: Float32Array | null, at: number, n: number) =>
    s?.subarray(at * n, (at + 1) * n) ?? null;
  // Spelled out: an object spread costs more than the rest of this function in V8 (Node 20).
  const run = (I: number, reverse: boolean): HostRun => {
    return { T, B, I, batchFirst: r.batchFirst, valid: r.valid, reverse };
  };
  if (L * D === 1) {
    const packed = kernelSequence(k, w0, x, run(r.I, false), h0, c0);
    const h = packed.subarray(layout.h, layout.h + B * S);
    const c = cell ? packed.subarray(layout.c, layout.length) : null;
    return { output: packed.subarray(layout.out, layout.h), h, c, views: true };
  }
  const hN = new Float32Array(L * D * B * S);
  const cN = cell ? new Float32Array(L * D * B * H) : null;
  let input = x;
  let I = r.I;
  for (let layer = 0; layer < L; layer++) {
    // Each output is read out (copied) before the next call reuses the kernel's memory.
    const outs = weights[layer]!.map((w, d) => {
      const at = layer * D + d;
      const [h, c] = [part(h0, at, B * S), part(c0, at, B * H)];
      const packed = kernelSequence(k, w, input, run(I, d === 1), h, c);
      hN.set(packed.subarray(layout.h, layout.h + B * S), at * B * S);
      cN?.set(packed.subarray(layout.c, layout.length), at * B * H);
      return packed.slice(layout.out, layout.h);
    });
    input = D === 1 ? outs[0]! : sideBySide(outs, [S, S], T * B);
    I = D * S;
  }
  return { output: input, h: hN, c: cN, views: false };
}

/** Rows of arrays [R, F_i] side by side: [R, sum of F_i], as tf.concat on the last axis. */
function sideBySide(parts: Float32Array[], widths: number[], R: number): Float32Array {
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
  // The inputs are read in place; the kernel copies them in before any tfjs op runs.
  const [h0, c0] = init.map((s) => (s ? hostView(s) : null));
  const run = { T, B, I, batchFirst: bf, valid };
  const r = stackViews(k, weights, hostView(x), run, h0 ?? null, c0 ?? null);
  const w0 = weights[0]![0]!;
  const LD = weights.length * weights[0]!.length;
  const F = r.output.length / (T * B);
  const outShape = !batched ? [T, F] : bf ? [B, T, F] : [T, B, F];
  const read = (s: Float32Array, shape: number[]) =>
    r.views ? kernelTensor(s, shape) : tf.tensor(s, shape);
  const state = (s: Float32Array, n: number) => read(s, batched ? [LD, B, n] : [LD, n]);
  // The results' tensors, made last; if one fails, those made before it are disposed.
  const made: tf.Tensor[] = [];
  try {
    made.push(state(r.h, stateSize(w0)));
    if (init.length > 1) made.push(state(r.c!, w0.hiddenSize));
    return { output: read(r.output, outShape), finals: made };
  } catch (e) {
    tf.dispose(made);
    throw e;
  }
}
