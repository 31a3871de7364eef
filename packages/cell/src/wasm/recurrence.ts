import type * as tf from '@tensorflow/tfjs-core';
import { type Packed, packedLayout, type Run, type Saved } from '../sequence/layout.js';
import { MODES } from './args.js';
import type { KernelExports } from './loader.js';
import { Arena, Weights } from './memory.js';
import { sgemmBlocks, sgemmShares } from './products.js';
import { keep, replayable } from './replay.js';
import { type ForwardShares, forwardShares } from './shares.js';
import { runShares } from './threads.js';

/** Host arrays of one recurrence call in the kernel (shapes as in sequence/op.ts). */
export interface KernelInputs extends Run {
  /** x and the outputs are [B, T, *] instead of [T, B, *] (inference only: not with `save`) */
  batchFirst?: boolean;
  /** [T, B, G] x W_ih^T + b_ih; or the input [T, B, I] when `project` is given */
  x: Float32Array;
  /** Projects x in the kernel first: W_ih [G, I] and b_ih [G] (or null) */
  project?: { I: number; wih: tf.Tensor; bih: Float32Array | null };
  /** [G, S] */
  whh: tf.Tensor;
  /** [G] or null */
  bhh: Float32Array | null;
  /** [S, H] (LSTM projection) or null */
  whr: tf.Tensor | null;
  /** [B, S], or null for zeros */
  h0: Float32Array | null;
  /** [B, H] (LSTM: null for zeros), null otherwise */
  c0: Float32Array | null;
}

/** Where one call's buffers are in the kernel's memory (byte offsets; 0: none) and its argument blocks. */
export interface Layout {
  /** x as given: [T, B, I] to project, or [T, B, G] */
  x: number;
  /** h [B, S] and c [B, H], initial then final (inside the packed output), valid [T, B] */
  h: number;
  c: number;
  valid: number;
  /** The packed output and its floats */
  out: number;
  length: number;
  /** The input projection's argument blocks (empty: x comes projected, or is projected ahead) */
  sgemm: number[];
  /** The recurrence's shares (shares.ts `forwardShares`) */
  forward: ForwardShares;
  /** What the forward saves for BPTT, with `save` */
  saved: { gates: number; hIn: number; cIn: number; hn: number } | null;
}

/**
 * Runs the whole recurrence in the kernel, the batch split across threads when large. Returns the
 * packed output (layout.ts; outputs [B, T, S] with `batchFirst`) as a view of the kernel's memory,
 * valid until its next call (read it out, e.g. with `kernelTensor`, or copy it), and, with `save`,
 * copies of the per-step activations and states for BPTT. An inference of the same shapes and
 * weights as the call before reuses its layout (replay.ts).
 */
export function recurrence(
  k: KernelExports,
  a: KernelInputs,
  save: boolean,
): { packed: Float32Array; saved: Saved | null } {
  const kept = save ? null : replayable(k, a);
  const at = kept ?? layOut(k, a, save);
  const buffer = k.memory.buffer;
  const f32 = (offset: number, n: number) => new Float32Array(buffer, offset, n);
  f32(at.x, a.x.length).set(a.x);
  const state = (offset: number, n: number, s: Float32Array | null) => {
    if (s) f32(offset, n).set(s);
    else f32(offset, n).fill(0);
  };
  state(at.h, a.B * a.S, a.h0);
  if (at.c) state(at.c, a.B * a.H, a.c0);
  if (a.valid) new Uint8Array(buffer, at.valid, a.valid.length).set(a.valid);
  run(k, at);
  if (!save && !kept) keep(k, a, at);
  const { T, B, H, G, S } = a;
  const saved = at.saved && {
    gates: f32(at.saved.gates, T * B * G).slice(),
    hIn: f32(at.saved.hIn, T * B * S).slice(),
    cIn: at.saved.cIn ? f32(at.saved.cIn, T * B * H).slice() : null,
    hn: at.saved.hn ? f32(at.saved.hn, T * B * H).slice() : null,
  };
  return { packed: f32(at.out, at.length), saved };
}

/** Runs a call laid out by `place`: its input projection, then its recurrence. */
export function run(k: KernelExports, at: Pick<Layout, 'sgemm' | 'forward'>): void {
  if (at.sgemm.length) runShares(k, 'sgemm', at.sgemm);
  const { blocks, together, posted } = at.forward;
  runShares(k, 'forward', blocks, together, posted);
}

/**
 * Lays one call out in the kernel's memory: resolves its weights (cached or packed), places its
 * buffers, copies its biases in and writes its argument blocks; the caller copies in x and the
 * initial state and runs the blocks.
 */
function layOut(k: KernelExports, a: KernelInputs, save: boolean): Layout {
  const ws = new Weights(k);
  const which = addWeights(ws, a);
  const mem = new Arena(k);
  return place(k, mem, a, save, ws.offsets(mem), which);
}

/** Which of a call's weights `place` reads: indices into the offsets of `ws` (-1: none). */
export interface CallWeights {
  wih: number;
  whh: number;
  whr: number;
}

/** Adds the weights of call `a` to `ws` (resolved together with those of other calls). */
export function addWeights(ws: Weights, a: KernelInputs): CallWeights {
  const { H, G, S } = a;
  const p = a.project;
  return {
    wih: p ? ws.add(p.wih, G, p.I) : -1,
    whh: ws.add(a.whh, G, S),
    whr: a.whr ? ws.add(a.whr, S, H) : -1,
  };
}

/**
 * Places call `a` in `mem`, its weights at `offsets` (of the `Weights` that `addWeights` added
 * them to, indexed by `which`): its buffers, biases and argument blocks (`layOut`).
 */
export function place(
  k: KernelExports,
  mem: Arena,
  a: KernelInputs,
  save: boolean,
  offsets: number[],
  which: CallWeights,
): Layout {
  const { T, B, H, G, S } = a;
  const lstm = a.mode === 'lstm';
  const gru = a.mode === 'gru';
  const p = a.project;
  const px = p ? mem.alloc(T * B * G) : mem.alloc(a.x.length);
  const input = p ? mem.alloc(a.x.length) : px;
  const bih = p?.bih ? mem.put(p.bih) : 0;
  const wih = offsets[which.wih]!;
  const pb = a.bhh ? mem.put(a.bhh) : mem.alloc(G);
  if (!a.bhh) mem.f32(pb, G).fill(0);
  const layout: Packed = packedLayout(T, B, S, H, lstm);
  const pOut = mem.alloc(layout.length);
  const args = {
    mode: MODES.indexOf(a.mode),
    T,
    B,
    H,
    S,
    G,
    reverse: Number(a.reverse),
    batchFirst: Number(a.batchFirst ?? false),
    b0: 0,
    b1: B,
    x: px,
    whhT: offsets[which.whh]!,
    bhh: pb,
    whrT: which.whr >= 0 ? offsets[which.whr]! : 0,
    valid: a.valid ? mem.alloc(T * B, true) : 0,
    h: pOut + layout.h * 4,
    c: lstm ? pOut + layout.c * 4 : 0,
    out: pOut,
    hp: mem.alloc(B * G),
    full: a.whr ? mem.alloc(B * H) : 0,
    gates: mem.alloc(save ? T * B * G : B * G),
    hn: gru ? mem.alloc(save ? T * B * H : B * H) : 0,
    savedStride: Number(save),
    hIn: save ? mem.alloc(T * B * S) : 0,
    cIn: save && lstm ? mem.alloc(T * B * H) : 0,
  };
  // Each thread runs a range of the batch through every step, or a range of the hidden units; or
  // one runs every step while the others project the input ahead of it.
  const projection = p
    ? { M: T * B, N: G, K: p.I, a: input, b: wih, bias: bih, c: px, j0: 0, j1: 0 }
    : null;
  const forward = forwardShares(k, mem, args, projection);
  const sgemm =
    p && forward.posted !== 'projectAhead'
      ? sgemmShares(k, sgemmBlocks(mem), T * B, G, p.I, input, wih, bih, px)
      : [];
  const { gates, hIn, cIn, hn } = args;
  const saved = save ? { gates, hIn, cIn, hn } : null;
  const { h, c, valid } = args;
  return {
    x: input,
    h,
    c,
    valid,
    out: pOut,
    length: layout.length,
    sgemm,
    forward,
    saved,
  };
}
