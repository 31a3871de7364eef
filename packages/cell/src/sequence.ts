import { assertBool, assertRank, checkOptions } from '@rnnkit/ops/internal';
import * as tf from '@tensorflow/tfjs-core';
import { projectInput } from './project.js';
import { fusedSequence, recurrence } from './recurrence.js';
import type { RecurrentWeights } from './weights.js';

/** The recurrent state: h [B, H or P]; c [B, H] for LSTM only. */
export type State = {
  h: tf.Tensor;
  c?: tf.Tensor;
};

/**
 * Runs one direction of one recurrent layer over a whole sequence, x [T, B, I] time-major (or
 * [B, T, I] with `batchFirst`): one matMul projects every step's input, then the fused
 * `recurrence` op (one small matMul per step, forward and backward); for inference with the
 * WebAssembly kernel ready, both in one kernel call that reads and writes either layout as it is.
 * `mask` (optional, [T, B, 1] bool, true while t < length) gives pack_padded_sequence semantics:
 * padded steps output zeros and keep the state, so the final state is the one at each sequence's
 * last valid step and the reverse direction starts there.
 * Returns outputs [T, B, H or P] ([B, T, H or P] with `batchFirst`) and the final state; the
 * caller owns them.
 */
export function runSequence(
  w: RecurrentWeights,
  x: tf.Tensor3D,
  init: State,
  opts: { reverse?: boolean; mask?: tf.Tensor3D | null; batchFirst?: boolean } = {},
): { output: tf.Tensor3D; state: State } {
  checkOptions(opts, 'runSequence(opts)', ['reverse', 'mask', 'batchFirst']);
  const batchFirst =
    opts.batchFirst === undefined
      ? false
      : assertBool(opts.batchFirst, 'runSequence(opts.batchFirst)');
  const reverse =
    opts.reverse === undefined ? false : assertBool(opts.reverse, 'runSequence(opts.reverse)');
  assertRank(x, 'runSequence(x)', [3], batchFirst ? '[B, T, I] (batchFirst)' : '[T, B, I]');
  const [T, B] = batchFirst ? [x.shape[1], x.shape[0]] : [x.shape[0], x.shape[1]];
  const S = init.h.shape[1] as number;
  const valid = opts.mask ? (opts.mask.dataSync() as Uint8Array) : null;
  const c0 = init.c ?? null;
  const H = w.hiddenSize;
  const host = fusedSequence(w, x, init.h, c0, reverse, valid, batchFirst);
  if (host) {
    // Inference: tensors straight from the kernel's packed result (no split, no reshape kernels).
    const state: State = { h: tf.tensor2d(host.subarray(T * B * S, (T + 1) * B * S), [B, S]) };
    if (c0) state.c = tf.tensor2d(host.subarray((T + 1) * B * S, (T + 1) * B * S + B * H), [B, H]);
    const shape: [number, number, number] = batchFirst ? [B, T, S] : [T, B, S];
    return { output: tf.tensor3d(host.subarray(0, T * B * S), shape), state };
  }
  return tf.tidy(() => {
    const xt = batchFirst ? tf.transpose(x, [1, 0, 2]) : x;
    const packed = recurrence(w, projectInput(w, xt), init.h, c0, reverse, valid);
    const sizes = [T * B * S, B * S];
    if (c0) sizes.push(B * H);
    const [output, h, c] = tf.split(packed, sizes);
    const state: State = { h: tf.reshape(h, [B, S]) };
    if (c) state.c = tf.reshape(c, [B, H]);
    const out = tf.reshape(output, [T, B, S]) as tf.Tensor3D;
    return { output: batchFirst ? tf.transpose(out, [1, 0, 2]) : out, state };
  });
}
