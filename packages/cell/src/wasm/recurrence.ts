import type * as tf from '@tensorflow/tfjs-core';
import { type Packed, packedLayout, type Run, type Saved } from '../sequence/layout.js';
import { MODES } from './args.js';
import type { KernelExports } from './loader.js';
import { Arena, Weights } from './memory.js';
import { sgemm, sgemmBlocks } from './products.js';
import { runForward } from './threads.js';

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

/**
 * Runs the whole recurrence in the kernel, the batch split across threads when large. Returns the
 * packed output (layout.ts; outputs [B, T, S] with `batchFirst`) as a view of the kernel's memory,
 * valid until its next call (read it out, e.g. with `kernelTensor`, or copy it), and, with `save`,
 * copies of the per-step activations and states for BPTT.
 */
export function recurrence(
  k: KernelExports,
  a: KernelInputs,
  save: boolean,
): { packed: Float32Array; saved: Saved | null } {
  const { T, B, H, G, S } = a;
  const lstm = a.mode === 'lstm';
  const gru = a.mode === 'gru';
  const p = a.project;
  const ws = new Weights(k);
  const iWih = p ? ws.add(p.wih, G, p.I) : -1;
  const iWhh = ws.add(a.whh, G, S);
  const iWhr = a.whr ? ws.add(a.whr, S, H) : -1;
  const mem = new Arena(k);
  const offsets = ws.offsets(mem);
  let px: number;
  if (p) {
    px = mem.alloc(T * B * G);
    const pIn = mem.put(a.x);
    const pbi = p.bih ? mem.put(p.bih) : 0;
    sgemm(k, sgemmBlocks(mem), T * B, G, p.I, pIn, offsets[iWih]!, pbi, px);
  } else {
    px = mem.put(a.x);
  }
  const pb = a.bhh ? mem.put(a.bhh) : mem.alloc(G);
  if (!a.bhh) mem.f32(pb, G).fill(0);
  let pValid = 0;
  if (a.valid) {
    pValid = mem.alloc(T * B, true);
    new Uint8Array(k.memory.buffer, pValid, T * B).set(a.valid);
  }
  const layout: Packed = packedLayout(T, B, S, H, lstm);
  const pOut = mem.alloc(layout.length);
  const ph = pOut + layout.h * 4;
  const pc = lstm ? pOut + layout.c * 4 : 0;
  const h0 = mem.f32(ph, B * S);
  if (a.h0) h0.set(a.h0);
  else h0.fill(0);
  if (pc) {
    const c0 = mem.f32(pc, B * H);
    if (a.c0) c0.set(a.c0);
    else c0.fill(0);
  }
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
    whhT: offsets[iWhh]!,
    bhh: pb,
    whrT: iWhr >= 0 ? offsets[iWhr]! : 0,
    valid: pValid,
    h: ph,
    c: pc,
    out: pOut,
    hp: mem.alloc(B * G),
    full: a.whr ? mem.alloc(B * H) : 0,
    gates: mem.alloc(save ? T * B * G : B * G),
    hn: gru ? mem.alloc(save ? T * B * H : B * H) : 0,
    savedStride: Number(save),
    hIn: save ? mem.alloc(T * B * S) : 0,
    cIn: save && lstm ? mem.alloc(T * B * H) : 0,
  };
  // Each thread runs a range of the batch through every step, or a range of the hidden units.
  runForward(k, mem, args);
  const packed = mem.f32(pOut, layout.length);
  const saved = save
    ? {
        gates: mem.f32(args.gates, T * B * G).slice(),
        hIn: mem.f32(args.hIn, T * B * S).slice(),
        cIn: args.cIn ? mem.f32(args.cIn, T * B * H).slice() : null,
        hn: args.hn ? mem.f32(args.hn, T * B * H).slice() : null,
      }
    : null;
  return { packed, saved };
}
