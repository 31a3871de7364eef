// The three recurrent layer kinds behind one calling convention, for tests that run each of them.
import { CELL_KINDS, createLayer } from '@rnnkit/rnn';

/** Gate blocks per kind (PyTorch's weight_ih rows / hiddenSize): RNN 1, LSTM 4 (i,f,g,o), GRU 3 (r,z,n). */
const GATES = { rnn: 1, lstm: 4, gru: 3 };

/** One entry per registered cell kind: its PyTorch name, gate count, constructor and a uniform forward. */
export const KINDS = Object.keys(CELL_KINDS).map((cell) => ({
  cell,
  name: CELL_KINDS[cell].torchName,
  gates: GATES[cell],
  make: (opts) => createLayer(cell, opts),
  // forward(input, h0 | [h0, c0], opts): states are passed only when given
  run: (m, x, h0, c0, opts) => {
    if (cell === 'lstm') {
      const [output, [hN, cN]] = m.forward(x, h0 || c0 ? [h0, c0] : undefined, opts);
      return { output, hN, cN, all: [output, hN, cN] };
    }
    const [output, hN] = m.forward(x, h0, opts);
    return { output, hN, all: [output, hN] };
  },
}));
