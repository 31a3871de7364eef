import { expectClose, expectNoLeak, fixture } from '@rnnkit/vitest-config/helpers';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { Embedding } from './embedding.js';
import { DisposedError, ShapeError } from './errors.js';
import { manualSeed } from './rng.js';
import { trainStep } from './train.js';

function rowIsZero(w: tf.Tensor, row: number): boolean {
  const [, e] = w.shape as [number, number];
  const data = w.dataSync();
  for (let j = 0; j < e; j++) if (data[row * e + j] !== 0) return false;
  return true;
}

describe('Embedding', () => {
  for (const name of ['embedding_padNone', 'embedding_pad0', 'embedding_pad3']) {
    it(`matches PyTorch forward and weight gradient: ${name}`, () => {
      const { t, config } = fixture('ops', name);
      const pad: number | null = config.paddingIdx;
      const m = new Embedding(config.numEmbeddings, config.embeddingDim, {
        ...(pad === null ? {} : { paddingIdx: pad }),
      });
      expect(m.paddingIdx).toBe(pad);
      m.loadStateDict({ weight: t['param.weight'] });
      const ids = t['input.ids'];
      expect(ids.dtype).toBe('int32');
      const y = expectNoLeak(() => m.forward(ids), 1);
      expectClose(y, t['output.y']);
      const { value, grads } = tf.variableGrads(
        () => tf.sum(tf.mul(m.forward(ids), t['lossweight.y'])) as tf.Scalar,
        m.parameters(),
      );
      const gw = grads[m.weight.name];
      expectClose(gw, t['grad.param.weight'], 1e-4, 'rel');
      if (pad !== null) {
        // the padding id occurs in the input, yet its row gets no gradient
        expect([...ids.dataSync()]).toContain(pad);
        expect(rowIsZero(gw, pad)).toBe(true);
      }
      tf.dispose([y, value, ...Object.values(grads), ...Object.values(t)]);
      m.dispose();
    });
  }

  it('initialises N(0, 1) with the padding row zero, reproducibly under manualSeed', () => {
    manualSeed(7);
    const a = new Embedding(50, 40, { paddingIdx: 3 });
    manualSeed(7);
    const b = new Embedding(50, 40, { paddingIdx: 3 });
    expect([...a.weight.dataSync()]).toEqual([...b.weight.dataSync()]);
    expect(rowIsZero(a.weight, 3)).toBe(true);
    expect(rowIsZero(a.weight, 2)).toBe(false);
    expect(rowIsZero(a.weight, 4)).toBe(false);
    const c = new Embedding(50, 40);
    const data = [...c.weight.dataSync()];
    const mean = data.reduce((s, v) => s + v, 0) / data.length;
    const std = Math.sqrt(data.reduce((s, v) => s + (v - mean) ** 2, 0) / data.length);
    expect(Math.abs(mean)).toBeLessThan(0.1);
    expect(Math.abs(std - 1)).toBeLessThan(0.1);
    expect(c.paddingIdx).toBeNull();
    for (const m of [a, b, c]) m.dispose();
  });

  it('accepts a negative paddingIdx counted from the end, as PyTorch', () => {
    const m = new Embedding(11, 4, { paddingIdx: -1 });
    expect(m.paddingIdx).toBe(10);
    expect(rowIsZero(m.weight, 10)).toBe(true);
    const n = new Embedding(11, 4, { paddingIdx: -11 });
    expect(n.paddingIdx).toBe(0);
    expect(rowIsZero(n.weight, 0)).toBe(true);
    // -8 is the same row as the pad3 fixture: same gradient
    const { t } = fixture('ops', 'embedding_pad3');
    const k = new Embedding(11, 4, { paddingIdx: -8 });
    expect(k.paddingIdx).toBe(3);
    k.loadStateDict({ weight: t['param.weight'] });
    const { grads } = tf.variableGrads(
      () => tf.sum(tf.mul(k.forward(t['input.ids']), t['lossweight.y'])) as tf.Scalar,
      k.parameters(),
    );
    expectClose(grads[k.weight.name], t['grad.param.weight'], 1e-4, 'rel');
    tf.dispose([...Object.values(grads), ...Object.values(t)]);
    for (const x of [m, n, k]) x.dispose();
  });

  it('keeps the padding row at zero through training steps', () => {
    const m = new Embedding(6, 3, { paddingIdx: 2 });
    const ids = tf.tensor2d(
      [
        [0, 2, 5],
        [2, 2, 1],
      ],
      undefined,
      'int32',
    );
    const target = tf.ones([2, 3, 3]);
    const opt = tf.train.sgd(0.5);
    const before = m.weight.dataSync().slice();
    for (let i = 0; i < 5; i++) {
      trainStep(m, () => tf.mean(tf.square(tf.sub(m.forward(ids), target))) as tf.Scalar, opt);
    }
    const after = m.weight.dataSync();
    expect(rowIsZero(m.weight, 2)).toBe(true);
    // rows that were looked up moved, rows that were not (3, 4) did not
    expect(after.slice(0, 3)).not.toEqual(before.slice(0, 3));
    expect([...after.slice(9, 15)]).toEqual([...before.slice(9, 15)]);
    tf.dispose([ids, target]);
    opt.dispose();
    m.dispose();
  });

  it('takes int32 tensors and (nested) integer arrays of any rank >= 1', () => {
    const m = new Embedding(11, 4);
    const w = m.weight.arraySync() as number[][];
    const t2 = tf.tensor2d(
      [
        [0, 3, 10],
        [1, 1, 7],
      ],
      undefined,
      'int32',
    );
    const a = expectNoLeak(() => m.forward(t2), 1);
    const b = expectNoLeak(
      () =>
        m.forward([
          [0, 3, 10],
          [1, 1, 7],
        ]),
      1,
    );
    const c = expectNoLeak(() => m.forward([10, 0]), 1);
    expect(a.shape).toEqual([2, 3, 4]);
    expect(a.arraySync()).toEqual(b.arraySync());
    expect((a.arraySync() as number[][][])[0][2]).toEqual(w[10]);
    expect((a.arraySync() as number[][][])[1][0]).toEqual(w[1]);
    expect(c.shape).toEqual([2, 4]);
    expect(c.arraySync()).toEqual([w[10], w[0]]);
    const t3 = tf.zeros([2, 1, 3], 'int32');
    const d = m.forward(t3);
    expect(d.shape).toEqual([2, 1, 3, 4]);
    tf.dispose([t2, t3, a, b, c, d]);
    m.dispose();
  });

  it('rejects float ids, naming Embedding.forward(ids)', () => {
    const m = new Embedding(11, 4);
    const f = tf.tensor1d([0, 1, 2]);
    expect(() => m.forward(f)).toThrow(TypeError);
    expect(() => m.forward(f)).toThrow(
      /^Embedding\.forward\(ids\): expected an int32 tensor of token ids, got a float32 tensor of shape \[3\]$/,
    );
    expect(() => m.forward([0, 1.5, 2])).toThrow(TypeError);
    expect(() => m.forward([0, 1.5, 2])).toThrow(
      /Embedding\.forward\(ids\): expected integer token ids, got 1\.5 at flat index 1/,
    );
    expect(() => m.forward([[0], [Number.NaN]])).toThrow(/got NaN at flat index 1/);
    expect(() => m.forward(['1'] as any)).toThrow(/expected integer token ids, got "1"/);
    expect(() => m.forward('0 1 2' as any)).toThrow(
      /Embedding\.forward\(ids\): expected an int32 tensor or an array of token ids, got "0 1 2"/,
    );
    expect(() => m.forward(null as any)).toThrow(/got null/);
    const b = tf.tensor1d([1, 0], 'bool');
    expect(() => m.forward(b)).toThrow(/expected an int32 tensor.*got a bool tensor/);
    tf.dispose([f, b]);
    m.dispose();
  });

  it('rejects out-of-range and negative ids with a RangeError naming the range and the value', () => {
    const m = new Embedding(11, 4);
    const hi = tf.tensor1d([0, 11, 2], 'int32');
    const neg = tf.tensor2d([[1, 2, -1]], undefined, 'int32');
    const before = tf.memory().numTensors;
    expect(() => m.forward(hi)).toThrow(RangeError);
    expect(() => m.forward(hi)).toThrow(
      /^Embedding\.forward\(ids\): expected ids in \[0, 10\] \(numEmbeddings = 11\), got 11 at flat index 1$/,
    );
    expect(() => m.forward(neg)).toThrow(RangeError);
    expect(() => m.forward(neg)).toThrow(/expected ids in \[0, 10\].*got -1 at flat index 2/);
    expect(() => m.forward([3, 4, 99])).toThrow(RangeError);
    expect(() => m.forward([3, 4, 99])).toThrow(/got 99 at flat index 2/);
    expect(() => m.forward([[-5]])).toThrow(/got -5 at flat index 0/);
    // failures free what they allocated and leave the caller's tensors alive
    expect(tf.memory().numTensors).toBe(before);
    expect(hi.isDisposed).toBe(false);
    // the module is still usable
    const ok = tf.tensor1d([10, 0], 'int32');
    const y = m.forward(ok);
    expect(y.shape).toEqual([2, 4]);
    tf.dispose([hi, neg, ok, y]);
    m.dispose();
  });

  it('rejects scalar ids, disposed ids and use after dispose', () => {
    const m = new Embedding(5, 2);
    const s = tf.scalar(1, 'int32');
    expect(() => m.forward(s)).toThrow(ShapeError);
    expect(() => m.forward(s)).toThrow(/Embedding\.forward\(ids\): expected ids of rank >= 1/);
    const before = tf.memory().numTensors;
    expect(() => m.forward(3 as any)).toThrow(TypeError);
    expect(tf.memory().numTensors).toBe(before);
    const d = tf.tensor1d([1], 'int32');
    d.dispose();
    expect(() => m.forward(d)).toThrow(DisposedError);
    expect(() => m.forward(d)).toThrow(/Embedding\.forward\(ids\).*disposed/);
    m.dispose();
    expect(() => m.forward([1])).toThrow(DisposedError);
    s.dispose();
  });

  it('rejects bad sizes, paddingIdx and options', () => {
    expect(() => new Embedding(0, 4)).toThrow(
      /Embedding\(numEmbeddings\): expected a positive integer, got 0/,
    );
    expect(() => new Embedding(4, 1.5)).toThrow(
      /Embedding\(embeddingDim\): expected a positive integer, got 1\.5/,
    );
    expect(() => new Embedding(11, 4, { paddingIdx: 11 })).toThrow(RangeError);
    expect(() => new Embedding(11, 4, { paddingIdx: 11 })).toThrow(
      /Embedding\(\{ paddingIdx \}\): expected an integer in \[-11, 10\], got 11/,
    );
    expect(() => new Embedding(11, 4, { paddingIdx: -12 })).toThrow(/got -12/);
    expect(() => new Embedding(11, 4, { paddingIdx: 0.5 })).toThrow(/got 0\.5/);
    expect(() => new Embedding(11, 4, { padding_idx: 1 } as any)).toThrow(
      /Embedding: unknown option "padding_idx" \(did you mean "paddingIdx"\?\)/,
    );
  });

  it('leaves no tensors behind in forward and backward', () => {
    const m = new Embedding(11, 4, { paddingIdx: 0 });
    const ids = tf.tensor2d([[0, 1, 2]], undefined, 'int32');
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      const { value, grads } = tf.variableGrads(
        () => tf.sum(m.forward(ids)) as tf.Scalar,
        m.parameters(),
      );
      tf.dispose([value, ...Object.values(grads)]);
      tf.dispose(m.forward([[1, 2]]));
    }
    expect(tf.memory().numTensors).toBe(before);
    ids.dispose();
    const n = tf.memory().numTensors;
    m.dispose();
    expect(tf.memory().numTensors).toBe(n - 1);
  });
});
