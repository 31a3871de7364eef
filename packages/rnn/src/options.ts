/** The options RNN, LSTM and GRU share: PyTorch's, in camelCase (`batch_first` -> `batchFirst`). */
export interface RecurrentOptions {
  /** I, the number of features of each input step (PyTorch's input_size). */
  inputSize: number;
  /** H, the number of features of the hidden state (hidden_size). */
  hiddenSize: number;
  /**
   * Stacked layers: layer k > 0 reads layer k-1's output (num_layers).
   * @default 1
   */
  numLayers?: number;
  /**
   * Learn the biases b_ih and b_hh (bias).
   * @default true
   */
  bias?: boolean;
  /**
   * Input and output are [B, T, *] instead of [T, B, *]; states stay [L*D, B, H] (batch_first).
   * @default false
   */
  batchFirst?: boolean;
  /**
   * Dropout probability on each layer's output except the last, in training mode only; with
   * numLayers 1 it does nothing, and rnnkit warns as PyTorch does.
   * @default 0
   */
  dropout?: number;
  /**
   * Run a second layer over the reversed sequence and concatenate (D = 2) (bidirectional).
   * @default false
   */
  bidirectional?: boolean;
}

/** Options of a recurrent layer's `forward`. */
export interface ForwardOptions {
  /**
   * Valid length of each sequence in the batch (pack_padded_sequence semantics); each in [1, T].
   * Padded steps are never read; outputs there are zero and the final state is each sequence's own.
   * @default every sequence has length T
   */
  lengths?: ArrayLike<number>;
}

/** The keys of RecurrentOptions, for checkOptions (each layer adds its own). */
export const RECURRENT_OPTION_KEYS = [
  'inputSize',
  'hiddenSize',
  'numLayers',
  'bias',
  'batchFirst',
  'dropout',
  'bidirectional',
];
