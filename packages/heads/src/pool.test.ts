import { manualSeed, ShapeError } from '@rnnkit/ops';
import { expectNoLeak, expectThrows, values } from '@rnnkit/vitest-config/helpers';
import * as tf from '@tensorflow/tfjs-core';
import { beforeEach, describe, expect, it } from 'vitest';
import { AttentionPooling } from './attention.js';
import { POOLINGS, type Pooling, pool } from './pool.js';

const LENGTHS = [5, 2, 4];
/** x [3, 5, 4] as nested arrays (valid steps per LENGTHS) */
function sample(seed = 7): number[][][] {
  return tf.tidy(
    () => tf.randomNormal([3, 5, 4], 0, 1, 'float32', seed).arraySync() as number[][][],
  );
}
/** the same x with every padded step (t >= LENGTHS[b]) replaced by `fill(b, t, f)` */
function withPadding(x: number[][][], fill: (b: number, t: number, f: number) => number) {
  return x.map((row, b) =>
    row.map((step, t) => step.map((v, f) => (t < LENGTHS[b] ? v : fill(b, t, f)))),
  );
}

describe('pool(): the tutorial shapes', () => {
  // bs, seq_len, emb_size = 2, 256, 300: case1 pooling -> [2, 300]; case2 no pooling -> [2, 256*300]
  const pooled: Pooling[] = ['mean', 'max', 'sum', 'first', 'last'];

  it.each(pooled)("'%s' pools [2,256,300] to [2,300] (with and without lengths)", (mode) => {
    const x = tf.randomNormal([2, 256, 300]);
    for (const opts of [{}, { lengths: [256, 100] }]) {
      const y = expectNoLeak(() => pool(x, mode, opts), 1);
      expect(y.shape).toEqual([2, 300]);
      expect(y.dtype).toBe('float32');
      y.dispose();
    }
    x.dispose();
  });

  it("'attention' pools [2,256,300] to [2,300] with an AttentionPooling({ inputSize: 300 })", () => {
    const x = tf.randomNormal([2, 256, 300]);
    const attention = new AttentionPooling({ inputSize: 300 });
    for (const lengths of [undefined, [256, 3]]) {
      const y = expectNoLeak(() => pool(x, 'attention', { lengths, attention }), 1);
      expect(y.shape).toEqual([2, 300]);
      y.dispose();
    }
    attention.dispose();
    x.dispose();
  });

  it("'flatten' gives [2,76800] and 'none' keeps [2,256,300]", () => {
    const x = tf.randomNormal([2, 256, 300]);
    const flat = expectNoLeak(() => pool(x, 'flatten'), 1);
    expect(flat.shape).toEqual([2, 76800]);
    expect(values(flat)).toEqual(values(x));
    const none = expectNoLeak(() => pool(x, 'none', { lengths: [256, 10] }), 1);
    expect(none.shape).toEqual([2, 256, 300]);
    tf.dispose([x, flat, none]);
  });
});

describe('pool(): values', () => {
  beforeEach(() => manualSeed(3));
  const x = [
    [
      [1, -2],
      [3, -4],
      [5, -6],
    ],
    [
      [-1, 2],
      [-7, 8],
      [100, 100],
    ],
  ];
  const lengths = [3, 2];
  const cases: Array<[Pooling, number[], number[]]> = [
    // mode, without lengths, with lengths [3, 2]
    ['mean', [3, -4, 92 / 3, 110 / 3], [3, -4, -4, 5]],
    ['sum', [9, -12, 92, 110], [9, -12, -8, 10]],
    ['max', [5, -2, 100, 100], [5, -2, -1, 8]],
    ['first', [1, -2, -1, 2], [1, -2, -1, 2]],
    ['last', [5, -6, 100, 100], [5, -6, -7, 8]],
    ['flatten', x.flat(2), [1, -2, 3, -4, 5, -6, -1, 2, -7, 8, 0, 0]],
    ['none', x.flat(2), [1, -2, 3, -4, 5, -6, -1, 2, -7, 8, 0, 0]],
  ];
  it.each(cases)("'%s' matches the definition", (mode, full, ragged) => {
    const t = tf.tensor3d(x);
    const a = pool(t, mode);
    const b = pool(t, mode, { lengths });
    for (const [got, want] of [
      [values(a), full],
      [values(b), ragged],
    ]) {
      expect(got.length).toBe(want.length);
      got.forEach((v, i) => {
        expect(v).toBeCloseTo(want[i], 5);
      });
    }
    tf.dispose([t, a, b]);
  });

  it("'max' over valid steps is negative when every valid value is negative (zeroed padding does not win)", () => {
    const t = tf.tensor3d([[[-3], [-1], [0], [0]]]);
    const y = pool(t, 'max', { lengths: [2] });
    expect(values(y)).toEqual([-1]);
    tf.dispose([t, y]);
  });

  it("'max' keeps a valid -Infinity as the maximum (padding never wins)", () => {
    const t = tf.tensor3d([[[-Infinity], [-Infinity], [5], [7]]]);
    const y = pool(t, 'max', { lengths: [2] });
    expect(values(y)).toEqual([-Infinity]);
    tf.dispose([t, y]);
  });

  it("'none' without lengths returns a new tensor the caller may dispose", () => {
    const t = tf.tensor3d(x);
    const y = pool(t, 'none');
    expect(y).not.toBe(t);
    y.dispose();
    expect(t.isDisposed).toBe(false);
    t.dispose();
  });

  it('attention weights sum to 1 over the valid steps and are 0 on padding', () => {
    const attention = new AttentionPooling({ inputSize: 4 });
    const t = tf.tensor3d(sample());
    const a = attention.weights(t, { lengths: LENGTHS });
    const w = a.arraySync() as number[][];
    w.forEach((row, b) => {
      expect(row.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 5);
      row.forEach((v, i) => {
        if (i >= LENGTHS[b]) expect(v).toBe(0);
      });
    });
    tf.dispose([t, a]);
    attention.dispose();
  });
});

describe('AttentionPooling at the limits', () => {
  it('weights are exactly 0 on padding even when every valid score is below -1e9', () => {
    const attention = new AttentionPooling({ inputSize: 1 });
    attention.loadStateDict({ weight: tf.tensor2d([[1]]), bias: tf.tensor1d([0]) });
    // scores x . 1 + 0: valid -5e9 and -4e9, padding 0 (it would win a -1e9 penalty)
    const t = tf.tensor3d([[[-5e9], [-4e9], [0]]]);
    const w = attention.weights(t, { lengths: [2] });
    expect(values(w)).toEqual([0, 1, 0]);
    const y = attention.forward(t, { lengths: [2] });
    expect(values(y)).toEqual([-4e9].map(Math.fround));
    tf.dispose([t, w, y]);
    attention.dispose();
  });
});

describe('pool(): padding never leaks', () => {
  const modes: Pooling[] = ['mean', 'max', 'sum', 'first', 'last', 'attention', 'flatten', 'none'];
  const fills: Array<[string, (b: number, t: number, f: number) => number]> = [
    ['random values', (b, t, f) => Math.sin(b * 31 + t * 7 + f) * 50],
    ['huge values', (b, t, f) => ((b + t + f) % 2 ? 3e38 : -3e38)],
    [
      'NaN and Infinity',
      (b, t, f) =>
        [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY][(b + t + f) % 3],
    ],
  ];

  it.each(modes)(
    "'%s': changing padded steps changes neither the result nor the gradient",
    (mode) => {
      const attention = new AttentionPooling({ inputSize: 4 });
      const base = sample();
      const run = (x: number[][][]) =>
        tf.tidy(() => {
          const t = tf.tensor3d(x);
          const f = (v: tf.Tensor) => pool(v, mode, { lengths: LENGTHS, attention });
          const y = f(t);
          const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(f(v), tf.onesLike(y))))(t);
          return [values(y), values(g)] as const;
        });
      const [y0, g0] = expectNoLeak(() => run(base));
      for (const [, fill] of fills) {
        const [y1, g1] = expectNoLeak(() => run(withPadding(base, fill)));
        expect(y1).toEqual(y0);
        expect(g1).toEqual(g0);
        expect(y1.every(Number.isFinite)).toBe(true);
      }
      // the gradient is exactly 0 on padded steps
      g0.forEach((v, i) => {
        const [b, t] = [Math.floor(i / 20), Math.floor(i / 4) % 5];
        if (t >= LENGTHS[b]) expect(v).toBe(0);
      });
      attention.dispose();
    },
  );
});

describe('pool(): argument errors', () => {
  const x = tf.randomNormal([3, 5, 4]);
  it('lengths: wrong count, 0, negative, non-integer, > T, NaN, not an array', () => {
    expectThrows(() => pool(x, 'mean', { lengths: [5, 2] }), ShapeError, [
      'pool(opts.lengths)',
      'expected 3',
      'got 2',
    ]);
    expectThrows(() => pool(x, 'mean', { lengths: [5, 2, 4, 1] }), ShapeError, [
      'pool(opts.lengths)',
      'got 4',
    ]);
    for (const bad of [0, -1, 2.5, 6, Number.NaN]) {
      expectThrows(() => pool(x, 'max', { lengths: [5, bad, 4] }), RangeError, [
        'pool(opts.lengths)',
        '[1, 5]',
        String(bad),
        'index 1',
      ]);
    }
    expectThrows(() => pool(x, 'sum', { lengths: '5,2,4' as never }), TypeError, [
      'pool(opts.lengths)',
      'array of 3',
    ]);
  });

  it('lengths may be a typed array', () => {
    const a = pool(x, 'last', { lengths: Int32Array.from(LENGTHS) });
    const b = pool(x, 'last', { lengths: LENGTHS });
    expect(values(a)).toEqual(values(b));
    tf.dispose([a, b]);
  });

  it('a bad mode names the allowed modes', () => {
    expectThrows(() => pool(x, 'avg' as never), TypeError, [
      'pool(mode)',
      '"avg"',
      ...POOLINGS.map((m) => `'${m}'`),
    ]);
  });

  it("'attention' without opts.attention explains what to pass", () => {
    expectThrows(() => pool(x, 'attention'), TypeError, ['opts.attention', 'AttentionPooling']);
    const attention = new AttentionPooling({ inputSize: 3 });
    expectThrows(() => pool(x, 'attention', { attention }), ShapeError, [
      'AttentionPooling.forward(x)',
      '[*,*,3]',
      '[3,5,4]',
    ]);
    attention.dispose();
  });

  it('rank, dtype, empty time axis, non-tensors and unknown options', () => {
    const x2 = tf.zeros([3, 4]);
    const xi = tf.zeros([3, 5, 4], 'int32');
    const x0 = tf.zeros([3, 0, 4]);
    expectThrows(() => pool(x2, 'mean'), ShapeError, ['pool(x)', 'rank 3', '[B, T, F]', '[3,4]']);
    expectThrows(() => pool(xi, 'mean'), TypeError, ['pool(x)', 'float32', 'int32']);
    expectThrows(() => pool(x0, 'mean'), ShapeError, ['pool(x)', 'at least one time step']);
    expectThrows(() => pool([[[1]]] as never, 'mean'), TypeError, ['pool(x)', 'tf.Tensor']);
    expectThrows(() => pool(x, 'mean', { length: [5, 2, 4] } as never), TypeError, [
      'pool',
      '"length"',
      '"lengths"',
    ]);
    tf.dispose([x2, xi, x0]);
  });

  it('returns exactly one new tensor per call in every mode', () => {
    const attention = new AttentionPooling({ inputSize: 4 });
    for (const mode of POOLINGS) {
      for (const lengths of [undefined, LENGTHS]) {
        const y = expectNoLeak(() => pool(x, mode, { lengths, attention }), 1);
        y.dispose();
      }
    }
    attention.dispose();
  });
});
