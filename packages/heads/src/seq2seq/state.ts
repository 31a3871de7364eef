import { ShapeError } from '@rnnkit/ops';
import { assertShape, checkIds, checkLengths, describeValue, fmtShape } from '@rnnkit/ops/internal';
import * as tf from '@tensorflow/tfjs-core';
import type { AttentionKeys } from './attention.js';

/**
 * A Seq2Seq decoder's state: what `encode` returns and `step` passes on. Every tensor has the batch
 * in dimension 0, so decoders reorder or repeat it with one gather per tensor (beam search).
 */
export interface Seq2SeqState {
  /** The encoder's outputs, ready for attention (keys [B, S, D*H]). */
  memory: AttentionKeys;
  /** [B, L, H] decoder hidden state per layer */
  h: tf.Tensor3D;
  /** [B, L, H] LSTM cell state */
  c?: tf.Tensor3D;
  /** [B, H] previous attentional state (input feeding only) */
  feed?: tf.Tensor2D;
}

/** What `encode` returns: the decoder's initial state. */
export type Memory = Seq2SeqState;

interface StateShape {
  hiddenSize: number;
  numLayers: number;
  cell: string;
  inputFeeding: boolean;
  attention: { prepare: unknown } | null;
}

/** Checks src ids [B, S] (in [0, vocab)) and srcLengths (B values in [1, S]). Caller disposes `ids` if new. */
export function checkSource(
  src: unknown,
  srcLengths: unknown,
  vocab: number,
  where: string,
): { ids: tf.Tensor2D; lengths: number[] } {
  const ids = checkIds(src, vocab, `${where}(src)`);
  try {
    if (ids.rank !== 2 || ids.shape[1] === 0) {
      throw new ShapeError(
        `${where}(src): expected token ids [B, S] with S >= 1 (an empty source has nothing to attend to), got ${fmtShape(ids.shape)}`,
      );
    }
    const [B, S] = ids.shape as [number, number];
    if (srcLengths === undefined) {
      throw new TypeError(
        `${where}(srcLengths): expected ${B} lengths in [1, ${S}], got undefined`,
      );
    }
    const lengths = checkLengths(srcLengths, `${where}(srcLengths)`, B, S) as number[];
    return { ids: ids as tf.Tensor2D, lengths };
  } catch (e) {
    if (ids !== src) ids.dispose();
    throw e;
  }
}

/** The tensors (and memory object) a state holds, in a fixed order. */
const parts = (s: Seq2SeqState) => {
  const { memory } = s;
  return [s.h, s.c, s.feed, memory, memory?.keys, memory?.projected, memory?.valid];
};

/** States a model's encode or step returned: the model, B and their parts then. */
const returned = new WeakMap<object, { m: StateShape; B: number; parts: unknown[] }>();

/**
 * Notes that model m returned `state` (batch B): while it holds the same live tensors, m's next
 * step needs no check of it.
 */
export function markState(state: Seq2SeqState, m: StateShape, B: number): void {
  returned.set(state, { m, B, parts: parts(state) });
}

/** Checks a decoder state against the model's sizes; returns B. */
export function checkState(state: unknown, m: StateShape, arg: string): number {
  const s = state as Seq2SeqState;
  const known = returned.get(s);
  const same = (t: unknown, i: number) =>
    t === known!.parts[i] && !(t as { isDisposed?: boolean } | undefined)?.isDisposed;
  if (known?.m === m && parts(s).every(same)) return known.B;
  if (s === null || typeof s !== 'object' || !s.memory || typeof s.memory !== 'object') {
    throw new TypeError(
      `${arg}: expected a state from encode() or step() ({ memory, h, ... }), got ${describeValue(state)}`,
    );
  }
  assertShape(s.h, `${arg}.h`, [null, m.numLayers, m.hiddenSize]);
  const B = s.h.shape[0];
  if (m.cell === 'lstm') assertShape(s.c, `${arg}.c`, [B, m.numLayers, m.hiddenSize]);
  if (m.inputFeeding) assertShape(s.feed, `${arg}.feed`, [B, m.hiddenSize]);
  assertShape(s.memory.keys, `${arg}.memory.keys`, [B, null, null]);
  const S = s.memory.keys.shape[1];
  if (s.memory.valid) assertShape(s.memory.valid, `${arg}.memory.valid`, [B, S]);
  if (m.attention && s.memory.projected === undefined) {
    throw new TypeError(`${arg}.memory: expected keys prepared by this model's encode()`);
  }
  return B;
}

/** tf.tidy for functions that return states (plain objects of tensors, nulls allowed). */
export function keepState<T>(fn: () => T): T {
  return tf.tidy(fn as unknown as () => tf.TensorContainer) as unknown as T;
}
