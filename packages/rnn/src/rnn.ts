import { rnnMode } from '@rnnkit/cell/internal';
import type { RecurrentOptions } from './options.js';
import { HiddenStateLayer } from './recurrent.js';

/** Options of {@link RNN}: the shared ones plus the nonlinearity. */
export interface RNNOptions extends RecurrentOptions {
  /**
   * The activation of the recurrence.
   * @default 'tanh'
   */
  nonlinearity?: 'tanh' | 'relu';
}

/**
 * torch.nn.RNN (Elman): h_t = tanh|relu(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh), stacked and
 * optionally bidirectional. Keys weight_ih_l{k}[_reverse], weight_hh_l{k}, bias_ih_l{k}, bias_hh_l{k}.
 * @example
 * ```ts
 * // torch.nn.RNN(input_size=300, hidden_size=256, batch_first=True)
 * const rnn = new RNN({ inputSize: 300, hiddenSize: 256, batchFirst: true });
 * const [output, hN] = rnn.forward(tf.randomUniform([2, 10, 300])); // [2, 10, 256], [1, 2, 256]
 * ```
 */
export class RNN extends HiddenStateLayer {
  /** See {@link RNNOptions.nonlinearity}. */
  readonly nonlinearity: 'tanh' | 'relu';

  constructor(opts: RNNOptions) {
    const { nonlinearity, mode } = rnnMode(opts?.nonlinearity, 'RNN({ nonlinearity })');
    super('RNN', mode, opts, ['nonlinearity']);
    this.nonlinearity = nonlinearity;
  }
}
