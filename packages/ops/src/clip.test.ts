import { listFixtures } from '@rnnkit/golden';
import { expectNoLeak, expectParity, expectThrows, fixture } from '@rnnkit/vitest-config/helpers';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { clipGradNorm, clipGradValue, globalNorm } from './clip.js';
import { DisposedError, NumericsError } from './errors.js';

describe('clipGradNorm', () => {
  for (const name of ['clip_grad_norm_1', 'clip_grad_norm_100']) {
    it(`matches torch.nn.utils.clip_grad_norm_: ${name}`, () => {
      expectParity('ops', name, { clipGradNorm });
      const { t, config } = fixture('ops', name);
      const grads = { g0: t['input.g0'], g1: t['input.g1'] };
      const out = expectNoLeak(() => clipGradNorm(grads, config.maxNorm), 2);
      expect(Object.keys(out.grads)).toEqual(['g0', 'g1']);
      const want = t['output.total_norm'].dataSync()[0];
      const after = globalNorm(out.grads);
      if (want > config.maxNorm) {
        // clipped: the new norm is maxNorm (up to PyTorch's 1e-6 in the denominator)
        expect(after).toBeCloseTo(config.maxNorm, 4);
      } else {
        // not clipped: the values are unchanged
        expect(out.grads.g0.dataSync()).toEqual(t['input.g0'].dataSync());
        expect(after).toBeCloseTo(want, 4);
      }
      // new tensors: the caller owns inputs and outputs separately
      expect(out.grads.g0).not.toBe(grads.g0);
      tf.dispose(Object.values(out.grads));
      expect(grads.g0.isDisposed).toBe(false);
      expect(grads.g0.dataSync().length).toBe(12);
      tf.dispose(Object.values(t));
    });
  }

  it('clips exactly at the threshold and leaves smaller norms alone', () => {
    const grads = { a: tf.tensor1d([3]), b: tf.tensor2d([[4]]) };
    expect(globalNorm(grads)).toBeCloseTo(5, 6);
    const big = clipGradNorm(grads, 1);
    expect(big.totalNorm).toBeCloseTo(5, 6);
    expect(big.grads.a.dataSync()[0]).toBeCloseTo(3 / (5 + 1e-6), 6);
    expect(big.grads.b.shape).toEqual([1, 1]);
    expect(big.grads.b.dataSync()[0]).toBeCloseTo(4 / (5 + 1e-6), 6);
    const small = clipGradNorm(grads, 10);
    expect(small.totalNorm).toBeCloseTo(5, 6);
    expect([...small.grads.a.dataSync(), ...small.grads.b.dataSync()]).toEqual([3, 4]);
    tf.dispose([
      ...Object.values(grads),
      ...Object.values(big.grads),
      ...Object.values(small.grads),
    ]);
  });

  it('returns a zero norm and no tensors for an empty object', () => {
    const out = expectNoLeak(() => clipGradNorm({}, 1));
    expect(out).toEqual({ grads: {}, totalNorm: 0 });
    expect(globalNorm({})).toBe(0);
  });

  it('reports a non-finite norm instead of hiding it', () => {
    const g = { a: tf.tensor1d([1, Number.NaN]) };
    const out = clipGradNorm(g, 1);
    expect(Number.isNaN(out.totalNorm)).toBe(true);
    tf.dispose([g.a, out.grads.a]);
  });

  it('rejects a bad maxNorm with a RangeError naming it and the value (0 is allowed, as PyTorch)', () => {
    const g = { a: tf.ones([2]) };
    const before = tf.memory().numTensors;
    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => clipGradNorm(g, bad)).toThrow(RangeError);
      expect(() => clipGradNorm(g, bad)).toThrow(
        new RegExp(
          `^clipGradNorm\\(maxNorm\\): expected a finite number >= 0, got ${String(bad).replace('-', '\\-')}$`,
        ),
      );
    }
    expect(() => clipGradNorm(g, '1' as any)).toThrow(/clipGradNorm\(maxNorm\).*got "1"/);
    expect(() => clipGradNorm(g, undefined as any)).toThrow(/got undefined/);
    expect(() => clipGradNorm(g, 1, { normType: 'inf' as any })).toThrow(
      /clipGradNorm\(\{ normType \}\): expected a number .*got "inf"/,
    );
    expect(() => clipGradNorm(g, 1, { norm_type: 2 } as any)).toThrow(/did you mean "normType"/);
    expect(() => clipGradValue(g, -0.5)).toThrow(
      /clipGradValue\(clipValue\): expected a number >= 0, got -0.5/,
    );
    expect(tf.memory().numTensors).toBe(before);
    const zero = clipGradNorm(g, 0);
    expect(Array.from(zero.grads.a.dataSync())).toEqual([0, 0]);
    tf.dispose([g.a, zero.grads.a]);
  });

  it('rejects bad gradients, naming the key', () => {
    const a = tf.ones([2]);
    expect(() => clipGradNorm(null as any, 1)).toThrow(
      /clipGradNorm\(grads\): expected an object of tensors, got null/,
    );
    expect(() => clipGradNorm({ a, w: [1, 2] } as any, 1)).toThrow(
      /clipGradNorm\(grads\["w"\]\): expected a tf\.Tensor, got an array of length 2/,
    );
    const d = tf.ones([2]);
    d.dispose();
    expect(() => clipGradNorm({ a, d }, 1)).toThrow(DisposedError);
    expect(() => clipGradNorm({ a, d }, 1)).toThrow(/clipGradNorm\(grads\["d"\]\).*disposed/);
    a.dispose();
  });

  it('leaves no tensors behind over many calls', () => {
    const g = { a: tf.randomNormal([10, 10]), b: tf.randomNormal([7]) };
    const before = tf.memory().numTensors;
    for (let i = 0; i < 20; i++) {
      const out = clipGradNorm(g, i % 2 === 0 ? 0.1 : 1e6);
      tf.dispose(Object.values(out.grads));
    }
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(Object.values(g));
  });
});

const normTypes: Record<string, number> = { inf: Infinity, '-inf': -Infinity };

describe('clipGradNorm with normType: PyTorch fixtures (clip_grad_norm_ on float32 gradients)', () => {
  for (const name of listFixtures('clip').filter((n) => n !== 'value_0.5')) {
    it(name, () => {
      // the total norm and every gradient, NaN where PyTorch has NaN (tooling/golden checks/ops.mjs)
      expectParity('clip', name, { clipGradNorm });
      const { t, config } = fixture('clip', name);
      if (!Number.isFinite(t['output.total_norm'].dataSync()[0])) {
        const keys = Object.keys(t).filter((k) => k.startsWith('input.'));
        const grads = Object.fromEntries(keys.map((k) => [k.slice(6), t[k]]));
        const normType = normTypes[config.normType] ?? config.normType;
        expectThrows(
          () => clipGradNorm(grads, config.maxNorm, { normType, errorIfNonfinite: true }),
          NumericsError,
          [`the total norm of order ${normType}`, 'errorIfNonfinite: false'],
        );
      }
      tf.dispose(Object.values(t));
    });
  }
});

describe('clipGradValue', () => {
  it('value_0.5: matches torch.nn.utils.clip_grad_value_', () => {
    expectParity('clip', 'value_0.5', { clipGradValue });
    const { t, config } = fixture('clip', 'value_0.5');
    const out = expectNoLeak(
      () => clipGradValue({ g0: t['input.g0'], g1: t['input.g1'] }, config.clipValue),
      2,
    );
    expect(t['input.g0'].isDisposed).toBe(false);
    tf.dispose([...Object.values(out), ...Object.values(t)]);
  });
});
