// The packed-weight cache (memory.ts): entries freed by disposed weights are compacted away without
// corrupting the entries that stay, whatever their order of last use.
import { randn } from '@rnnkit/vitest-config/helpers';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { loadedKernel } from './kernel.js';

const [K, N] = [8, 24];

describe('packed-weight cache', () => {
  it('compacts past a disposed weight when the order of last use is not the order in memory', () => {
    const k = loadedKernel()!;
    const x = randn([2, K], 1).dataSync() as Float32Array;
    const [a, b, c] = [2, 3, 4].map((seed) => tf.tidy(() => tf.variable(randn([N, K], seed))));
    const product = (w: tf.Variable) => k.project(x, 2, K, w, N, null).slice();
    // Packed in the order a, b, c; then a used again: least recently used first is b, c, a.
    const before = [a, b, c].map(product);
    expect(product(a)).toEqual(before[0]);
    b!.dispose(); // the next call drops b and moves c and a down
    expect(product(a)).toEqual(before[0]);
    expect(product(c!)).toEqual(before[2]);
    expect(before[0]).not.toEqual(before[2]);
    tf.dispose([a!, c!]);
  });
});
