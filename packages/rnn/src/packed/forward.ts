import { assertRank, describeValue } from '@rnnkit/ops/internal';
import type * as tf from '@tensorflow/tfjs-core';
import type { ForwardOptions } from '../options.js';
import { packLike, padPackedSequence } from './pack.js';
import type { PackedSequence } from './sequence.js';

/**
 * RNN/LSTM/GRU.forward on a PackedSequence (data [N, I]): padded in the original batch order,
 * run by `runPadded` with its lengths, and the output packed back with the input's batch sizes
 * and order (data [N, D*P]); the final states stay in the original batch order, as PyTorch's.
 * `name` is the layer's, for errors.
 */
export function runPacked(
  name: string,
  batchFirst: boolean,
  input: PackedSequence,
  opts: ForwardOptions | undefined,
  runPadded: (x: tf.Tensor, opts: ForwardOptions) => { output: tf.Tensor; finals: tf.Tensor[] },
): { output: PackedSequence; finals: tf.Tensor[] } {
  if (opts?.lengths !== undefined) {
    throw new TypeError(
      `${name}.forward(opts.lengths): expected no lengths with a PackedSequence input (it holds them), got ${describeValue(opts.lengths)}`,
    );
  }
  assertRank(
    input.data,
    `${name}.forward(input.data)`,
    [2],
    '[N, I] (a PackedSequence of [T, I] steps)',
  );
  const [padded, lengths] = padPackedSequence(input, { batchFirst });
  try {
    const { output, finals } = runPadded(padded, { lengths });
    try {
      return { output: packLike(output, input, batchFirst), finals };
    } finally {
      output.dispose();
    }
  } finally {
    padded.dispose();
  }
}
