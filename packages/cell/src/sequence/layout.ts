import type { CellMode } from '../weights.js';

/**
 * The shapes one recurrence call shares between its paths (the WebAssembly kernel, the JS forward,
 * the backward): its sizes, the packed output and what the forward saves for BPTT.
 */

/**
 * Sizes of one recurrence call: T steps, B sequences, H hidden, G = gates * H, S = P (the LSTM
 * projection) or H.
 */
export interface Run {
  mode: CellMode;
  T: number;
  B: number;
  H: number;
  G: number;
  S: number;
  reverse: boolean;
  /** [T, B], 1 while t < length; null when every sequence runs all T steps */
  valid: Uint8Array | null;
}

/**
 * Where the parts of the packed output [T*B*S + B*S (+ B*H)] start, in floats: outputs [T, B, S]
 * (or [B, T, S]), then the final h [B, S], then the final c [B, H] (LSTM only).
 */
export interface Packed {
  out: number;
  h: number;
  /** -1 without a cell state */
  c: number;
  /** Floats in all */
  length: number;
}

/** The packed output of a run with T steps, B sequences, state size S, and a cell state [B, H] when `cell`. */
export function packedLayout(T: number, B: number, S: number, H: number, cell: boolean): Packed {
  const h = T * B * S;
  const c = h + B * S;
  return { out: 0, h, c: cell ? c : -1, length: cell ? c + B * H : c };
}

/** What the forward keeps for BPTT (kernel or JS), in host memory, indexed by time step t. */
export interface Saved {
  /** [T, B, G] activations: RNN h; LSTM i, f, g, o; GRU r, z, n */
  gates: Float32Array;
  /** [T, B, S] state entering each step */
  hIn: Float32Array;
  /** [T, B, H] LSTM cell state entering each step */
  cIn: Float32Array | null;
  /** [T, B, H] GRU h W_hn^T + b_hn, before r scales it */
  hn: Float32Array | null;
}
