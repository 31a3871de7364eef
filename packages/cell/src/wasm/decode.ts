import type * as tf from '@tensorflow/tfjs-core';
import { ATTEND_ARGS, argBytes, writeArgs } from './args.js';
import { type KernelExports, loadedExports } from './loader.js';
import { Arena, Weights } from './memory.js';
import { sgemmBlocks, sgemmShares } from './products.js';
import { addWeights, type KernelInputs, type Layout, place, run } from './recurrence.js';
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
   * none of their h0 and c0 count: a step's input goes into `views.input` and its state to `run`,
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
type LayerAt = Pick<Layout, 'x' | 'h' | 'c' | 'out' | 'sgemm' | 'forward'>;

/**
 * A step's buffers as views of the kernel's memory (valid until its next call lays one out): the
 * input to write before `run`, and the results it leaves.
 */
export interface StepViews {
  /** [B, I]: the step's input */
  input: Float32Array;
  /** Each layer's h [B, S] and c [B, H] (LSTM, else null), the new state after `run` */
  h: Float32Array[];
  c: Array<Float32Array | null>;
  /** [B, V] */
  logits: Float32Array;
  /** [B, S_keys] attention weights, or null without attention */
  weights: Float32Array | null;
  /** [B, F], what the output layer read: tanh(combine) with attention, else the top layer's h */
  hidden: Float32Array;
}

/** Sizes of a step: B rows, input I, state S, cell H, V logits, F hidden, Sk keys. */
interface Sizes {
  B: number;
  I: number;
  S: number;
  H: number;
  V: number;
  F: number;
  Sk: number;
}

/** Byte offsets and argument blocks of the step after the layers (0 or []: none). */
interface Tail {
  qp: number[];
  attend: number;
  weights: number;
  combine: number[];
  hidden: number;
  out: number[];
  logits: number;
}

/** A step laid out in the kernel's memory (see `layOutStep`). */
export class DecodePlan {
  private cached: {
    buffer: ArrayBufferLike;
    views: StepViews;
    x: Float32Array[];
    out: Float32Array[];
  };
  constructor(
    private readonly k: KernelExports,
    private readonly stamped: Stamp,
    private readonly at: LayerAt[],
    private readonly sizes: Sizes,
    private readonly tail: Tail,
  ) {
    this.cached = this.viewsOf(k.memory.buffer);
  }

  /**
   * True while the layout is intact (no other kernel call laid one out since, the same build and
   * threads) and may run again.
   */
  holds(): boolean {
    const k = loadedExports();
    return k !== null && holds(this.stamped, k);
  }

  /** The step's buffers (made once per buffer of the kernel's memory, which grows only in layouts) */
  get views(): StepViews {
    return this.current().views;
  }

  private current() {
    if (this.cached.buffer !== this.k.memory.buffer)
      this.cached = this.viewsOf(this.k.memory.buffer);
    return this.cached;
  }

  private viewsOf(buffer: ArrayBufferLike) {
    const { B, I, S, H, V, F, Sk } = this.sizes;
    const f32 = (at: number, n: number) => new Float32Array(buffer, at, n);
    const t = this.tail;
    const top = this.at[this.at.length - 1]!;
    const views: StepViews = {
      input: f32(this.at[0]!.x, B * I),
      h: this.at.map((a) => f32(a.h, B * S)),
      c: this.at.map((a) => (a.c ? f32(a.c, B * H) : null)),
      logits: f32(t.logits, B * V),
      weights: t.attend ? f32(t.weights, B * Sk) : null,
      hidden: f32(t.combine.length ? t.hidden : top.out, B * F),
    };
    const x = this.at.map((a, l) => f32(a.x, B * (l ? S : I)));
    const out = this.at.map((a) => f32(a.out, B * S));
    return { buffer, views, x, out };
  }

  /**
   * Runs a step from states h [B, L, S] and c [B, L, H] (LSTM; as a Seq2Seq state holds them),
   * the input written into `views.input` before.
   */
  run(h: Float32Array, c: Float32Array | null): void {
    const { B, S, H, F } = this.sizes;
    const L = this.at.length;
    const k = this.k;
    const { views, x, out } = this.current();
    for (let l = 0; l < L; l++) {
      const a = this.at[l]!;
      if (L === 1) views.h[0]!.set(h);
      else
        for (let b = 0; b < B; b++)
          views.h[l]!.set(h.subarray((b * L + l) * S, (b * L + l + 1) * S), b * S);
      if (c) {
        if (L === 1) views.c[0]!.set(c);
        else
          for (let b = 0; b < B; b++)
            views.c[l]!.set(c.subarray((b * L + l) * H, (b * L + l + 1) * H), b * H);
      }
      if (l > 0) x[l]!.set(out[l - 1]!);
      run(k, a);
    }
    const t = this.tail;
    if (t.attend) {
      if (t.qp.length) runShares(k, 'sgemm', t.qp);
      k.attend(t.attend);
    }
    if (t.combine.length) {
      runShares(k, 'sgemm', t.combine);
      k.tanhInPlace(t.hidden, B * F);
    }
    runShares(k, 'sgemm', t.out);
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
  const sizes = { B, I, S: Hq, H: top.H, V, F: H, Sk: att?.S ?? 0 };
  return new DecodePlan(k, stamp(k), layers, sizes, { ...tail, out, logits });
}
