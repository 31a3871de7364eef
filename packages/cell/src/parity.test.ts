import { adapters, checkFixture, listFixtures } from '@rnnkit/golden';
import { loadSafetensors, safetensorsMetadata } from '@rnnkit/ops';
import { describe, expect, it } from 'vitest';
import { GRUCell, LSTMCell, RNNCell } from './cells.js';
import { ElmanRNN } from './elman.js';

const kinds = adapters({ RNNCell, LSTMCell, GRUCell, ElmanRNN });

describe('PyTorch parity: cells and the tutorial MyRNN (forward and BPTT gradients)', () => {
  for (const name of listFixtures('cell')) {
    it(name, () => {
      const r = checkFixture('cell', name, kinds, { loadSafetensors, safetensorsMetadata });
      expect(r.leaked, 'tensors leaked').toBe(0);
      expect(r.forward, `forward error at ${r.forwardAt}`).toBeLessThanOrEqual(1e-5);
      expect(r.grad, `gradient error at ${r.gradAt}`).toBeLessThanOrEqual(1e-4);
    });
  }
});
