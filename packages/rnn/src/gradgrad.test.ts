import { checkGradGrad, expectNoLeak } from '@rnnkit/vitest-config/helpers';
import { describe, expect, it } from 'vitest';
import { GRU } from './gru.js';
import { LSTM } from './lstm.js';
import { RNN } from './rnn.js';

// Second derivatives against PyTorch autograd (tooling/golden/phase2.py, gradgrad_*): a gradient
// penalty (sum of squared first gradients over every parameter and x) and its gradients, through
// two bidirectional layers.
const LAYERS = { rnn: RNN, lstm: LSTM, gru: GRU } as const;

describe('second derivatives through RNN/LSTM/GRU match PyTorch autograd', () => {
  for (const [kind, Layer] of Object.entries(LAYERS)) {
    it(`gradgrad_${kind}`, () => {
      const m = new Layer({ inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true });
      const err = expectNoLeak(() =>
        checkGradGrad(m, (mod, x) => mod.forward(x)[0], 'phase2', `gradgrad_${kind}`),
      );
      m.dispose();
      expect(err.y).toBeLessThanOrEqual(1e-6);
      expect(err.penalty).toBeLessThanOrEqual(1e-5);
      expect(err.grad).toBeLessThanOrEqual(1e-5);
    });
  }
});
