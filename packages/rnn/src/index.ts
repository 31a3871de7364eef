export { GRU } from './gru.js';
export {
  assertCellKind,
  CELL_KIND_NAMES,
  CELL_KINDS,
  type CellKind,
  createLayer,
} from './kinds.js';
export { LSTM, type LSTMOptions } from './lstm.js';
export {
  PackedSequence,
  type PackPaddedOptions,
  type PadPackedOptions,
  type PadSequenceOptions,
  packPaddedSequence,
  packSequence,
  padPackedSequence,
  padSequence,
  unpackSequence,
  unpadSequence,
} from './packed.js';
export { type ForwardOptions, RecurrentLayer, type RecurrentOptions } from './recurrent.js';
export { RNN, type RNNOptions } from './rnn.js';
