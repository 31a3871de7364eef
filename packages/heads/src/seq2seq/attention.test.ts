import { ShapeError } from '@rnnkit/ops';
import {
  expectClose,
  expectNoLeak,
  maxAbsDiff,
  randn,
  seeded,
  values,
} from '@rnnkit/vitest-config/helpers';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { ATTENTION_MODES, Attention, maskedSoftmax } from './attention.js';

const make = (mode: (typeof ATTENTION_MODES)[number], hk = 6) =>
  seeded(3, () => new Attention({ querySize: 4, keySize: mode === 'dot' ? 4 : hk, mode }));

describe('Attention', () => {
  it('has the PyTorch reference keys and shapes in every mode', () => {
    const shapes = ATTENTION_MODES.map((mode) => {
      const a = new Attention({
        querySize: 4,
        keySize: mode === 'dot' ? 4 : 6,
        mode,
        ...(mode === 'concat' || mode === 'additive' ? { attentionSize: 3 } : {}),
      });
      const s = a.namedParameters().map(([k, v]) => [k, v.shape]);
      a.dispose();
      return s;
    });
    expect(shapes).toEqual([
      [],
      [['linear.weight', [4, 6]]],
      [
        ['linear.weight', [3, 10]],
        ['v.weight', [1, 3]],
      ],
      [
        ['query_proj.weight', [3, 4]],
        ['key_proj.weight', [3, 6]],
        ['key_proj.bias', [3]],
        ['v.weight', [1, 3]],
      ],
    ]);
  });

  for (const mode of ATTENTION_MODES) {
    it(`${mode}: one step [B, Hq] equals the same step inside [B, Tq, Hq]; weights sum to 1 over valid keys`, () => {
      const a = make(mode);
      const keys = randn([3, 5, a.keySize], 1);
      const q = randn([3, 4, 4], 2);
      const lengths = [5, 2, 4];
      const all = expectNoLeak(() => a.forward(q, keys, { lengths }), 2);
      const q2 = tf.squeeze(tf.slice(q, [0, 2, 0], [-1, 1, -1]), [1]);
      const one = a.forward(q2, keys, { lengths });
      expect(one.context.shape).toEqual([3, a.keySize]);
      expect(one.weights.shape).toEqual([3, 5]);
      const w2 = tf.squeeze(tf.slice(all.weights, [0, 2, 0], [-1, 1, -1]), [1]);
      expect(maxAbsDiff(one.weights, w2)).toBeLessThan(1e-6);
      const w = values(all.weights);
      for (let b = 0; b < 3; b++)
        for (let t = 0; t < 4; t++) {
          const row = w.slice((b * 4 + t) * 5, (b * 4 + t + 1) * 5);
          expect(row.slice(lengths[b]).every((v) => v === 0)).toBe(true);
          expect(row.reduce((x, y) => x + y, 0)).toBeCloseTo(1, 5);
        }
      tf.dispose([keys, q, q2, w2, all.context, all.weights, one.context, one.weights]);
      a.dispose();
    });
  }

  it('padded keys get exactly 0 whatever the scores: -1e30 and +Infinity on valid keys, NaN in padding', () => {
    const valid = tf.tensor2d([[1, 1, 0, 0]], [1, 4], 'bool');
    const tiny = tf.tensor3d([[[-1e30, -1e30, 5, 7]]]);
    const w = values(maskedSoftmax(tiny, valid));
    expect(w).toEqual([0.5, 0.5, 0, 0]); // an additive -1e9 mask would give padded keys weight here
    const inf = tf.tensor3d([[[Number.POSITIVE_INFINITY, 1, 3, Number.NaN]]]);
    const wi = values(maskedSoftmax(inf, valid));
    expect(wi.slice(2)).toEqual([0, 0]);
    const nanPad = tf.tensor3d([[[1, 1, Number.NaN, Number.POSITIVE_INFINITY]]]);
    expect(values(maskedSoftmax(nanPad, valid))).toEqual([0.5, 0.5, 0, 0]);
    // gradients never reach padded scores
    const g = tf.grad((s: tf.Tensor) =>
      tf.sum(tf.mul(maskedSoftmax(s as tf.Tensor3D, valid), tf.tensor3d([[[1, 2, 3, 4]]]))),
    )(tf.tensor3d([[[0.5, -0.5, 1e30, Number.NaN]]]));
    const gv = values(g);
    expect(gv.slice(2)).toEqual([0, 0]);
    expect(gv.slice(0, 2).every(Number.isFinite)).toBe(true);
    tf.dispose([valid, tiny, inf, nanPad, g]);
  });

  it('NaN or Infinity in padded keys reaches neither context nor weights nor gradients', () => {
    for (const mode of ATTENTION_MODES) {
      const a = make(mode);
      const clean = randn([2, 3, a.keySize], 4);
      const dirty = tf.tidy(() => {
        const pad = tf.fill([1, 1, a.keySize], Number.NaN);
        const row1 = tf.concat([tf.slice(clean, [1, 0, 0], [1, 2, -1]), pad], 1);
        return tf.concat([tf.slice(clean, [0, 0, 0], [1, 3, -1]), row1], 0);
      });
      const q = randn([2, 2, 4], 5);
      const lengths = [3, 2];
      const x = a.forward(q, clean, { lengths });
      const y = a.forward(q, dirty, { lengths });
      expect(maxAbsDiff(x.context, y.context)).toBe(0);
      expect(maxAbsDiff(x.weights, y.weights)).toBe(0);
      const g = tf.grad((k: tf.Tensor) => tf.sum(a.forward(q, k, { lengths }).context))(dirty);
      expect(values(g).every(Number.isFinite)).toBe(true);
      tf.dispose([clean, dirty, q, x.context, x.weights, y.context, y.weights, g]);
      a.dispose();
    }
  });

  it('without lengths is a plain softmax over all keys', () => {
    const a = make('dot');
    const keys = randn([2, 3, 4], 6);
    const q = randn([2, 4], 7);
    const { context, weights } = a.forward(q, keys);
    const want = tf.softmax(tf.squeeze(tf.matMul(tf.expandDims(q, 1), keys, false, true), [1]));
    expectClose(weights, want, 1e-6);
    tf.dispose([keys, q, context, weights, want]);
    a.dispose();
  });

  it('rejects bad options and inputs, naming the argument, and stays usable', () => {
    expect(() => new Attention({ querySize: 4, keySize: 6, mode: 'dot' })).toThrow(
      /Attention\(\{ mode: 'dot' \}\): expected querySize = keySize, got querySize 4 and keySize 6/,
    );
    expect(() => new Attention({ querySize: 4, keySize: 6, mode: 'luong' as never })).toThrow(
      /Attention\(\{ mode \}\): expected one of 'dot', 'general', 'concat', 'additive', got "luong"/,
    );
    expect(
      () => new Attention({ querySize: 4, keySize: 4, mode: 'dot', attentionSize: 3 }),
    ).toThrow(/Attention\(\{ attentionSize \}\): only the 'concat' and 'additive' modes have one/);
    expect(() => new Attention({ querySize: 0, keySize: 4, mode: 'general' })).toThrow(
      /Attention\(\{ querySize \}\): expected a positive integer, got 0/,
    );
    expect(() => new Attention({ query_size: 4 } as never)).toThrow(/did you mean "querySize"/);
    const a = make('general');
    const keys = randn([2, 3, 6], 8);
    const before = tf.memory().numTensors;
    const q = randn([2, 4], 9);
    const badQ = randn([2, 5], 10);
    const wrongB = randn([3, 4], 11);
    expect(() => a.forward(badQ, keys)).toThrow(ShapeError);
    expect(() => a.forward(badQ, keys)).toThrow(
      /Attention\.forward\(query\): expected \[2, 4\] or \[2, Tq, 4\] \(B from keys\), got \[2,5\]/,
    );
    expect(() => a.forward(wrongB, keys)).toThrow(/got \[3,4\]/);
    expect(() => a.forward(q, tf.zeros([2, 3, 4]))).toThrow(
      /Attention\.forward\(keys\): expected \[B, Tk >= 1, 6\], got \[2,3,4\]/,
    );
    expect(() => a.forward(q, keys, { lengths: [3, 0] })).toThrow(
      /Attention\.forward\(opts\.lengths\): expected integers in \[1, 3\]/,
    );
    expect(() => a.forward(q, keys, { lengths: [3] })).toThrow(/expected 2 lengths/);
    expect(tf.memory().numTensors).toBe(before + 3 + 1); // q, badQ, wrongB and the zeros made inline
    const ok = a.forward(q, keys, { lengths: [3, 1] });
    expect(ok.context.shape).toEqual([2, 6]);
    tf.dispose([keys, q, badQ, wrongB, ok.context, ok.weights]);
    a.dispose();
  });
});
