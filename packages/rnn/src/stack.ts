import {
  inLayout,
  type RecurrentWeights,
  runSequence,
  type State,
  stackInference,
} from '@rnnkit/cell/internal';
import { dropout } from '@rnnkit/ops';
import * as tf from '@tensorflow/tfjs-core';

/** A stack of L layers x D directions, as RecurrentLayer holds it. */
export interface Stack {
  /** [layer][direction] */
  weights: RecurrentWeights[][];
  /** Dropout probability on each layer's output but the last (0: none, e.g. in eval mode). */
  dropout: number;
  /** Input and output are [B, T, *]. */
  batchFirst: boolean;
}

/**
 * Runs every layer and direction of `stack` over input [T,B,I] | [B,T,I] (batchFirst) | [T,I]
 * (B sequences, with `lengths` or all of length T). `states` holds each initial state ([h0] or
 * [h0, c0]): [L*D,B,size] | [L*D,size], or undefined for zeros. Returns the output
 * [..,T,D*P] and each final state [L*D,B,size] | [L*D,size]: the only tensors it leaves. An
 * inference (no dropout) runs on host arrays in the kernel when the engine allows it
 * (stackInference, no tensor in between), else layer by layer in a tf.tidy.
 */
export function runStack(
  stack: Stack,
  input: tf.Tensor,
  states: Array<[tf.Tensor | undefined, number]>,
  B: number,
  lengths: number[] | null,
): { output: tf.Tensor; finals: tf.Tensor[] } {
  if (stack.dropout === 0) {
    const given = states.map(([s]) => s ?? null);
    const fast = stackInference(stack.weights, input, stack.batchFirst, given, lengths);
    if (fast) return fast;
  }
  // Layer by layer in tfjs ops, every tensor but the results disposed.
  return tf.tidy(() => {
    const batched = input.rank === 3;
    const numLayers = stack.weights.length;
    const numDirections = stack.weights[0].length;
    const init = states.map(([s]) => (s === undefined ? null : batched ? s : tf.expandDims(s, 1)));
    const sizes = states.map(([, size]) => size);
    const finals: tf.Tensor[][] = init.map(() => []);
    /** Every layer and direction over x, in the layout the engine chose for the whole stack. */
    const run = (input: tf.Tensor3D, batchFirst: boolean) => {
      let x = input;
      for (let layer = 0; layer < numLayers; layer++) {
        if (layer > 0 && stack.dropout > 0) x = dropout(x, stack.dropout, true) as tf.Tensor3D;
        const outs: tf.Tensor[] = [];
        for (let d = 0; d < numDirections; d++) {
          const k = layer * numDirections + d;
          // layer k's initial state: zeros when none was given, else row k of h0/c0
          const pick = (s: tf.Tensor | null, size: number) =>
            s === null
              ? tf.zeros([B, size])
              : tf.reshape(tf.slice(s, [k, 0, 0], [1, B, size]), [B, size]);
          const state0: State = { h: pick(init[0], sizes[0]) };
          if (init.length > 1) state0.c = pick(init[1], sizes[1]);
          const { output, state } = runSequence(stack.weights[layer][d], x, state0, {
            reverse: d === 1,
            lengths,
            batchFirst,
          });
          outs.push(output);
          finals[0].push(state.h);
          if (state.c) finals[1].push(state.c);
        }
        x = (outs.length === 1 ? outs[0] : tf.concat(outs, 2)) as tf.Tensor3D;
      }
      return x;
    };
    const output = batched
      ? inLayout(input as tf.Tensor3D, stack.batchFirst, run)
      : tf.squeeze(run(tf.expandDims(input, 1) as tf.Tensor3D, false), [1]);
    return {
      output,
      // [L*D, B, *] (one layer and direction: a reshape, no copy); unbatched drops B
      finals: finals.map((f) => {
        const all = f.length === 1 ? tf.expandDims(f[0], 0) : tf.stack(f);
        return batched ? all : tf.squeeze(all, [1]);
      }),
    };
  });
}
