import { rnnMode } from '@rnnkit/cell/internal';
import type * as tf from '@tensorflow/tfjs-core';
import type { PackedSequence } from './packed/sequence.js';
import { type ForwardOptions, RecurrentLayer, type RecurrentOptions } from './recurrent.js';

export interface RNNOptions extends RecurrentOptions {
  nonlinearity?: 'tanh' | 'relu';
}

/** torch.nn.RNN (Elman): h_t = tanh|relu(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh), stacked and optionally bidirectional. */
export class RNN extends RecurrentLayer {
  readonly nonlinearity: 'tanh' | 'relu';

  constructor(opts: RNNOptions) {
    const { nonlinearity, mode } = rnnMode(opts?.nonlinearity, 'RNN({ nonlinearity })');
    super('RNN', mode, opts, ['nonlinearity']);
    this.nonlinearity = nonlinearity;
  }

  /**
   * input: [T,B,I] | [B,T,I] (batchFirst) | [T,I], h0: [L*D,B,H] | [L*D,H] (zeros if absent)
   * -> [output [..,T,D*H], hN [L*D,B,H] | [L*D,H]]
   */
  forward(input: PackedSequence, h0?: tf.Tensor): [PackedSequence, tf.Tensor];
  forward(input: tf.Tensor, h0?: tf.Tensor, opts?: ForwardOptions): [tf.Tensor, tf.Tensor];
  forward(
    input: tf.Tensor | PackedSequence,
    h0?: tf.Tensor,
    opts?: ForwardOptions,
  ): [tf.Tensor | PackedSequence, tf.Tensor] {
    const { output, finals } = this.run(input, [['h0', h0, this.hiddenSize]], opts);
    return [output, finals[0]];
  }
}
