import { enginePolicy } from '@rnnkit/cell/internal';
import { adapters, checkFixture, listFixtures } from '@rnnkit/golden';
import { loadSafetensors, safetensorsMetadata } from '@rnnkit/ops';
import { describe, expect, it } from 'vitest';
import { GRU } from './gru.js';
import { LSTM } from './lstm.js';
import { RNN } from './rnn.js';

const kinds = adapters({ RNN, LSTM, GRU });

/**
 * The kernel (WebAssembly SIMD, where loaded) and the plain JS recurrence: both against PyTorch.
 * Tolerances: forward 5e-6 absolute, gradients 1e-5 relative to each gradient's scale; measured
 * worst on cpu and wasm, both paths, over cell, rnn and heads: 7.7e-7 and 9.5e-7
 * (`PARITY_LOG=1 npx vitest run src/parity.test.ts` prints every fixture's errors).
 */
const PATHS = ['kernel', 'js'] as const;

describe('PyTorch parity: torch.nn.RNN / LSTM / GRU fixtures (forward and BPTT gradients)', () => {
  for (const path of PATHS) {
    for (const name of listFixtures('rnn')) {
      it(`${name} (${path} path)`, () => {
        enginePolicy.kernel = path === 'kernel';
        let r: ReturnType<typeof checkFixture>;
        try {
          r = checkFixture('rnn', name, kinds, { loadSafetensors, safetensorsMetadata });
        } finally {
          enginePolicy.kernel = true;
        }
        if (process.env.PARITY_LOG) console.log('PARITY', 'rnn', path, name, r.forward, r.grad);
        expect(r.leaked, 'tensors leaked').toBe(0);
        expect(r.forward, `forward error at ${r.forwardAt}`).toBeLessThanOrEqual(5e-6);
        expect(r.grad, `gradient error at ${r.gradAt}`).toBeLessThanOrEqual(1e-5);
      });
    }
  }
});
