import { DisposedError, loadSafetensors, ShapeError, saveSafetensors } from '@rnnkit/ops';
import {
  disposeAll,
  expectClose,
  expectEqual,
  expectNoLeak,
  expectThrows,
  maxAbs,
  paramShapes,
  randn,
  seeded,
  values,
} from '@rnnkit/vitest-config/helpers';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { ElmanRNN, type ElmanRNNOutput } from './elman.js';

const out = (o: ElmanRNNOutput) => [o.hiddenStates, o.h, o.predictions];

/** x[:, t] of a [B, T, F] tensor as [B, F]. */
function step(x: tf.Tensor, t: number): tf.Tensor {
  const [B, , F] = x.shape;
  return tf.reshape(tf.slice(x, [0, t, 0], [B, 1, F]), [B, F]);
}

describe('ElmanRNN: the tutorial MyRNN', () => {
  it("gives the tutorial's shapes: xt [2,10,300], h0 [2,256] -> [2,10,256], [2,256], [2,10,1]", () => {
    const bs = 2;
    const seqLen = 10;
    const embSize = 300;
    const hiddenDim = 256;
    const xt = tf.randomUniform([bs, seqLen, embSize], 0, 1, 'float32', 1);
    const h0 = tf.randomUniform([bs, hiddenDim], 0, 1, 'float32', 2);
    const rnn = new ElmanRNN({ inputDim: embSize, hiddenSize: hiddenDim, outputDim: 1 });
    const { hiddenStates, h, predictions } = expectNoLeak(() => rnn.forward(xt, h0), 3);
    expect(hiddenStates.shape).toEqual([2, 10, 256]);
    expect(h.shape).toEqual([2, 256]);
    expect(predictions.shape).toEqual([2, 10, 1]);
    // h is the last hidden state: hidden_states[:, -1]
    const last = step(hiddenStates, seqLen - 1);
    expectEqual(h, last);
    // ReLU, as in the tutorial
    expect(values(hiddenStates).every((v) => v >= 0)).toBe(true);
    tf.dispose([xt, h0, hiddenStates, h, predictions, last]);
    rnn.dispose();
  });

  it("has the tutorial's state_dict keys and PyTorch shapes: linear1.weight [256,556] ...", () => {
    const rnn = new ElmanRNN({ inputDim: 300, hiddenSize: 256, outputDim: 1 });
    expect(paramShapes(rnn)).toEqual([
      ['linear1.weight', [256, 556]],
      ['linear1.bias', [256]],
      ['linear2.weight', [1, 256]],
      ['linear2.bias', [1]],
    ]);
    const sd = rnn.stateDict();
    expect(Object.keys(sd)).toEqual([
      'linear1.weight',
      'linear1.bias',
      'linear2.weight',
      'linear2.bias',
    ]);
    // PyTorch's Linear init: U(-1/sqrt(in), 1/sqrt(in)), up to float32 rounding
    expect(maxAbs(sd['linear1.weight'])).toBeLessThanOrEqual((1 + 1e-6) / Math.sqrt(556));
    expect(maxAbs(sd['linear2.weight'])).toBeLessThanOrEqual((1 + 1e-6) / Math.sqrt(256));
    disposeAll(sd);
    rnn.dispose();
  });

  it.each(['relu', 'tanh'] as const)(
    'equals stepping linear1 (%s) over time and applying linear2 to every hidden state',
    (activation) => {
      const rnn = new ElmanRNN({ inputDim: 6, hiddenSize: 5, outputDim: 3, activation });
      const xt = randn([4, 7, 6], 3);
      const h0 = randn([4, 5], 4);
      const o = rnn.forward(xt, h0);
      let h = tf.clone(h0);
      for (let t = 0; t < 7; t++) {
        const xs = step(xt, t);
        const next = rnn.linear1.forward(xs, h);
        const got = step(o.hiddenStates, t);
        expectClose(got, next, 1e-5);
        tf.dispose([xs, h, got]);
        h = next;
      }
      expectClose(o.h, h, 1e-5);
      const preds = rnn.linear2.forward(o.hiddenStates);
      expectClose(o.predictions, preds, 1e-6);
      if (activation === 'tanh') expect(values(o.hiddenStates).some((v) => v < 0)).toBe(true);
      tf.dispose([xt, h0, h, preds, ...out(o)]);
      rnn.dispose();
    },
  );

  it('treats a missing h0 as zeros; works for T = 1 and B = 1', () => {
    const rnn = new ElmanRNN({ inputDim: 3, hiddenSize: 4, outputDim: 2 });
    const xt = randn([2, 5, 3], 5);
    const z = tf.zeros([2, 4]);
    const a = rnn.forward(xt);
    const b = rnn.forward(xt, z);
    out(a).forEach((t, k) => {
      expectEqual(t, out(b)[k]);
    });
    const one = randn([1, 1, 3], 6);
    const o1 = rnn.forward(one);
    expect(out(o1).map((t) => t.shape)).toEqual([
      [1, 1, 4],
      [1, 4],
      [1, 1, 2],
    ]);
    tf.dispose([xt, z, one, ...out(a), ...out(b), ...out(o1)]);
    rnn.dispose();
  });

  it('round-trips stateDict -> safetensors -> loadStateDict into a differently seeded model', () => {
    const opts = { inputDim: 6, hiddenSize: 5, outputDim: 2 };
    const a = seeded(1, () => new ElmanRNN(opts));
    const b = seeded(2, () => new ElmanRNN(opts));
    const xt = randn([3, 4, 6], 7);
    const h0 = randn([3, 5], 8);
    const ya = a.forward(xt, h0);
    const pre = b.forward(xt, h0);
    expect(values(pre.predictions)).not.toEqual(values(ya.predictions));
    const sd = a.stateDict();
    const loaded = loadSafetensors(saveSafetensors(sd));
    b.loadStateDict(loaded);
    const yb = b.forward(xt, h0);
    out(ya).forEach((t, k) => {
      expectEqual(out(yb)[k], t);
    });
    disposeAll(sd);
    disposeAll(loaded);
    tf.dispose([xt, h0, ...out(ya), ...out(yb), ...out(pre)]);
    a.dispose();
    b.dispose();
  });

  it('is reproducible under manualSeed', () => {
    const opts = { inputDim: 4, hiddenSize: 3, outputDim: 1 };
    const a = seeded(5, () => new ElmanRNN(opts));
    const b = seeded(5, () => new ElmanRNN(opts));
    const pb = b.parameters();
    a.parameters().forEach((v, i) => {
      expectEqual(v, pb[i]);
    });
    a.dispose();
    b.dispose();
  });

  it('leaks nothing in forward or in a BPTT backward pass', () => {
    const rnn = new ElmanRNN({ inputDim: 4, hiddenSize: 3, outputDim: 2 });
    const xt = randn([2, 6, 4], 9);
    const h0 = randn([2, 3], 10);
    tf.dispose(out(expectNoLeak(() => rnn.forward(xt, h0), 3)));
    tf.dispose(out(expectNoLeak(() => rnn.forward(xt), 3)));
    const before = tf.memory().numTensors;
    const { value, grads } = tf.variableGrads(
      () => tf.tidy(() => tf.sum(rnn.forward(xt, h0).predictions)) as tf.Scalar,
      rnn.parameters(),
    );
    expect(Object.keys(grads).length).toBe(4);
    tf.dispose([value, ...Object.values(grads)]);
    const { value: v2, grads: g2 } = tf.valueAndGrads((x: tf.Tensor, h: tf.Tensor) =>
      tf.tidy(() => tf.sum(rnn.forward(x, h).predictions)),
    )([xt, h0]);
    expect(g2.map((g) => g.shape)).toEqual([
      [2, 6, 4],
      [2, 3],
    ]);
    tf.dispose([v2, ...g2]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([xt, h0]);
    rnn.dispose();
  });

  it('rejects bad constructor options with named errors', () => {
    const ok = { inputDim: 4, hiddenSize: 3, outputDim: 1 };
    const cases: Array<[unknown, new (...a: any[]) => Error, string[]]> = [
      [
        { ...ok, input_dim: 4 },
        TypeError,
        ['ElmanRNN', 'unknown option "input_dim"', 'did you mean "inputDim"'],
      ],
      [
        { ...ok, hidden_size: 3 },
        TypeError,
        ['ElmanRNN', 'unknown option "hidden_size"', 'did you mean "hiddenSize"'],
      ],
      [{ ...ok, inputDim: 0 }, RangeError, ['ElmanRNN({ inputDim })', 'positive integer', 'got 0']],
      [
        { ...ok, hiddenSize: -2 },
        RangeError,
        ['ElmanRNN({ hiddenSize })', 'positive integer', 'got -2'],
      ],
      [
        { ...ok, outputDim: 1.5 },
        RangeError,
        ['ElmanRNN({ outputDim })', 'positive integer', 'got 1.5'],
      ],
      [
        { ...ok, activation: 'sigmoid' },
        TypeError,
        ['ElmanRNN({ activation })', "'relu', 'tanh'", 'got "sigmoid"'],
      ],
      [undefined, RangeError, ['ElmanRNN({ inputDim })', 'got undefined']],
      ['opts', TypeError, ['ElmanRNN', 'expected an options object', 'got "opts"']],
    ];
    for (const [opts, cls, parts] of cases)
      expectThrows(() => new ElmanRNN(opts as any), cls, parts);
  });

  it('rejects bad forward input with named errors and still works afterwards', () => {
    const rnn = new ElmanRNN({ inputDim: 4, hiddenSize: 3, outputDim: 2 });
    const xt = randn([2, 5, 4], 11);
    const h0 = randn([2, 3], 12);
    const ref = rnn.forward(xt, h0);
    const gone = tf.zeros([2, 5, 4]);
    gone.dispose();
    const goneH = tf.zeros([2, 3]);
    goneH.dispose();
    const cases: Array<[() => unknown[], new (...a: any[]) => Error, string[]]> = [
      [
        () => [tf.zeros([5, 4])],
        ShapeError,
        ['ElmanRNN.forward(xt)', 'rank 3', '[B, T, E]', 'got rank 2', '[5,4]'],
      ],
      [() => [tf.zeros([2, 5, 4, 1])], ShapeError, ['ElmanRNN.forward(xt)', 'rank 3', '[2,5,4,1]']],
      [
        () => [tf.zeros([2, 5, 7])],
        ShapeError,
        ['ElmanRNN.forward(xt)', '[B, T, 4]', 'inputDim = 4', 'got [2,5,7]'],
      ],
      [() => [tf.zeros([2, 5, 4], 'int32')], TypeError, ['forward(xt)', 'float32', 'int32']],
      [() => [gone], DisposedError, ['ElmanRNN.forward(xt)', 'disposed']],
      [
        () => [tf.zeros([2, 0, 4])],
        ShapeError,
        ['ElmanRNN.forward(xt)', 'at least one time step', '[2,0,4]'],
      ],
      [() => [[1, 2]], TypeError, ['ElmanRNN.forward(xt)', 'tf.Tensor', 'an array of length 2']],
      [
        () => [xt, tf.zeros([3, 3])],
        ShapeError,
        ['ElmanRNN.forward(h0)', 'expected shape [2,3]', 'got [3,3]'],
      ],
      [
        () => [xt, tf.zeros([2, 4])],
        ShapeError,
        ['ElmanRNN.forward(h0)', 'expected shape [2,3]', 'got [2,4]'],
      ],
      [
        () => [xt, tf.zeros([1, 2, 3])],
        ShapeError,
        ['ElmanRNN.forward(h0)', 'expected shape [2,3]', 'got [1,2,3]'],
      ],
      [() => [xt, goneH], DisposedError, ['ElmanRNN.forward(h0)', 'disposed']],
    ];
    for (const [args, cls, parts] of cases) {
      const a = args();
      expectThrows(() => rnn.forward(a[0] as tf.Tensor, a[1] as tf.Tensor | undefined), cls, parts);
      tf.dispose(a.filter((t): t is tf.Tensor => t instanceof tf.Tensor && t !== xt));
      const again = rnn.forward(xt, h0);
      out(again).forEach((t, k) => {
        expectEqual(t, out(ref)[k]);
      });
      tf.dispose(out(again));
    }
    rnn.dispose();
    expectThrows(() => rnn.forward(xt, h0), DisposedError, ['ElmanRNN', 'disposed']);
    tf.dispose([xt, h0, ...out(ref)]);
  });

  it('runs T = 10,000 steps without stack overflow or leaks, and a BPTT pass over T = 2,000', () => {
    const rnn = new ElmanRNN({ inputDim: 4, hiddenSize: 8, outputDim: 1, activation: 'tanh' });
    const xt = randn([1, 10_000, 4], 13);
    const o = expectNoLeak(() => rnn.forward(xt), 3);
    expect(out(o).map((t) => t.shape)).toEqual([
      [1, 10_000, 8],
      [1, 8],
      [1, 10_000, 1],
    ]);
    expect(values(o.h).every(Number.isFinite)).toBe(true);
    tf.dispose(out(o));
    const x2 = randn([1, 2_000, 4], 14);
    const before = tf.memory().numTensors;
    const { value, grads } = tf.variableGrads(
      () => tf.tidy(() => tf.mean(rnn.forward(x2).predictions)) as tf.Scalar,
      rnn.parameters(),
    );
    expect(Object.values(grads).every((g) => values(g).every(Number.isFinite))).toBe(true);
    tf.dispose([value, ...Object.values(grads)]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([xt, x2]);
    rnn.dispose();
  }, 60_000);
});
