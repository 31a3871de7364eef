import {
  assertBool,
  assertRank,
  checkLengths,
  checkOptions,
  validSteps,
} from '@rnnkit/ops/internal';
import * as tf from '@tensorflow/tfjs-core';
import { kernelTensor } from '../wasm/memory.js';
import type { RecurrentWeights, State } from '../weights.js';
import { higherOrder, inferenceKernel, inLayout } from './engine.js';
import { kernelSequence } from './infer.js';
import { packedLayout } from './layout.js';
import { recurrence } from './op.js';
import { projectInput } from './project.js';
import { stepwise } from './stepwise.js';

/** Options of `runSequence`. */
export interface SequenceOptions {
  /** Run from the last step to the first. @default false */
  reverse?: boolean;
  /**
   * Valid length of each sequence, each in [1, T] (pack_padded_sequence semantics); null or
   * omitted: every sequence runs all T steps. @default null
   */
  lengths?: readonly number[] | null;
  /** x and the output are [B, T, *] instead of [T, B, *]. @default false */
  batchFirst?: boolean;
}

/**
 * Runs one direction of one recurrent layer over a whole sequence, x [T, B, I] time-major (or
 * [B, T, I] with `batchFirst`): one matMul projects every step's input, then the fused
 * `recurrence` op (one small matMul per step, forward and backward); for inference with the
 * WebAssembly kernel ready, both in one kernel call that reads and writes either layout as it is.
 * With `lengths`, padded steps output zeros and keep the state, so the final state is the one at
 * each sequence's last valid step and the reverse direction starts there.
 * Returns outputs [T, B, H or P] ([B, T, H or P] with `batchFirst`) and the final state; the
 * caller owns them.
 */
export function runSequence(
  w: RecurrentWeights,
  x: tf.Tensor3D,
  init: State,
  opts: SequenceOptions = {},
): { output: tf.Tensor3D; state: State } {
  checkOptions(opts, 'runSequence(opts)', ['reverse', 'lengths', 'batchFirst']);
  const batchFirst =
    opts.batchFirst === undefined
      ? false
      : assertBool(opts.batchFirst, 'runSequence(opts.batchFirst)');
  const reverse =
    opts.reverse === undefined ? false : assertBool(opts.reverse, 'runSequence(opts.reverse)');
  assertRank(x, 'runSequence(x)', [3], batchFirst ? '[B, T, I] (batchFirst)' : '[T, B, I]');
  const [T, B] = batchFirst ? [x.shape[1], x.shape[0]] : [x.shape[0], x.shape[1]];
  const lengths =
    opts.lengths == null ? null : checkLengths(opts.lengths, 'runSequence(opts.lengths)', B, T);
  const valid = lengths ? validSteps(lengths, T) : null;
  return tf.tidy(() => {
    let state: State | null = null;
    const output = inLayout(x, batchFirst, (xs, bf) => {
      const r = sequence(w, xs, init, reverse, valid, bf);
      state = r.state;
      return r.output;
    });
    return { output, state: state! };
  });
}

/** runSequence in the layout `inLayout` chose: batch-first only with the inference kernel. */
function sequence(
  w: RecurrentWeights,
  x: tf.Tensor3D,
  init: State,
  reverse: boolean,
  valid: Uint8Array | null,
  batchFirst: boolean,
): { output: tf.Tensor3D; state: State } {
  const [T, B] = batchFirst ? [x.shape[1], x.shape[0]] : [x.shape[0], x.shape[1]];
  const S = init.h.shape[1] as number;
  const H = w.hiddenSize;
  const c0 = init.c ?? null;
  const layout = packedLayout(T, B, S, H, c0 !== null);
  const shape: [number, number, number] = batchFirst ? [B, T, S] : [T, B, S];
  const k = inferenceKernel();
  if (k) {
    // x projected and run through the recurrence in one kernel call, x's rows read in either
    // order as they are; tensors straight from the packed result (no split, no reshape kernels).
    const data = (t: tf.Tensor) => t.dataSync() as Float32Array;
    const run = { T, B, I: x.shape[2], batchFirst, reverse, valid };
    const host = kernelSequence(k, w, data(x), run, data(init.h), c0 && data(c0));
    const read = (from: number, to: number, shape: number[]) =>
      kernelTensor(host.subarray(from, to), shape);
    const state: State = { h: read(layout.h, layout.h + B * S, [B, S]) };
    if (c0) state.c = read(layout.c, layout.length, [B, H]);
    return { output: read(layout.out, layout.h, shape) as tf.Tensor3D, state };
  }
  if (higherOrder()) return stepwise(w, x, init, reverse, valid);
  const packed = recurrence(w, projectInput(w, x, valid), init.h, c0, reverse, valid);
  const sizes = [layout.h - layout.out, B * S];
  if (c0) sizes.push(B * H);
  const [output, h, c] = tf.split(packed, sizes);
  const state: State = { h: tf.reshape(h, [B, S]) };
  if (c) state.c = tf.reshape(c, [B, H]);
  return { output: tf.reshape(output, shape) as tf.Tensor3D, state };
}
