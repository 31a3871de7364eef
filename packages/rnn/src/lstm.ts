import { assertStatePair } from '@rnnkit/ops/internal';
import type * as tf from '@tensorflow/tfjs-core';
import type { ForwardOptions, RecurrentOptions } from './options.js';
import type { PackedSequence } from './packed/sequence.js';
import { RecurrentLayer } from './recurrent.js';

/** Options of {@link LSTM}: the shared ones plus the projection. */
export interface LSTMOptions extends RecurrentOptions {
  /**
   * Project h to this size P < hiddenSize with weight_hr_l{k} (0 = off), as PyTorch's proj_size.
   * @default 0
   */
  projSize?: number;
}

/**
 * torch.nn.LSTM, gates i, f, g, o, with optional projections.
 * @example
 * ```ts
 * // torch.nn.LSTM(4, 3, num_layers=2, batch_first=True)
 * const lstm = new LSTM({ inputSize: 4, hiddenSize: 3, numLayers: 2, batchFirst: true });
 * const [output, [hN, cN]] = lstm.forward(tf.randomNormal([2, 5, 4])); // [2, 5, 3], [2, 2, 3] each
 * ```
 */
export class LSTM extends RecurrentLayer {
  constructor(opts: LSTMOptions) {
    super('LSTM', 'lstm', opts, ['projSize']);
  }

  /**
   * input: [T,B,I] | [B,T,I] | [T,I], state [h0 [L*D,B,P], c0 [L*D,B,H]] (zeros if absent)
   * -> [output [..,T,D*P], [hN [L*D,B,P], cN [L*D,B,H]]] (P = projSize or H)
   */
  forward(
    input: PackedSequence,
    state?: [tf.Tensor, tf.Tensor],
  ): [PackedSequence, [tf.Tensor, tf.Tensor]];
  forward(
    input: tf.Tensor,
    state?: [tf.Tensor, tf.Tensor],
    opts?: ForwardOptions,
  ): [tf.Tensor, [tf.Tensor, tf.Tensor]];
  forward(
    input: tf.Tensor | PackedSequence,
    state?: [tf.Tensor, tf.Tensor],
    opts?: ForwardOptions,
  ): [tf.Tensor | PackedSequence, [tf.Tensor, tf.Tensor]] {
    this.assertAlive();
    assertStatePair(state, 'LSTM.forward(state)', '[h0, c0]');
    const { output, finals } = this.run(
      input,
      [
        ['state[0] (h0)', state?.[0], this.outputSize],
        ['state[1] (c0)', state?.[1], this.hiddenSize],
      ],
      opts,
    );
    return [output, [finals[0], finals[1]]];
  }
}
