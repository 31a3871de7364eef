import { listFixtures } from '@rnnkit/golden';
import { expectParity } from '@rnnkit/vitest-config/helpers';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { ShapeError } from './errors.js';
import { Linear } from './linear.js';
import { manualSeed } from './rng.js';

describe('Linear', () => {
  for (const name of listFixtures('ops').filter((n) => n.startsWith('linear_'))) {
    it(`matches PyTorch forward and gradients: ${name}`, () => {
      expectParity('ops', name, { Linear });
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
