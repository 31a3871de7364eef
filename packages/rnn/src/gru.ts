import type { RecurrentOptions } from './options.js';
import { HiddenStateLayer } from './recurrent.js';

/**
 * torch.nn.GRU, gates r, z, n.
 * @example
 * ```ts
 * const gru = new GRU({ inputSize: 8, hiddenSize: 16, bidirectional: true });
 * const [output, hN] = gru.forward(tf.randomNormal([5, 2, 8])); // [5, 2, 32], [2, 2, 16]
 * ```
 */
export class GRU extends HiddenStateLayer {
  constructor(opts: RecurrentOptions) {
    super('GRU', 'gru', opts, []);
  }
}
