import { checkGradGrad, expectNoLeak } from '@rnnkit/vitest-config/helpers';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { GRUCell, LSTMCell, RNNCell } from './cells.js';
import { enginePolicy } from './policy.js';

// Second derivatives through the cells against PyTorch autograd (tooling/golden/phase2.py,
// gradgrad_*cell): a gradient penalty (sum of squared first gradients over every parameter and x)
// and its gradients. The measured worst is about 6e-7 relative.
const CELLS = { rnncell: RNNCell, lstmcell: LSTMCell, grucell: GRUCell } as const;
const y = (m: RNNCell | LSTMCell | GRUCell, x: tf.Tensor) => {
  const out = m.forward(x);
  return Array.isArray(out) ? out[0] : out;
};

describe('second derivatives through the cells match PyTorch autograd', () => {
  for (const path of ['kernel', 'js'] as const) {
    for (const [kind, Cell] of Object.entries(CELLS)) {
      it(`gradgrad_${kind} (${path} path for first-order calls)`, () => {
        enginePolicy.kernel = path === 'kernel';
        try {
          const m = new Cell({ inputSize: 3, hiddenSize: 4 });
          const err = expectNoLeak(() => checkGradGrad(m, y, 'phase2', `gradgrad_${kind}`));
          m.dispose();
          expect(err.y).toBeLessThanOrEqual(1e-6);
          expect(err.penalty).toBeLessThanOrEqual(1e-5);
          expect(err.grad).toBeLessThanOrEqual(1e-5);
        } finally {
          enginePolicy.kernel = true;
        }
      });
    }
  }

  it('a first-order gradient takes the fused ops; a nested one the stepwise tfjs ops', () => {
    const m = new LSTMCell({ inputSize: 3, hiddenSize: 4 });
    const x = tf.ones([2, 3]);
    const engine = tf.engine() as unknown as {
      state: { activeTape: Array<{ kernelName: string }> };
    };
    /** The kernels the tape holds after m's forward, in a gradient at nesting `depth`. */
    const taped = (depth: number): string[] => {
      let names: string[] = [];
      const f = (): tf.Scalar => {
        const s = tf.sum(m.forward(x)[0]) as tf.Scalar;
        names = engine.state.activeTape.map((n) => n.kernelName);
        return s;
      };
      const g =
        depth === 1
          ? f
          : () =>
              tf.addN(Object.values(tf.variableGrads(f).grads).map((t) => tf.sum(t))) as tf.Scalar;
      const r = tf.variableGrads(g);
      tf.dispose([r.value, ...Object.values(r.grads)]);
      return names;
    };
    expect(taped(1)).not.toContain('BatchMatMul');
    expect(taped(2)).toContain('BatchMatMul');
    m.dispose();
    x.dispose();
  });
});
