import { RnnkitError } from '@rnnkit/ops';
import { checkGradGrad, expectNoLeak, maxAbsDiff } from '@rnnkit/vitest-config/helpers';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { GRUCell, LSTMCell, RNNCell } from './cells.js';
import { enginePolicy } from './policy.js';
import { runSequence } from './sequence/run.js';
import { type CellMode, createRecurrentWeights } from './weights.js';

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

  it('a gradient of a fused backward that ran outside the inner gradient: a clear error, not zeros', () => {
    const m = new GRUCell({ inputSize: 3, hiddenSize: 4 });
    const x = tf.ones([2, 3]);
    let caught: unknown;
    try {
      tf.variableGrads(() => {
        const y = tf.sum(m.forward(x)) as tf.Scalar; // one tape: the fused op
        // the inner gradient reaches that op, and the outer tape records its backward
        const inner = tf.variableGrads(() => tf.mul(y, 2) as tf.Scalar).grads;
        return tf.addN(Object.values(inner).map((g) => tf.sum(g))) as tf.Scalar;
      });
    } catch (e) {
      caught = e;
    }
    expect(RnnkitError.isInstance(caught)).toBe(true);
    expect((caught as Error).message).toContain('cannot be differentiated again');
    m.dispose();
    x.dispose();
  });

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

describe('the stepwise path (nested gradients) agrees with the fused op', () => {
  const cases: Array<[string, CellMode, number]> = [
    ['relu RNN', 'rnn_relu', 0],
    ['LSTM with projection', 'lstm', 3],
    ['GRU', 'gru', 0],
  ];
  for (const [label, mode, proj] of cases) {
    it(`${label}, ragged, reverse: outputs and first-order gradients`, () => {
      const vars: tf.Variable[] = [];
      const w = createRecurrentWeights(
        (_, v) => {
          const p = tf.variable(v);
          v.dispose();
          vars.push(p);
          return p;
        },
        '',
        mode,
        3,
        5,
        true,
        proj,
      );
      const S = proj || 5;
      const x = tf.randomNormal([4, 3, 3], 0, 1, 'float32', 11) as tf.Tensor3D;
      const h0 = tf.randomNormal([3, S], 0, 1, 'float32', 12);
      const c0 = mode === 'lstm' ? tf.randomNormal([3, 5], 0, 1, 'float32', 13) : undefined;
      const loss = () =>
        tf.tidy(() => {
          const { output, state } = runSequence(
            w,
            x,
            { h: h0, c: c0 },
            { lengths: [4, 1, 3], reverse: true },
          );
          const terms = [tf.sum(tf.square(output)), tf.sum(state.h)];
          if (state.c) terms.push(tf.sum(tf.mul(state.c, 0.5)));
          return tf.addN(terms) as tf.Scalar;
        });
      const fused = tf.variableGrads(loss, vars);
      // the same gradients computed inside an outer gradient: the stepwise path
      let nested: { value: tf.Scalar; grads: tf.NamedTensorMap } | null = null;
      const outer = tf.variableGrads(() => {
        nested = tf.variableGrads(loss, vars);
        tf.keep(nested.value);
        for (const g of Object.values(nested.grads)) tf.keep(g);
        return tf.addN(Object.values(nested.grads).map((g) => tf.sum(g))) as tf.Scalar;
      }, vars);
      const n = nested as unknown as { value: tf.Scalar; grads: tf.NamedTensorMap };
      expect(Math.abs(n.value.dataSync()[0] - fused.value.dataSync()[0])).toBeLessThanOrEqual(1e-5);
      for (const p of vars) {
        expect(maxAbsDiff(n.grads[p.name], fused.grads[p.name]), p.name).toBeLessThanOrEqual(1e-5);
      }
      tf.dispose([x, h0, ...(c0 ? [c0] : []), ...vars, fused.value, n.value, outer.value]);
      tf.dispose([
        ...Object.values(fused.grads),
        ...Object.values(n.grads),
        ...Object.values(outer.grads),
      ]);
    });
  }
});
