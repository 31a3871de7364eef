// Port of the nn.Embedding tests of PyTorch (test/test_nn.py in 1.13, test/nn/test_embedding.py later);
// the `it` titles are PyTorch's test names. Sparse gradients, EmbeddingBag and forward-mode AD do not
// apply (see ../README.md).
import { Embedding, embeddingLookup, ShapeError } from '@rnnkit/ops';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectClose, expectThrows, fixture, values } from './helpers.js';

const ids = (v: number[] | number[][]) => tf.tensor(v, undefined, 'int32');

/** d sum(f(weight)) / d weight. */
function gradOfSum(weight: tf.Variable, f: () => tf.Tensor): tf.Tensor {
  const { value, grads } = tf.variableGrads(() => tf.sum(f()) as tf.Scalar, [weight]);
  value.dispose();
  return grads[weight.name];
}

describe('test_embedding.py: nn.Embedding', () => {
  it('test_embedding_max_norm', () => {
    const embedding = new Embedding(22, 5, { maxNorm: 1 });
    const input = ids([2, 8, 8, 6]);
    const output = embedding.forward(input);
    const rows = output.arraySync() as number[][];
    expect(rows[1]).toEqual(rows[2]);
    const norms = tf.norm(output, 2, 1);
    for (const n of values(norms)) expect(n).toBeLessThanOrEqual(1 + 1e-6);
    tf.dispose([input, output, norms]);
    embedding.dispose();
  });

  it('test_embedding_max_norm_backward', () => {
    // can't use gradcheck since in place renorm makes analytical gradients different from produced ones
    const w = tf.mul(tf.randomNormal([4, 4], 0, 1, 'float32', 1), 2) as tf.Tensor2D;
    const embedding = Embedding.fromPretrained(w, { freeze: false, maxNorm: 1 });
    const inp = ids([0, 1, 2, 2]);
    const grad = gradOfSum(embedding.weight, () => embedding.forward(inp));
    const expected = [1, 1, 2, 0].flatMap((c) => [c, c, c, c]);
    expect(values(grad)).toEqual(expected);
    tf.dispose([w, inp, grad]);
    embedding.dispose();
  });

  it('test_embedding_max_norm_unsorted_repeating_indices (against PyTorch cpu, 100 ids)', () => {
    const { t } = fixture('embedding', 'max_norm_unsorted_repeating_indices');
    const embedding = Embedding.fromPretrained(t['input.weight'] as tf.Tensor2D, { maxNorm: 1 });
    const out = embedding.forward(t['input.ids']);
    expectClose(out, t['output.y'], 1e-6);
    expectClose(embedding.weight, t['param.weight'], 1e-6);
    tf.dispose([out, ...Object.values(t)]);
    embedding.dispose();
  });

  it('test_embedding_from_pretrained', () => {
    const a = tf.tensor2d([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    const embedding = Embedding.fromPretrained(a);
    expect(values(embedding.weight)).toEqual(values(a));
    const input = ids([0, 1]);
    const output = embedding.forward(input);
    expect(values(output)).toEqual(values(a));
    tf.dispose([a, input, output]);
    embedding.dispose();
  });

  it('test_embedding_from_pretrained_padding_idx', () => {
    const paddingIdx = 2;
    const paddingVec = tf.fill([1, 3], 7);
    const rand = tf.randomUniform([4, 3], 0, 1, 'float32', 2);
    const embeddings = tf.concat([
      tf.slice(rand, [0, 0], [2, 3]),
      paddingVec,
      tf.slice(rand, [3, 0], [1, 3]),
    ]);
    const embeddingNN = Embedding.fromPretrained(embeddings as tf.Tensor2D, { paddingIdx });
    const row = tf.slice(embeddingNN.weight, [paddingIdx, 0], [1, 3]);
    expect(values(row)).toEqual([7, 7, 7]);
    tf.dispose([paddingVec, rand, embeddings, row]);
    embeddingNN.dispose();
  });

  it('test_embedding_from_pretrained_options (sparse does not apply; the module holds a copy of a)', () => {
    const a = tf.tensor2d([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    const opts = { maxNorm: 2, normType: 0.5, scaleGradByFreq: false };
    const embedding = Embedding.fromPretrained(a, opts);
    const input = ids([[0, 1]]);
    const output = embedding.forward(input);
    // test output and that weight matrix was renormalized
    expect(values(output)).toEqual(values(embedding.weight));
    expect(values(embedding.weight).every((v, i) => v !== i + 1)).toBe(true);
    for (const row of output.arraySync() as number[][][]) {
      for (const r of row)
        expect(r.reduce((s, v) => s + Math.abs(v) ** 0.5, 0) ** 2).toBeLessThanOrEqual(2 + 1e-5);
    }
    tf.dispose([a, input, output]);
    embedding.dispose();
  });

  it('test_embedding_functional', () => {
    const a = ids([
      [1, 3, 2],
      [0, 2, 1],
    ]);
    const embeddings = tf.randomUniform([4, 3], 0, 1, 'float32', 3) as tf.Tensor2D;
    const embedOld = Embedding.fromPretrained(embeddings);
    const resOld = embedOld.forward(a);
    const resF = embeddingLookup(embeddings, a, null);
    expect(values(resOld)).toEqual(values(resF));
    const embedPad = Embedding.fromPretrained(embeddings, { paddingIdx: 2 });
    const resPad = embedPad.forward(a);
    const resFPad = embeddingLookup(embeddings, a, 2);
    expect(values(resPad)).toEqual(values(resFPad));
    tf.dispose([a, embeddings, resOld, resF, resPad, resFPad]);
    embedOld.dispose();
    embedPad.dispose();
  });

  it('test_embedding_padding_idx', () => {
    let embedding = new Embedding(10, 20, { paddingIdx: 0 });
    let input = ids([
      [0, 2, 4, 5],
      [4, 3, 0, 9],
    ]);
    let output = embedding.forward(input).arraySync() as number[][][];
    expect(output[0][0].reduce((s, v) => s + v, 0)).toBe(0);
    expect(output[1][2].reduce((s, v) => s + v, 0)).toBe(0);
    embedding.dispose();
    input.dispose();
    // negative indexing check for padding_idx: padding_idx=-2, num_embeddings=10 ==> index 8 padded
    embedding = new Embedding(10, 20, { paddingIdx: -2 });
    input = ids([
      [0, 2, 8, 5],
      [4, 8, 0, 9],
    ]);
    output = embedding.forward(input).arraySync() as number[][][];
    expect(output[0][2].reduce((s, v) => s + v, 0)).toBe(0);
    expect(output[1][1].reduce((s, v) => s + v, 0)).toBe(0);
    embedding.dispose();
    input.dispose();
    // change padding vector
    embedding = new Embedding(10, 20, { paddingIdx: 2 });
    const w = tf.concat([
      tf.slice(embedding.weight, [0, 0], [2, 20]),
      tf.ones([1, 20]),
      tf.slice(embedding.weight, [3, 0], [7, 20]),
    ]);
    embedding.weight.assign(w);
    input = ids([0, 2]);
    output = [embedding.forward(input).arraySync() as number[][]] as number[][][];
    expect(output[0][1]).toEqual(new Array(20).fill(1));
    tf.dispose([w, input]);
    embedding.dispose();
    // out of bounds check for padding_idx
    expectThrows(() => new Embedding(10, 20, { paddingIdx: 25 }), RangeError, [
      'paddingIdx',
      'got 25',
    ]);
    expectThrows(() => new Embedding(10, 20, { paddingIdx: -25 }), RangeError, [
      'paddingIdx',
      'got -25',
    ]);
    // the padding row gets no gradient, whatever the number of padding ids
    const paddingIdx = 0;
    embedding = new Embedding(5, 2, { paddingIdx });
    for (const n of [1, 2, 1000]) {
      for (const other of [[], [1, 3], [2]]) {
        const indices = ids([...other, ...new Array(n).fill(paddingIdx)]);
        const grad = gradOfSum(embedding.weight, () => embedding.forward(indices));
        expect(values(grad).slice(0, 2)).toEqual([0, 0]);
        tf.dispose([indices, grad]);
      }
    }
    embedding.dispose();
  });

  it('test_embedding_scalar_weight_error', () => {
    const indices = ids([
      [0, 0],
      [0, 0],
    ]);
    for (const weight of [tf.scalar(1), tf.reshape(tf.scalar(1), [1, 1, 1])]) {
      expectThrows(() => embeddingLookup(weight, indices, null), ShapeError, [
        "'weight' must be 2-D",
      ]);
      weight.dispose();
    }
    indices.dispose();
  });

  it('test_embedding_dense_grad (float32: analytic against finite differences)', () => {
    const embd = new Embedding(20, 20);
    const inp = ids([
      [0, 1, 1, 2],
      [3, 5, 7, 11],
    ]);
    const probe = tf.randomNormal([2, 4, 20], 0, 1, 'float32', 4);
    const f = (w: tf.Tensor) => tf.sum(tf.mul(embeddingLookup(w, inp, null), probe));
    const { value, grads } = tf.variableGrads(() => f(embd.weight) as tf.Scalar, [embd.weight]);
    const analytic = grads[embd.weight.name].arraySync() as number[][];
    const eps = 1e-2;
    for (const [r, c] of [
      [1, 3],
      [11, 0],
      [4, 7],
    ]) {
      const bump = tf.tidy(() => tf.scatterND([[r, c]], [eps], [20, 20]));
      const plus = tf.tidy(() => f(tf.add(embd.weight, bump)).dataSync()[0]);
      const minus = tf.tidy(() => f(tf.sub(embd.weight, bump)).dataSync()[0]);
      expect(Math.abs((plus - minus) / (2 * eps) - analytic[r][c])).toBeLessThanOrEqual(1e-2);
      bump.dispose();
    }
    expect(analytic[4].every((v) => v === 0)).toBe(true);
    tf.dispose([inp, probe, value, ...Object.values(grads)]);
    embd.dispose();
  });

  for (const paddingIdx of [null, 2]) {
    it(`test_embedding_dense_grad, gradgrad half (float32, paddingIdx ${paddingIdx}: second derivatives against finite differences of the first)`, () => {
      // gradgradcheck upstream; here: penalty(W) = sum of squares of d/dW sum(lookup(W)^3 * probe),
      // whose gradient is a second derivative, against central differences of penalty.
      const W = tf.variable(tf.randomNormal([12, 5], 0, 1, 'float32', 8));
      const inp = ids([
        [0, 1, 1, 2],
        [3, 5, 7, 11],
      ]);
      const probe = tf.randomNormal([2, 4, 5], 0, 1, 'float32', 9);
      const penalty = (w: tf.Variable) =>
        tf.tidy(() => {
          const { value, grads } = tf.variableGrads(() => {
            const e = embeddingLookup(w, inp, paddingIdx);
            return tf.sum(tf.mul(tf.mul(tf.mul(e, e), e), probe)) as tf.Scalar;
          }, [w]);
          value.dispose();
          return tf.sum(tf.square(grads[w.name])) as tf.Scalar;
        });
      const { value, grads } = tf.variableGrads(() => penalty(W), [W]);
      const analytic = grads[W.name].arraySync() as number[][];
      const base = W.arraySync() as number[][];
      const at = (r: number, c: number, d: number) => {
        const moved = base.map((row) => row.slice());
        moved[r][c] += d;
        W.assign(tf.tensor2d(moved));
        return tf.tidy(() => penalty(W).dataSync()[0]);
      };
      const eps = 1e-2;
      let nonzero = 0;
      for (const [r, c] of [
        [1, 3],
        [11, 0],
        [0, 4],
        [2, 1],
        [4, 2],
      ]) {
        const fd = (at(r, c, eps) - at(r, c, -eps)) / (2 * eps);
        expect(Math.abs(fd - analytic[r][c])).toBeLessThanOrEqual(2e-2 * Math.max(1, Math.abs(fd)));
        if (Math.abs(analytic[r][c]) > 1e-3) nonzero++;
      }
      expect(nonzero).toBeGreaterThanOrEqual(3); // rows 1, 11, 0 are looked up: not trivially zero
      expect(analytic[4].every((v) => v === 0)).toBe(true); // row 4 is never looked up
      if (paddingIdx !== null) expect(analytic[2].every((v) => v === 0)).toBe(true);
      tf.dispose([W, inp, probe, value, ...Object.values(grads)]);
    });
  }

  for (const pad of ['None', '2']) {
    it(`scale_grad_by_freq (rnnkit's test of that option, against PyTorch; paddingIdx ${pad})`, () => {
      const { t, config } = fixture('embedding', `scale_grad_by_freq_pad${pad}`);
      const m = Embedding.fromPretrained(t['param.weight'] as tf.Tensor2D, {
        freeze: false,
        scaleGradByFreq: true,
        ...(config.paddingIdx === null ? {} : { paddingIdx: config.paddingIdx }),
      });
      const w = t['lossweight.y'];
      const { value, grads } = tf.variableGrads(
        () => tf.sum(tf.mul(m.forward(t['input.ids']), w)) as tf.Scalar,
        [m.weight],
      );
      expectClose(grads[m.weight.name], t['grad.param.weight'], 1e-6);
      tf.dispose([value, ...Object.values(grads), ...Object.values(t)]);
      m.dispose();
    });
  }
});
