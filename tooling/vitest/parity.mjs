// The PyTorch parity tests of one fixture group, on both recurrence paths (cell, rnn, heads).
import { enginePolicy } from '@rnnkit/cell/internal';
import { checkFixture, listFixtures } from '@rnnkit/golden';
import { loadSafetensors, safetensorsMetadata } from '@rnnkit/ops';
import { expect, it } from 'vitest';

/** The recurrence paths every fixture runs on: the WebAssembly SIMD kernel (where loaded), plain JS. */
export const PATHS = ['kernel', 'js'];

/**
 * One test per fixture of `group` (default every one) and path, against PyTorch. Tolerances:
 * forward 5e-6 absolute, gradients 1e-5 relative to each gradient's scale; measured worst on cpu
 * and wasm, both paths, over cell, rnn and heads: 7.7e-7 and 9.5e-7
 * (`PARITY_LOG=1 npx vitest run src/parity.test.ts` prints every fixture's errors).
 */
export function parityTests(group, kinds, names = listFixtures(group)) {
  for (const path of PATHS) {
    for (const name of names) {
      it(`${name} (${path} path)`, () => {
        enginePolicy.kernel = path === 'kernel';
        let r;
        try {
          r = checkFixture(group, name, kinds, { loadSafetensors, safetensorsMetadata });
        } finally {
          enginePolicy.kernel = true;
        }
        if (process.env.PARITY_LOG) console.log('PARITY', group, path, name, r.forward, r.grad);
        expect(r.leaked, 'tensors leaked').toBe(0);
        expect(r.forward, `forward error at ${r.forwardAt}`).toBeLessThanOrEqual(5e-6);
        expect(r.grad, `gradient error at ${r.gradAt}`).toBeLessThanOrEqual(1e-5);
      });
    }
  }
}
