export { GRU } from './gru.js';
export {
  assertCellKind,
  CELL_KIND_NAMES,
  CELL_KINDS,
  type CellKind,
  createLayer,
} from './kinds.js';
export { LSTM, type LSTMOptions } from './lstm.js';
export type { ForwardOptions, RecurrentOptions } from './options.js';
export {
  type PackPaddedOptions,
  type PadPackedOptions,
  packPaddedSequence,
  packSequence,
  padPackedSequence,
  unpackSequence,
} from './packed/pack.js';
export { type PadSequenceOptions, padSequence, unpadSequence } from './packed/pad.js';
export { PackedSequence } from './packed/sequence.js';
export { RecurrentLayer } from './recurrent.js';
export { RNN, type RNNOptions } from './rnn.js';
