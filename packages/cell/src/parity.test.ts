import { adapters, checkFixture, listFixtures } from '@rnnkit/golden';
import { loadSafetensors, safetensorsMetadata } from '@rnnkit/ops';
import { describe, expect, it } from 'vitest';
import { GRUCell, LSTMCell, RNNCell } from './cells.js';
import { ElmanRNN } from './elman.js';
import { enginePolicy } from './policy.js';

const kinds = adapters({ RNNCell, LSTMCell, GRUCell, ElmanRNN });

/**
 * The kernel (WebAssembly SIMD, where loaded) and the plain JS recurrence: both against PyTorch.
 * Tolerances: forward 5e-6 absolute, gradients 1e-5 relative to each gradient's scale; measured
 * worst on cpu and wasm, both paths, over cell, rnn and heads: 7.7e-7 and 9.5e-7
 * (`PARITY_LOG=1 npx vitest run src/parity.test.ts` prints every fixture's errors).
 */
const PATHS = ['kernel', 'js'] as const;

describe('PyTorch parity: cells and the tutorial MyRNN (forward and BPTT gradients)', () => {
  for (const path of PATHS) {
    for (const name of listFixtures('cell')) {
      it(`${name} (${path} path)`, () => {
        enginePolicy.kernel = path === 'kernel';
        let r: ReturnType<typeof checkFixture>;
        try {
          r = checkFixture('cell', name, kinds, { loadSafetensors, safetensorsMetadata });
        } finally {
          enginePolicy.kernel = true;
        }
        if (process.env.PARITY_LOG) console.log('PARITY', 'cell', path, name, r.forward, r.grad);
        expect(r.leaked, 'tensors leaked').toBe(0);
        expect(r.forward, `forward error at ${r.forwardAt}`).toBeLessThanOrEqual(5e-6);
        expect(r.grad, `gradient error at ${r.gradAt}`).toBeLessThanOrEqual(1e-5);
      });
    }
  }
});
