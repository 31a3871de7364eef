import { ElmanRNN, GRUCell, LSTMCell, RNNCell } from '@rnnkit/cell';
import { adapters } from '@rnnkit/golden';
import { AttentionPooling, pool, SequenceEncoder } from '@rnnkit/heads';
import { Embedding, Linear } from '@rnnkit/ops';
import { GRU, LSTM, RNN } from '@rnnkit/rnn';

/** How each fixture kind is built and called through rnnkit's public API (tooling/golden/parity.mjs). */
export const KINDS = adapters({
  Linear,
  Embedding,
  RNNCell,
  LSTMCell,
  GRUCell,
  ElmanRNN,
  RNN,
  LSTM,
  GRU,
  pool,
  AttentionPooling,
  SequenceEncoder,
});
