import type * as tf from '@tensorflow/tfjs-core';
import type { PackedSequence } from './packed/sequence.js';
import { type ForwardOptions, RecurrentLayer, type RecurrentOptions } from './recurrent.js';

/**
 * torch.nn.GRU, gates r, z, n.
 * @example
 * ```ts
 * const gru = new GRU({ inputSize: 8, hiddenSize: 16, bidirectional: true });
 * const [output, hN] = gru.forward(tf.randomNormal([5, 2, 8])); // [5, 2, 32], [2, 2, 16]
 * ```
 */
export class GRU extends RecurrentLayer {
  constructor(opts: RecurrentOptions) {
    super('GRU', 'gru', opts, []);
  }

  /** input: [T,B,I] | [B,T,I] | [T,I], h0: [L*D,B,H] | [L*D,H] -> [output [..,T,D*H], hN [L*D,B,H]] */
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
