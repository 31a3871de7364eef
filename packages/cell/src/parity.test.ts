import { adapters } from '@rnnkit/golden';
import { parityTests } from '@rnnkit/vitest-config/parity';
import { describe } from 'vitest';
import { GRUCell, LSTMCell, RNNCell } from './cells.js';
import { ElmanRNN } from './elman.js';

describe('PyTorch parity: cells and the tutorial MyRNN (forward and BPTT gradients)', () => {
  parityTests('cell', adapters({ RNNCell, LSTMCell, GRUCell, ElmanRNN }));
});
