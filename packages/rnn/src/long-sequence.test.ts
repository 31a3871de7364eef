// Long sequences: no stack overflow, right shapes, nothing left behind. Small sizes (B = 1, I = 4,
// H = 8) keep each test to a few seconds on the slower backend; time limits are raised explicitly.

import { expectNoLeak, randn, values } from '@rnnkit/vitest-config/helpers';
import { KINDS } from '@rnnkit/vitest-config/layers';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';

const I = 4;
const H = 8;
const LONG = 10_000;
const BPTT = 2_000;

describe.each(KINDS)('$name on long sequences', (kind) => {
  const n = kind.name === 'LSTM' ? 3 : 2;

  it(`runs T = ${LONG} steps forward`, { timeout: 60_000 }, () => {
    const m = kind.make({ inputSize: I, hiddenSize: H, batchFirst: true });
    const x = randn([1, LONG, I], 1);
    const r = expectNoLeak(() => kind.run(m, x), n);
    expect(r.output.shape).toEqual([1, LONG, H]);
    expect(r.hN.shape).toEqual([1, 1, H]);
    if (r.cN) expect(r.cN.shape).toEqual([1, 1, H]);
    expect(values(r.hN).every(Number.isFinite)).toBe(true);
    // the last output is the final state, 10,000 steps in
    const last = tf.slice(r.output, [0, LONG - 1, 0], [1, 1, H]);
    expect(values(last)).toEqual(values(r.hN));
    tf.dispose([x, last, ...r.all]);
    m.dispose();
  });

  it(`backpropagates through T = ${BPTT} steps`, { timeout: 60_000 }, () => {
    const m = kind.make({ inputSize: I, hiddenSize: H });
    const x = randn([BPTT, 1, I], 2);
    const before = tf.memory().numTensors;
    const { value, grads } = tf.variableGrads(
      () => tf.tidy(() => tf.mean(kind.run(m, x).output) as tf.Scalar),
      m.parameters(),
    );
    expect(Number.isFinite(value.dataSync()[0])).toBe(true);
    expect(Object.keys(grads).length).toBe(4);
    for (const g of Object.values(grads)) {
      const v = values(g);
      expect(v.every(Number.isFinite)).toBe(true);
      expect(v.some((a) => a !== 0)).toBe(true);
    }
    tf.dispose([value, ...Object.values(grads)]);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    m.dispose();
  });
});
