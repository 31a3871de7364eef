import { adapters } from '@rnnkit/golden';
import { parityTests } from '@rnnkit/vitest-config/parity';
import { describe } from 'vitest';
import { GRU } from './gru.js';
import { LSTM } from './lstm.js';
import { RNN } from './rnn.js';

describe('PyTorch parity: torch.nn.RNN / LSTM / GRU fixtures (forward and BPTT gradients)', () => {
  parityTests('rnn', adapters({ RNN, LSTM, GRU }));
});
