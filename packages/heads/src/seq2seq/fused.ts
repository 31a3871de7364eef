import {
  hostCopy,
  hostData,
  inferenceKernel,
  type Kernel,
  kernelStack,
  sideBySide,
} from '@rnnkit/cell/internal';
import type { Embedding, Linear } from '@rnnkit/ops';
import { numericsChecked } from '@rnnkit/ops/internal';
import type { RecurrentLayer } from '@rnnkit/rnn';
import * as tf from '@tensorflow/tfjs-core';
import type { Attention, AttentionKeys } from './attention.js';
import type { Seq2SeqState } from './state.js';

/** What the fused step reads of a Seq2Seq (its own type, so this file needs no import of seq2seq.ts). */
export interface FusedModel {
  readonly tgtVocab: number;
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly dropoutP: number;
  readonly training: boolean;
  readonly tgtEmbedding: Embedding;
  readonly decoder: RecurrentLayer;
  readonly attention: Attention | null;
  readonly combine: Linear | null;
  readonly out: Linear;
}

/**
 * Seq2Seq.step for an inference, fused on host arrays: the embedding rows, the decoder's layers in
 * the WebAssembly kernel (the call its forward makes, so h and c are bit-identical to it), attention
 * over the memory read once per decode, the combine and output layers as the kernel's products.
 * About a dozen fewer tfjs kernels per step than the op-by-op path, whose results it matches within
 * float32 rounding (the products sum in another order than tfjs's matMul).
 */

/** What Seq2Seq.step returns. */
export interface StepResult {
  logits: tf.Tensor2D;
  state: Seq2SeqState;
  attention?: tf.Tensor2D;
}

/**
 * Host copies of attention memory tensors (keys, projected keys, masks), which stay the same for
 * every step of a decode: read once, dropped once their tensor is disposed; at most MAX_CACHED.
 */
const cached = new Map<tf.Tensor, Float32Array | Uint8Array>();
const MAX_CACHED = 8;

/** t's values, from the cache when t is memory seen before. */
function memoryData(t: tf.Tensor): Float32Array | Uint8Array {
  for (const key of cached.keys()) if (key.isDisposed) cached.delete(key);
  let data = cached.get(t);
  if (data) return data;
  data = t.dataSync() as Float32Array | Uint8Array;
  if (cached.size >= MAX_CACHED) cached.delete(cached.keys().next().value!);
  cached.set(t, data);
  return data;
}

/**
 * The values of the state tensors this step made (h, c, feed), entered as they are made, so the
 * next step reads none of them back (tfjs tensors never change their values).
 */
const stateValues = new WeakMap<tf.Tensor, Float32Array>();

/** A state tensor's values: this step's own copy, or read now. */
const stateData = (t: tf.Tensor): Float32Array =>
  stateValues.get(t) ?? (t.dataSync() as Float32Array);

/**
 * The step fused when the engine runs inference in the kernel (no gradient recorded), no dropout
 * applies, numerics are not being checked, the batch is not empty and every tensor of the state
 * is alive; else null (the caller runs its op-by-op path, which also raises the errors).
 * ids: checked int32 [B]; state: checked against m.
 */
export function fusedStep(m: FusedModel, ids: tf.Tensor, state: Seq2SeqState): StepResult | null {
  const k = inferenceKernel();
  const dropping = (m.training && m.dropoutP > 0) || (m.decoder.training && m.decoder.dropout > 0);
  if (!k || dropping || numericsChecked() || m.tgtEmbedding.maxNorm !== null) return null;
  const B = ids.shape[0] as number;
  const { keys, projected, valid } = state.memory;
  if (B === 0 || [state.h, state.c, state.feed, keys, projected, valid].some((t) => t?.isDisposed))
    return null;
  const [L, H, V] = [m.numLayers, m.hiddenSize, m.tgtVocab];
  const emb = embed(m.tgtEmbedding.weight, ids);
  const feed = state.feed ? stateData(state.feed) : null;
  const x = feed ? sideBySide([emb, feed], [emb.length / B, H], B) : emb;
  const layers = (s?: tf.Tensor) => (s ? swap01(stateData(s), B, L, H) : null);
  const run = { T: 1, B, I: x.length / B, batchFirst: true, valid: null };
  const r = kernelStack(k, m.decoder.stackWeights, x, run, layers(state.h), layers(state.c));
  let hidden = r.output; // [B, H], the top layer's h
  let weights: Float32Array | null = null;
  if (m.attention) {
    const a = attend(k, m, hidden, state.memory, B);
    weights = a.weights;
    const Hk = a.context.length / B;
    const both = sideBySide([a.context, hidden], [Hk, H], B);
    // map, not a loop: the builtin needs no warming up in the first steps of a decode
    hidden = k.project(both, B, Hk + H, m.combine!.weight, H, null).map(Math.tanh);
  }
  const logits = k.project(hidden, B, H, m.out.weight, V, m.out.bias && hostData(m.out.bias));
  // The results' tensors, made last: nothing else can fail after them.
  const results: tf.Tensor[] = [];
  const keep = <T extends tf.Tensor>(t: T, values?: Float32Array): T => {
    results.push(t);
    if (values) stateValues.set(t, values); // the next step's state
    return t;
  };
  const stateTensor = (v: Float32Array) => {
    const values = swap01(v, L, B, H);
    return keep(tf.tensor3d(values, [B, L, H]), values);
  };
  try {
    const out: StepResult = {
      logits: keep(tf.tensor2d(logits, [B, V])),
      state: {
        memory: state.memory,
        h: stateTensor(r.h),
        ...(r.c ? { c: stateTensor(r.c) } : {}),
        ...(feed ? { feed: keep(tf.tensor2d(hidden, [B, H]), hidden) } : {}),
      },
    };
    if (weights) out.attention = keep(tf.tensor2d(weights, [B, weights.length / B]));
    return out;
  } catch (e) {
    tf.dispose(results);
    throw e;
  }
}

/** Rows ids [B] of the embedding table [V, E] -> [B, E]. */
function embed(table: tf.Tensor, ids: tf.Tensor): Float32Array {
  const host = hostCopy(table);
  if (!host) {
    const rows = tf.gather(table, ids);
    try {
      return rows.dataSync() as Float32Array;
    } finally {
      rows.dispose();
    }
  }
  const E = table.shape[1] as number;
  const rows = ids.dataSync();
  const out = new Float32Array(rows.length * E);
  for (let b = 0; b < rows.length; b++)
    out.set(host.subarray(rows[b]! * E, (rows[b]! + 1) * E), b * E);
  return out;
}

/**
 * q [B, Hq] (the decoder's output) against the memory -> context [B, Hk] and weights [B, S], as
 * Attention.attend: scores by the model's scorer, softmax over the valid keys (0 on padding).
 */
function attend(
  k: Kernel,
  m: FusedModel,
  q: Float32Array,
  memory: AttentionKeys,
  B: number,
): { context: Float32Array; weights: Float32Array } {
  const att = m.attention!;
  const [, S, Hk] = memory.keys.shape;
  const Hq = att.querySize;
  const keys = memoryData(memory.keys) as Float32Array;
  const proj = memory.projected ? (memoryData(memory.projected) as Float32Array) : null;
  const valid = memory.valid ? (memoryData(memory.valid) as Uint8Array) : null;
  const scores = new Float32Array(B * S);
  if (att.mode === 'dot' || att.mode === 'general') {
    // q.k, or q.(W k) with W k projected once by encode
    const against = att.mode === 'dot' ? keys : proj!;
    if (B === 1) {
      // One row (a word's decode): scores and context as two products in the kernel.
      const mul = k.gemm(
        [
          { b: q, K: Hq, N: 1 },
          { b: keys, K: S, N: Hk },
        ],
        S,
      );
      const weights = maskedSoftmax(mul(0, against, S), valid, 1, S);
      return { context: mul(1, weights, 1).slice(), weights };
    }
    for (let b = 0; b < B; b++) {
      for (let s = 0; s < S; s++) scores[b * S + s] = dot(q, b * Hq, against, (b * S + s) * Hq, Hq);
    }
  } else {
    // v.tanh(Wq q + key half), the key half projected once by encode; concat's Wq is the query
    // columns of its weight, applied as the whole weight to [q; 0].
    const A = att.attentionSize;
    const qp =
      att.mode === 'additive'
        ? k.project(q, B, Hq, att.queryProj!.weight, A, null)
        : k.project(
            sideBySide([q, new Float32Array(B * Hk)], [Hq, Hk], B),
            B,
            Hq + Hk,
            att.linear!.weight,
            A,
            null,
          );
    const v = hostData(att.v!.weight);
    const hidden = new Float32Array(A);
    for (let b = 0; b < B; b++) {
      for (let s = 0; s < S; s++) {
        const at = (b * S + s) * A;
        for (let a = 0; a < A; a++) hidden[a] = Math.tanh(qp[b * A + a]! + proj![at + a]!);
        scores[b * S + s] = dot(hidden, 0, v, 0, A);
      }
    }
  }
  const weights = maskedSoftmax(scores, valid, B, S);
  const context = new Float32Array(B * Hk);
  for (let b = 0; b < B; b++) {
    for (let s = 0; s < S; s++) {
      const w = weights[b * S + s]!;
      const at = (b * S + s) * Hk;
      for (let j = 0; j < Hk; j++) context[b * Hk + j] += w * keys[at + j]!;
    }
  }
  return { context, weights };
}

/** Rows of scores [B, S] -> softmax over the keys where valid [B, S] (all when null), 0 elsewhere. */
function maskedSoftmax(
  scores: Float32Array,
  valid: Uint8Array | null,
  B: number,
  S: number,
): Float32Array {
  const out = new Float32Array(B * S);
  for (let b = 0; b < B; b++) {
    const on = (s: number) => valid?.[b * S + s] !== 0;
    let top = Number.NEGATIVE_INFINITY;
    for (let s = 0; s < S; s++) if (on(s)) top = Math.max(top, scores[b * S + s]!);
    let sum = 0;
    for (let s = 0; s < S; s++) {
      if (on(s)) sum += out[b * S + s] = Math.exp(scores[b * S + s]! - top);
    }
    for (let s = 0; s < S; s++) if (on(s)) out[b * S + s] /= sum;
  }
  return out;
}

/** a[ia..ia+n) . b[ib..ib+n) */
function dot(a: Float32Array, ia: number, b: Float32Array, ib: number, n: number): number {
  let sum = 0;
  for (let j = 0; j < n; j++) sum += a[ia + j]! * b[ib + j]!;
  return sum;
}

/** x [P, Q, H] -> [Q, P, H] */
function swap01(x: Float32Array, P: number, Q: number, H: number): Float32Array {
  if (P === 1 || Q === 1) return x;
  const out = new Float32Array(x.length);
  for (let p = 0; p < P; p++) {
    for (let q = 0; q < Q; q++)
      out.set(x.subarray((p * Q + q) * H, (p * Q + q + 1) * H), (q * P + p) * H);
  }
  return out;
}
