import { assertStatePair } from '@rnnkit/ops/internal';
import type * as tf from '@tensorflow/tfjs-core';
import type { PackedSequence } from './packed/sequence.js';
import { type ForwardOptions, RecurrentLayer, type RecurrentOptions } from './recurrent.js';

export interface LSTMOptions extends RecurrentOptions {
  /** Project h to this size with weight_hr_l{k} (0 = off), as PyTorch's proj_size. */
  projSize?: number;
}

/** torch.nn.LSTM, gates i, f, g, o, with optional projections. */
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
