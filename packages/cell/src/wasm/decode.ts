import type * as tf from '@tensorflow/tfjs-core';
import { ATTEND_ARGS, argBytes, writeArgs } from './args.js';
import { type KernelExports, loadedExports } from './loader.js';
import { Arena, Weights } from './memory.js';
import { sgemmBlocks, sgemmShares } from './products.js';
import { addWeights, type KernelInputs, type Layout, place } from './recurrence.js';
import { holds, type Stamp, stamp } from './replay.js';
import { runShares } from './threads.js';

/**
 * A decoder step in the kernel, laid out once and run for every step of a decode: B rows through
 * a stack of recurrent layers (each the call an inference of the layer makes, so its states are
 * bit-identical to it), attention over memory copied in once, the combine layer (with its tanh)
 * and the output layer, all in the kernel's memory; a step copies in its input and state, makes
 * one kernel call per product, recurrence and attention, and reads its results there.
 */

/** A step's attention over S keys per row: dot and general (`query` null) or additive and concat. */
export interface AttendInputs {
  S: number;
  /** Width of a key */
  Hk: number;
  /** [B, S, Hk] */
  keys: Float32Array;
  /** Width of a scored row: the query's (dot, general), or A (additive, concat) */
  D: number;
  /** [B, S, D]: the keys (dot), W keys (general) or the keys' half of the scores (additive, concat) */
  against: Float32Array;
  /** [B, S], 0 on padded keys; null when every key is valid */
  valid: Uint8Array | null;
  /** Additive and concat: the query's projection W [D, Hq] (no bias) and v [D] */
  query: { w: tf.Tensor; v: Float32Array } | null;
}

/** What a step computes, for B rows (each layer a call of T 1, batch-first). */
export interface DecodeInputs {
  /**
   * The layers, bottom first, of T 1 (batch-first, no `valid`); only the lengths of their x and
   * none of their h0 and c0 count: `DecodePlan.input` and `run` take a step's input and state,
   * and each layer above the first reads the output of the one below.
   */
  layers: KernelInputs[];
  attention: AttendInputs | null;
  /** [H, Hk + Hq], no bias: tanh([context; query] W^T); with attention only */
  combine: tf.Tensor | null;
  /** [V, F] (F: H with attention, else the top layer's state size) and bias [V] or null */
  out: tf.Tensor;
  outBias: Float32Array | null;
}

/** Byte offsets of one layer's step: its input, state (h [B, S], c [B, H]), output and blocks. */
type LayerAt = Pick<Layout, 'x' | 'h' | 'c' | 'out' | 'sgemm' | 'forward' | 'together'>;

/** A step laid out in the kernel's memory (see `layOutStep`). */
export class DecodePlan {
  /** False when a run changes what the next one relies on (a recurrence split across threads) */
  readonly reusable: boolean;
  private heap: Float32Array;
  private readonly at: LayerAt[];
  constructor(
    private readonly k: KernelExports,
    private readonly stamped: Stamp,
    layers: Layout[],
    private readonly sizes: { B: number; I: number; S: number; H: number; V: number; F: number },
    private readonly tail: {
      qp: number[];
      attend: number;
      weights: number;
      combine: number[];
      hidden: number;
      out: number[];
      logits: number;
    },
  ) {
    this.at = layers;
    this.reusable = !layers.some((l) => l.together);
    this.heap = new Float32Array(k.memory.buffer);
  }

  /**
   * True while the layout is intact (no other kernel call laid one out since, the same build and
   * threads) and may run again.
   */
  holds(): boolean {
    const k = loadedExports();
    return this.reusable && k !== null && holds(this.stamped, k);
  }

  /** Floats at byte offset `at`, n of them: a view of the kernel's memory. */
  private view(at: number, n: number): Float32Array {
    if (this.heap.buffer !== this.k.memory.buffer)
      this.heap = new Float32Array(this.k.memory.buffer);
    return this.heap.subarray(at >> 2, (at >> 2) + n);
  }

  /** The step's input [B, I], to be written before `run`. */
  input(): Float32Array {
    return this.view(this.at[0]!.x, this.sizes.B * this.sizes.I);
  }

  /**
   * Runs a step from states h [B, L, S] and c [B, L, H] (LSTM; as a Seq2Seq state holds them),
   * the input written into `input()` before.
   */
  run(h: Float32Array, c: Float32Array | null): void {
    const { B, S, H } = this.sizes;
    const L = this.at.length;
    const k = this.k;
    for (let l = 0; l < L; l++) {
      const a = this.at[l]!;
      for (let b = 0; b < B; b++) {
        const row = b * L + l;
        this.view(a.h + b * S * 4, S).set(h.subarray(row * S, (row + 1) * S));
        if (c) this.view(a.c + b * H * 4, H).set(c.subarray(row * H, (row + 1) * H));
      }
      if (l > 0) this.view(a.x, B * S).set(this.view(this.at[l - 1]!.out, B * S));
      runShares(k, 'sgemm', a.sgemm);
      runShares(k, 'forward', a.forward, a.together);
    }
    const t = this.tail;
    if (t.attend) {
      if (t.qp.length) runShares(k, 'sgemm', t.qp);
      k.attend(t.attend);
    }
    if (t.combine.length) {
      runShares(k, 'sgemm', t.combine);
      k.tanhInPlace(t.hidden, B * this.sizes.F);
    }
    runShares(k, 'sgemm', t.out);
  }

  /** Logits [B, V] of the last run (a view, valid until the kernel's next call). */
  logits(): Float32Array {
    return this.view(this.tail.logits, this.sizes.B * this.sizes.V);
  }

  /** Layer l's new h [B, S] (a view) */
  h(l: number): Float32Array {
    return this.view(this.at[l]!.h, this.sizes.B * this.sizes.S);
  }

  /** Layer l's new c [B, H] (LSTM; a view) */
  c(l: number): Float32Array {
    return this.view(this.at[l]!.c, this.sizes.B * this.sizes.H);
  }

  /** Attention weights [B, S_keys] (a view), or null without attention */
  weights(S: number): Float32Array | null {
    return this.tail.attend ? this.view(this.tail.weights, this.sizes.B * S) : null;
  }

  /** What the output layer read [B, F]: tanh(combine) with attention, else the top layer's h (a view) */
  hidden(): Float32Array {
    const { B, F } = this.sizes;
    return this.view(
      this.tail.combine.length ? this.tail.hidden : this.at[this.at.length - 1]!.out,
      B * F,
    );
  }
}

let layouts = 0;

/** Steps laid out so far (for tests). */
export const stepLayouts = (): number => layouts;

/**
 * Lays a step of `d` out in the kernel's memory (weights resolved together, cached or packed;
 * memory, biases and argument blocks in a fresh arena), valid until the next kernel call lays
 * one out (`DecodePlan.holds`).
 */
export function layOutStep(k: KernelExports, d: DecodeInputs): DecodePlan {
  const top = d.layers[d.layers.length - 1]!;
  const { B } = top;
  const att = d.attention;
  const [Hq, Hk] = [top.S, att?.Hk ?? 0];
  const H = d.combine ? (d.combine.shape[0] as number) : Hq;
  const V = d.out.shape[0] as number;
  layouts++;
  const ws = new Weights(k);
  const which = d.layers.map((a) => addWeights(ws, a));
  const iq = att?.query ? ws.add(att.query.w, att.D, Hq) : -1;
  const ic = d.combine ? ws.add(d.combine, H, Hk + Hq) : -1;
  const io = ws.add(d.out, V, H);
  const mem = new Arena(k);
  const offsets = ws.offsets(mem);
  const layers = d.layers.map((a, l) => place(k, mem, a, false, offsets, which[l]!));
  const query = layers[layers.length - 1]!.out;
  const tail = { qp: [] as number[], attend: 0, weights: 0, combine: [] as number[], hidden: 0 };
  let hidden = query;
  if (att) {
    const keys = mem.put(att.keys);
    const against = att.against === att.keys ? keys : mem.put(att.against);
    const valid = att.valid ? mem.alloc(att.valid.length, true) : 0;
    if (att.valid) new Uint8Array(k.memory.buffer, valid, att.valid.length).set(att.valid);
    const qp = att.query ? mem.alloc(B * att.D) : 0;
    if (att.query)
      tail.qp = sgemmShares(k, sgemmBlocks(mem), B, att.D, Hq, query, offsets[iq]!, 0, qp);
    const v = att.query ? mem.put(att.query.v) : 0;
    const both = mem.alloc(B * (Hk + Hq));
    tail.weights = mem.alloc(B * att.S);
    tail.attend = mem.alloc(argBytes(ATTEND_ARGS), true);
    const { S, D } = att;
    const args = {
      B,
      S,
      D,
      Hq,
      Hk,
      query,
      qp,
      v,
      against,
      keys,
      valid,
      weights: tail.weights,
      both,
    };
    writeArgs(k.memory.buffer, tail.attend, ATTEND_ARGS, args);
    hidden = tail.hidden = mem.alloc(B * H);
    tail.combine = sgemmShares(k, sgemmBlocks(mem), B, H, Hk + Hq, both, offsets[ic]!, 0, hidden);
  }
  const bias = d.outBias ? mem.put(d.outBias) : 0;
  const logits = mem.alloc(B * V);
  const out = sgemmShares(k, sgemmBlocks(mem), B, V, H, hidden, offsets[io]!, bias, logits);
  const I = d.layers[0]!.x.length / B;
  const sizes = { B, I, S: Hq, H: top.H, V, F: H };
  return new DecodePlan(k, stamp(k), layers, sizes, { ...tail, out, logits });
}
