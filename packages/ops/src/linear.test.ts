import { listFixtures } from '@rnnkit/golden';
import { expectClose, expectNoLeak, fixture } from '@rnnkit/vitest-config/helpers';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { ShapeError } from './errors.js';
import { Linear } from './linear.js';
import { manualSeed } from './rng.js';

describe('Linear', () => {
  for (const name of listFixtures('ops').filter((n) => n.startsWith('linear_'))) {
    it(`matches PyTorch forward and gradients: ${name}`, () => {
      const { t, config } = fixture('ops', name);
      const m = new Linear(config.inFeatures, config.outFeatures, { bias: config.bias });
      m.loadStateDict({
        weight: t['param.weight'],
        ...(config.bias ? { bias: t['param.bias'] } : {}),
      });
      const x = t['input.x'];
      const y = expectNoLeak(() => m.forward(x), 1);
      expectClose(y, t['output.y']);
      const f = (xx: tf.Tensor) => tf.sum(tf.mul(m.forward(xx), t['lossweight.y'])) as tf.Scalar;
      const { grads } = tf.variableGrads(() => f(x), m.parameters());
      const gx = tf.grad(f)(x);
      expectClose(grads[m.weight.name], t['grad.param.weight'], 1e-5);
      if (m.bias) expectClose(grads[m.bias.name], t['grad.param.bias'], 1e-5);
      expectClose(gx, t['grad.input.x'], 1e-5);
      tf.dispose([y, gx, ...Object.values(grads), ...Object.values(t)]);
      m.dispose();
    });
  }

  it('initialises as PyTorch: U(-1/sqrt(in), 1/sqrt(in)), reproducibly under manualSeed', () => {
    manualSeed(42);
    const a = new Linear(100, 50);
    manualSeed(42);
    const b = new Linear(100, 50);
    const w = a.weight.dataSync();
    const bound = 1 / Math.sqrt(100);
    expect(Math.max(...w)).toBeLessThanOrEqual(bound);
    expect(Math.min(...w)).toBeGreaterThanOrEqual(-bound);
    expect(Math.max(...w)).toBeGreaterThan(bound * 0.95);
    expect([...a.bias!.dataSync()]).toEqual([...b.bias!.dataSync()]);
    expect([...w]).toEqual([...b.weight.dataSync()]);
    a.dispose();
    b.dispose();
  });

  it('rejects bad sizes, options and inputs with messages naming the argument, and stays usable', () => {
    expect(() => new Linear(0, 3)).toThrow(
      /Linear\(inFeatures\): expected a positive integer, got 0/,
    );
    expect(() => new Linear(3, 2.5)).toThrow(
      /Linear\(outFeatures\): expected a positive integer, got 2.5/,
    );
    expect(() => new Linear(3, 2, { bais: true } as any)).toThrow(/unknown option "bais"/);
    const m = new Linear(3, 2);
    const bad = tf.zeros([4, 5]);
    expect(() => m.forward(bad)).toThrow(ShapeError);
    expect(() => m.forward(bad)).toThrow(/expected shape \[\.\.\., 3\].*got \[4,5\]/);
    expect(() => m.forward([1, 2, 3] as any)).toThrow(
      /Linear\.forward\(x\): expected a tf\.Tensor, got an array/,
    );
    const ids = tf.zeros([2, 3], 'int32');
    expect(() => m.forward(ids)).toThrow(/expected a float32 tensor, got a int32/);
    const good = tf.ones([4, 3]);
    const y = m.forward(good);
    expect(y.shape).toEqual([4, 2]);
    tf.dispose([bad, ids, good, y]);
    m.dispose();
    expect(() => m.forward(good)).toThrow(/disposed/);
  });
});
