import {
  type AttendInputs,
  type DecodePlan,
  hostCopy,
  hostData,
  hostView,
  inferenceKernel,
  type Kernel,
  kernelTensor,
  layerCall,
  stateSize,
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
 * Seq2Seq.step for an inference, in the WebAssembly kernel (cell's wasm/decode.ts): the decoder's
 * layers (the calls their forward makes, so h and c are bit-identical to it), attention over the
 * memory, the combine and output layers, laid out in the kernel's memory by a decode's first step
 * (the memory copied in once) and run again by the next ones; a step writes in the embedding rows
 * and the state, makes a kernel call per product, recurrence and attention, and makes its results'
 * tensors from the kernel's memory. Its results match the op-by-op path's within float32 rounding
 * (the products and softmax sum in another order than tfjs's).
 */

/** What Seq2Seq.step returns. */
export interface StepResult {
  logits: tf.Tensor2D;
  state: Seq2SeqState;
  attention?: tf.Tensor2D;
}

/** The last step's layout and what decided it (compared by identity: `planKey`). */
let kept: { plan: DecodePlan; key: unknown[] } | null = null;

/**
 * What decides a step's layout: the model, B, the memory's tensors (immutable, so their identity
 * stands for their values) and every weight's data (assigning a parameter gives it new data).
 */
function planKey(m: FusedModel, memory: AttentionKeys, B: number): unknown[] {
  const key: unknown[] = [m, B, memory.keys, memory.projected, memory.valid];
  for (const [w] of m.decoder.stackWeights)
    key.push(w!.wih.dataId, w!.whh.dataId, w!.whr?.dataId, w!.bih?.dataId, w!.bhh?.dataId);
  const a = m.attention;
  const params = [a?.linear, a?.queryProj, a?.v, m.combine, m.out];
  for (const p of params) key.push(p?.weight.dataId, p?.bias?.dataId);
  return key;
}

const sameKey = (a: unknown[], b: unknown[]) =>
  a.length === b.length && a.every((v, i) => v === b[i]);

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
  const key = planKey(m, state.memory, B);
  const plan = kept?.plan.holds() && sameKey(kept.key, key) ? kept.plan : layOut(k, m, state, B);
  kept = { plan, key };
  // The input: the embedding rows, then the previous attentional state with input feeding.
  const v = plan.views;
  const x = v.input;
  const I = x.length / B;
  const E = embed(m.tgtEmbedding.weight, ids, x, I);
  if (state.feed) {
    const feed = hostView(state.feed);
    for (let b = 0; b < B; b++) x.set(feed.subarray(b * (I - E), (b + 1) * (I - E)), b * I + E);
  }
  // The states are read in place (no tfjs op runs in between) and copied in.
  plan.run(hostView(state.h), state.c ? hostView(state.c) : null);
  const [L, H, V] = [m.numLayers, m.hiddenSize, m.tgtVocab];
  // The results' tensors, made last: nothing else can fail after them.
  const results: tf.Tensor[] = [];
  const keep = <T extends tf.Tensor>(t: tf.Tensor): T => {
    results.push(t);
    return t as T;
  };
  const layers = (parts: Float32Array[]): tf.Tensor3D =>
    keep(L === 1 ? kernelTensor(parts[0]!, [B, 1, H]) : tf.tensor3d(stacked(parts, B), [B, L, H]));
  try {
    // Spelled out: object spreads cost a good part of a step's JavaScript in V8 (Node 20).
    const next: Seq2SeqState = { memory: state.memory, h: layers(v.h) };
    if (state.c) next.c = layers(v.c as Float32Array[]);
    if (state.feed) next.feed = keep<tf.Tensor2D>(kernelTensor(v.hidden, [B, H]));
    const out: StepResult = {
      logits: keep<tf.Tensor2D>(kernelTensor(v.logits, [B, V])),
      state: next,
    };
    if (v.weights)
      out.attention = keep<tf.Tensor2D>(kernelTensor(v.weights, [B, v.weights.length / B]));
    return out;
  } catch (e) {
    tf.dispose(results);
    throw e;
  }
}

/** Lays out a step of m for B rows over the state's memory (cell's wasm/decode.ts). */
function layOut(k: Kernel, m: FusedModel, state: Seq2SeqState, B: number): DecodePlan {
  const made: tf.Tensor[] = [];
  try {
    const stack = m.decoder.stackWeights;
    const S = stateSize(stack[0]![0]!);
    const x0 = (m.tgtEmbedding.weight.shape[1] as number) + (state.feed ? m.hiddenSize : 0);
    const layers = stack.map(([w], l) => {
      const I = l ? S : x0;
      const run = { T: 1, B, I, batchFirst: true, reverse: false, valid: null };
      return layerCall(w!, new Float32Array(B * I), run, null, null);
    });
    const attention = m.attention && attendInputs(m.attention, state.memory, made);
    const out = m.out;
    const outBias = out.bias ? hostData(out.bias) : null;
    return k.decodeStep({
      layers,
      attention,
      combine: m.combine?.weight ?? null,
      out: out.weight,
      outBias,
    });
  } finally {
    tf.dispose(made);
  }
}

/** The attention's part of a step's layout; tensors it makes go to `made`, to dispose after. */
function attendInputs(att: Attention, memory: AttentionKeys, made: tf.Tensor[]): AttendInputs {
  const [, S, Hk] = memory.keys.shape;
  const keys = memory.keys.dataSync() as Float32Array;
  const valid = memory.valid ? (memory.valid.dataSync() as Uint8Array) : null;
  if (att.mode === 'dot' || att.mode === 'general') {
    const against = att.mode === 'dot' ? keys : (memory.projected!.dataSync() as Float32Array);
    return { S, Hk, keys, D: att.querySize, against, valid, query: null };
  }
  // v.tanh(Wq q + the key half, projected once by encode); concat's Wq: its weight's query columns
  const A = att.attentionSize;
  const w =
    att.mode === 'additive'
      ? att.queryProj!.weight
      : tf.slice(att.linear!.weight, [0, 0], [A, att.querySize]);
  if (w !== att.queryProj?.weight) made.push(w);
  const against = memory.projected!.dataSync() as Float32Array;
  return { S, Hk, keys, D: A, against, valid, query: { w, v: hostData(att.v!.weight) } };
}

/** Rows ids [B] of the embedding table [V, E] -> the first E floats of x's rows of I; returns E. */
function embed(table: tf.Tensor, ids: tf.Tensor, x: Float32Array, I: number): number {
  const E = table.shape[1] as number;
  const host = hostCopy(table);
  const rows = host ? null : tf.gather(table, ids);
  try {
    const from = host ?? (rows!.dataSync() as Float32Array);
    const at = host ? ids.dataSync() : null;
    for (let b = 0; b < ids.shape[0]!; b++) {
      const r = at ? at[b]! : b;
      x.set(from.subarray(r * E, (r + 1) * E), b * I);
    }
  } finally {
    rows?.dispose();
  }
  return E;
}

/** Layers' arrays [B, H] -> [B, L, H] */
function stacked(parts: Float32Array[], B: number): Float32Array {
  const [L, H] = [parts.length, parts[0]!.length / B];
  const out = new Float32Array(B * L * H);
  for (let l = 0; l < L; l++) {
    for (let b = 0; b < B; b++) out.set(parts[l]!.subarray(b * H, (b + 1) * H), (b * L + l) * H);
  }
  return out;
}
