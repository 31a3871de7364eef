import { adapters, checkFixture, listFixtures } from '@rnnkit/golden';
import { loadSafetensors, safetensorsMetadata } from '@rnnkit/ops';
import { describe, expect, it } from 'vitest';
import { GRU } from './gru.js';
import { LSTM } from './lstm.js';
import { RNN } from './rnn.js';

const kinds = adapters({ RNN, LSTM, GRU });

describe('PyTorch parity: torch.nn.RNN / LSTM / GRU fixtures (forward and BPTT gradients)', () => {
  for (const name of listFixtures('rnn')) {
    it(name, () => {
      const r = checkFixture('rnn', name, kinds, { loadSafetensors, safetensorsMetadata });
      expect(r.leaked, 'tensors leaked').toBe(0);
      expect(r.forward, `forward error at ${r.forwardAt}`).toBeLessThanOrEqual(1e-5);
      expect(r.grad, `gradient error at ${r.gradAt}`).toBeLessThanOrEqual(1e-4);
    });
  }
});
