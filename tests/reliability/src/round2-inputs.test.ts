// Issue 19 (reliability round 2), the input side: absurd constructor sizes checked before anything
// is allocated, failed constructors that leak nothing, states, lengths and losses that were accepted
// silently, check-numerics on states and outputs, and messages that did not help. Every case: the
// error class and message, no tensor left behind, and the module still gives the same output.
import { ElmanRNN, GRUCell, LSTMCell, RNNCell } from '@rnnkit/cell';
import { SequenceEncoder } from '@rnnkit/heads';
import {
  clipGradNorm,
  DisposedError,
  Embedding,
  Linear,
  Module,
  manualSeed,
  NumericsError,
  ShapeError,
  setCheckNumerics,
  trainStep,
} from '@rnnkit/ops';
import { describeValue } from '@rnnkit/ops/internal';
import { GRU, LSTM, packPaddedSequence, RNN } from '@rnnkit/rnn';
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { det, PROJECT_BACKEND, tensorsIn } from './test-utils.js';

type ErrorClass = new (...args: any[]) => Error;

afterEach(() => setCheckNumerics(false));

/**
 * Asserts `call` throws `cls` with a message matching `message`, leaving no tensor behind;
 * returns the message.
 */
function rejects(call: () => unknown, cls: ErrorClass, message: RegExp): string {
  const before = tf.memory().numTensors;
  const bytes = tf.memory().numBytes;
  let error: unknown = null;
  try {
    // in a tidy: the inputs the call makes for itself go too
    tf.dispose(tensorsIn(tf.tidy(() => call() as tf.TensorContainer)));
  } catch (e) {
    error = e;
  }
  expect(error, 'the call did not throw').not.toBeNull();
  const e = error as Error;
  expect(e.constructor, `error class (message: ${e.message})`).toBe(cls);
  expect(e.message).toMatch(message);
  expect(tf.memory().numTensors, 'tensors left by the failed call').toBe(before);
  expect(tf.memory().numBytes, 'bytes left by the failed call').toBe(bytes);
  return e.message;
}

/** The values of `run(m)`, to compare before and after a failed call. */
const valuesOf = (run: () => unknown) =>
  tf.tidy(() => tensorsIn(run()).map((t) => Array.from(t.dataSync())));

/** Runs a failing call on a module between two good calls that must give the same values. */
function stillWorks(good: () => unknown, bad: () => void): void {
  const before = valuesOf(good);
  bad();
  expect(valuesOf(good)).toEqual(before);
}

describe(`sizes are checked before allocating (${PROJECT_BACKEND})`, () => {
  it('an absurd hiddenSize fails at once, naming the option, with nothing allocated', () => {
    const t0 = performance.now();
    for (const [make, re] of [
      [
        () => new RNN({ inputSize: 1, hiddenSize: 2 ** 31 }),
        /^RNN\(\{ hiddenSize \}\): weight_ih_l0 would be \[2147483648,1\] \(2147483648 floats, 8 GiB\), more than one parameter can hold \(536870912 floats, 2 GiB: the WebAssembly kernel packs a weight into its 4 GiB memory\); use a smaller hiddenSize$/,
      ],
      [
        () => new LSTM({ inputSize: 1, hiddenSize: 70000 }),
        /^LSTM\(\{ hiddenSize \}\): weight_hh_l0 would be \[280000,70000\] \(19600000000 floats, 73 GiB\)/,
      ],
      [
        () => new GRUCell({ inputSize: 2 ** 30, hiddenSize: 1 }),
        /^GRUCell\(\{ inputSize \}\): weight_ih would be \[3,1073741824\]/,
      ],
      [
        () => new GRU({ inputSize: 8, hiddenSize: 8000, numLayers: 12 }),
        /^GRU\(\{ numLayers \}\): the parameters would hold 4416768000 floats \(16\.5 GiB\), more than a module can hold \(1073741824 floats, 4 GiB\); use a smaller numLayers$/,
      ],
      [
        () =>
          new SequenceEncoder({
            vocabSize: 5,
            embeddingDim: 2,
            cell: 'lstm',
            hiddenSize: 70000,
            pooling: 'last',
          }),
        /^LSTM\(\{ hiddenSize \}\): weight_hh_l0 would be \[280000,70000\]/,
      ],
    ] as Array<[() => unknown, RegExp]>) {
      rejects(make, RangeError, re);
    }
    // nothing was allocated: no 8 GiB held for 25 s first
    expect(performance.now() - t0).toBeLessThan(2000);
  });

  it('a constructor failing after its first parameters frees them (LSTMCell, GRU, SequenceEncoder)', () => {
    // An allocation that fails midway (as tfjs does when memory runs out): the first parameter
    // exists, registering the second throws.
    const proto = Module.prototype as unknown as { registerParameter(...a: unknown[]): unknown };
    const real = proto.registerParameter;
    let made = 0;
    const spy = vi.spyOn(proto, 'registerParameter').mockImplementation(function (
      this: unknown,
      ...args: unknown[]
    ) {
      if (++made === 2) {
        (args[1] as tf.Tensor).dispose();
        throw new RangeError('Array buffer allocation failed');
      }
      return real.apply(this, args);
    });
    try {
      for (const make of [
        () => new LSTMCell({ inputSize: 3, hiddenSize: 4 }),
        () => new GRU({ inputSize: 3, hiddenSize: 4, numLayers: 2 }),
        () =>
          new SequenceEncoder({
            vocabSize: 5,
            embeddingDim: 2,
            cell: 'lstm',
            hiddenSize: 4,
            pooling: 'last',
          }),
      ]) {
        made = 0;
        rejects(make, RangeError, /^Array buffer allocation failed$/);
      }
    } finally {
      spy.mockRestore();
    }
  });
});

describe(`accepted silently before (${PROJECT_BACKEND})`, () => {
  const x3 = () => det([2, 3, 2]);
  it('int32 and bool h0/c0 are rejected by LSTM, GRU, RNN, the cells and ElmanRNN', () => {
    manualSeed(1);
    const lstm = new LSTM({ inputSize: 2, hiddenSize: 3 });
    const gru = new GRU({ inputSize: 2, hiddenSize: 3 });
    const rnn = new RNN({ inputSize: 2, hiddenSize: 3 });
    const gruCell = new GRUCell({ inputSize: 2, hiddenSize: 3 });
    const lstmCell = new LSTMCell({ inputSize: 2, hiddenSize: 3 });
    const rnnCell = new RNNCell({ inputSize: 2, hiddenSize: 3 });
    const elman = new ElmanRNN({ inputDim: 2, hiddenSize: 3, outputDim: 1 });
    const zeros = (shape: number[], dtype: 'int32' | 'bool' | 'float32') => tf.zeros(shape, dtype);
    const cases: Array<[() => unknown, () => unknown, RegExp]> = [
      [
        () => lstm.forward(x3()),
        () => lstm.forward(x3(), [zeros([1, 3, 3], 'int32'), zeros([1, 3, 3], 'float32')]),
        /^LSTM\.forward\(state\[0\] \(h0\)\): expected a float32 tensor, got a int32 tensor of shape \[1,3,3\]$/,
      ],
      [
        () => lstm.forward(x3()),
        () => lstm.forward(x3(), [zeros([1, 3, 3], 'float32'), zeros([1, 3, 3], 'bool')]),
        /^LSTM\.forward\(state\[1\] \(c0\)\): expected a float32 tensor, got a bool tensor of shape \[1,3,3\]$/,
      ],
      [
        () => gru.forward(x3()),
        () => gru.forward(x3(), zeros([1, 3, 3], 'int32')),
        /^GRU\.forward\(h0\): expected a float32 tensor, got a int32 tensor/,
      ],
      [
        () => rnn.forward(x3()),
        () => rnn.forward(x3(), zeros([1, 3, 3], 'bool')),
        /^RNN\.forward\(h0\): expected a float32 tensor, got a bool tensor/,
      ],
      [
        () => gruCell.forward(det([2, 2])),
        () => gruCell.forward(det([2, 2]), zeros([2, 3], 'int32')),
        /^GRUCell\.forward\(h\): expected a float32 tensor, got a int32 tensor of shape \[2,3\]$/,
      ],
      [
        () => lstmCell.forward(det([2, 2])),
        () => lstmCell.forward(det([2, 2]), [zeros([2, 3], 'float32'), zeros([2, 3], 'bool')]),
        /^LSTMCell\.forward\(state\[1\]\): expected a float32 tensor, got a bool tensor/,
      ],
      [
        () => rnnCell.forward(det([3, 2])),
        () => rnnCell.forward(det([3, 2]), zeros([3, 3], 'int32')),
        /^RNNCell\.forward\(h\): expected a float32 tensor, got a int32 tensor/,
      ],
      [
        () => elman.forward(det([3, 2, 2])),
        () => elman.forward(det([3, 2, 2]), zeros([3, 3], 'bool')),
        /^ElmanRNN\.forward\(h0\): expected a float32 tensor, got a bool tensor of shape \[3,3\]$/,
      ],
    ];
    for (const [good, bad, re] of cases) {
      stillWorks(good, () => {
        rejects(bad, TypeError, re);
      });
    }
    for (const m of [lstm, gru, rnn, gruCell, lstmCell, rnnCell, elman]) m.dispose();
  });

  it('a bool or 2-D lengths tensor is rejected, not read as [1, 1] or flattened', () => {
    const gru = new GRU({ inputSize: 2, hiddenSize: 3, batchFirst: true });
    const lengths = [tf.tensor1d([true, true], 'bool'), tf.tensor2d([[3], [2]], [2, 1], 'int32')];
    const good = () => gru.forward(x3(), undefined, { lengths: [3, 2] });
    stillWorks(good, () => {
      rejects(
        () => gru.forward(x3(), undefined, { lengths: lengths[0] as never }),
        TypeError,
        /^GRU\.forward\(opts\.lengths\): expected 2 lengths \(a 1-D int32 or float32 tensor, or an array\), got a bool tensor of shape \[2\]$/,
      );
      rejects(
        () => gru.forward(x3(), undefined, { lengths: lengths[1] as never }),
        TypeError,
        /^GRU\.forward\(opts\.lengths\): expected 2 lengths .*got a int32 tensor of shape \[2,1\]$/,
      );
    });
    // a 1-D int32 tensor still works, as before
    const viaTensor = tf.tensor1d([3, 2], 'int32');
    expect(valuesOf(() => gru.forward(x3(), undefined, { lengths: viaTensor as never }))).toEqual(
      valuesOf(good),
    );
    // packPaddedSequence too (it read [true, true] as [1, 1])
    rejects(
      () => packPaddedSequence(x3(), lengths[0] as never, { batchFirst: true }),
      TypeError,
      /^packPaddedSequence\(lengths\): expected an int32 or float32 tensor of integers, got a bool tensor of shape \[2\]$/,
    );
    tf.dispose([...lengths, viaTensor]);
    gru.dispose();
  });

  it('an int32 loss in trainStep is rejected (no update happens)', () => {
    const m = new Linear(2, 1);
    const opt = tf.train.sgd(0.1);
    const good = () => m.forward(det([1, 2]));
    stillWorks(good, () => {
      rejects(
        () =>
          trainStep(m, () => tf.cast(tf.sum(m.forward(det([1, 2]))), 'int32') as tf.Scalar, opt),
        TypeError,
        /^trainStep\(loss\): expected loss\(\) to return a scalar tensor \(float32\), got a int32 scalar \(an integer loss has no gradient: compute it in float32\)$/,
      );
    });
    opt.dispose();
    m.dispose();
  });

  it('setCheckNumerics(true) checks h/c given to the cells and the outputs', () => {
    setCheckNumerics(true);
    const gruCell = new GRUCell({ inputSize: 2, hiddenSize: 3 });
    const lstmCell = new LSTMCell({ inputSize: 2, hiddenSize: 3 });
    const nan = tf.fill([1, 3], Number.NaN);
    const inf = tf.fill([1, 3], Number.POSITIVE_INFINITY);
    const one = det([1, 2]);
    stillWorks(
      () => gruCell.forward(one),
      () =>
        rejects(
          () => gruCell.forward(one, inf),
          NumericsError,
          /^GRUCell\.forward\(h\): expected finite values, got Infinity at flat index 0/,
        ),
    );
    const zeros = tf.zeros([1, 3]);
    stillWorks(
      () => lstmCell.forward(one),
      () =>
        rejects(
          () => lstmCell.forward(one, [zeros, nan]),
          NumericsError,
          /^LSTMCell\.forward\(state\[1\]\): expected finite values, got NaN at flat index 0/,
        ),
    );
    // A ReLU RNN whose state overflows to Infinity: the output is checked and not returned.
    const relu = new RNN({ inputSize: 1, hiddenSize: 1, nonlinearity: 'relu' });
    const big = tf.tensor2d([[1e38]]);
    const zero = tf.tensor1d([0]);
    relu.loadStateDict({
      weight_ih_l0: big,
      weight_hh_l0: big,
      bias_ih_l0: zero,
      bias_hh_l0: zero,
    });
    const x = tf.fill([3, 1, 1], 10);
    rejects(
      () => relu.forward(x),
      NumericsError,
      /^RNN\.forward: output: expected finite values, got Infinity at flat index 0 of a tensor of shape \[3,1,1\]$/,
    );
    const cell = new RNNCell({ inputSize: 1, hiddenSize: 1, nonlinearity: 'relu' });
    cell.loadStateDict({ weight_ih: big, weight_hh: big, bias_ih: zero, bias_hh: zero });
    rejects(
      () => cell.forward(tf.tensor2d([[1e10]])),
      NumericsError,
      /^RNNCell\.forward: the new h: expected finite values, got Infinity/,
    );
    tf.dispose([nan, inf, one, zeros, big, zero, x]);
    for (const m of [gruCell, lstmCell, relu, cell]) m.dispose();
  });
});

describe(`messages that help (${PROJECT_BACKEND})`, () => {
  it('a complex64 h0 is named (on wasm, tfjs cannot make one)', () => {
    const gru = new GRU({ inputSize: 2, hiddenSize: 3 });
    if (PROJECT_BACKEND === 'wasm') {
      expect(() => tf.complex(tf.zeros([1, 2, 3]), tf.zeros([1, 2, 3]))).toThrow(
        /Kernel 'Complex' not registered for backend 'wasm'/,
      );
    } else {
      const h0 = tf.tidy(() => tf.complex(tf.zeros([1, 3, 3]), tf.zeros([1, 3, 3])));
      stillWorks(
        () => gru.forward(det([2, 3, 2])),
        () =>
          rejects(
            () => gru.forward(det([2, 3, 2]), h0),
            TypeError,
            /^GRU\.forward\(h0\): expected a float32 tensor, got a complex64 tensor of shape \[1,3,3\]$/,
          ),
      );
      h0.dispose();
    }
    gru.dispose();
  });

  it('a parameter disposed by the user is named', () => {
    const m = new Linear(2, 3);
    m.parameters()[0]!.dispose();
    const x = det([1, 2]);
    rejects(
      () => m.forward(x),
      DisposedError,
      /^Linear: parameter "weight" \(shape \[3,2\]\) was disposed outside the module; create a new module/,
    );
    const gru = new GRU({ inputSize: 2, hiddenSize: 3 });
    const weights = gru.namedParameters();
    weights.find(([k]) => k === 'weight_hh_l0')![1].dispose();
    rejects(
      () => gru.forward(det([2, 1, 2])),
      DisposedError,
      /^GRU: parameter "weight_hh_l0" \(shape \[9,3\]\) was disposed outside the module/,
    );
    tf.dispose(x);
    m.dispose();
    gru.dispose();
  });

  it('clipGradNorm names an int32 gradient', () => {
    const g = { a: tf.tensor1d([3, 4], 'int32'), b: tf.tensor1d([1]) };
    rejects(
      () => clipGradNorm(g, 1),
      TypeError,
      /^clipGradNorm\(grads\["a"\]\): expected a float32 tensor, got a int32 tensor of shape \[2\]$/,
    );
    tf.dispose(Object.values(g));
  });

  it('describeValue names typed arrays, ArrayBuffers, Maps and class instances', () => {
    expect(describeValue(new Float32Array(3))).toBe('a Float32Array of length 3');
    expect(describeValue(new Uint8Array(0))).toBe('a Uint8Array of length 0');
    expect(describeValue(new DataView(new ArrayBuffer(4)))).toBe('a DataView of 4 bytes');
    expect(describeValue(new ArrayBuffer(8))).toBe('an ArrayBuffer of 8 bytes');
    expect(describeValue(new Map([['a', 1]]))).toBe('a Map of 1 entries');
    expect(describeValue(new Set())).toBe('a Set of 0 entries');
    expect(describeValue(new Date(0))).toBe('a Date');
    expect(describeValue({})).toBe('an object');
    expect(describeValue(Object.create(null))).toBe('an object');
    const m = new Linear(2, 1);
    rejects(
      () => m.forward(new Float32Array(2) as never),
      TypeError,
      /^Linear\.forward\(x\): expected a tf\.Tensor, got a Float32Array of length 2$/,
    );
    m.dispose();
  });

  it('a Map given as a state dict says so instead of listing every key as missing', () => {
    const m = new Linear(2, 1);
    const sd = m.stateDict();
    const map = new Map(Object.entries(sd));
    stillWorks(
      () => m.forward(det([1, 2])),
      () =>
        rejects(
          () => m.loadStateDict(map as never),
          TypeError,
          /^Linear\.loadStateDict\(sd\): expected an object of tensors, got a Map of 2 entries \(use Object\.fromEntries\(map\)\)$/,
        ),
    );
    expect(m.loadStateDict(Object.fromEntries(map))).toEqual({
      missingKeys: [],
      unexpectedKeys: [],
    });
    tf.dispose(Object.values(sd));
    m.dispose();
  });

  it('ragged nested id arrays say where they stop being rectangular', () => {
    const e = new Embedding(5, 2);
    const good = () => e.forward([[1, 2]]);
    stillWorks(good, () => {
      rejects(
        () => e.forward([[1, 2], [3]]),
        ShapeError,
        /^Embedding\.forward\(ids\): expected a rectangular nested array of ids \(every row of one length\), got ids\[1\] has length 1 where ids\[0\] has length 2$/,
      );
      rejects(
        () =>
          e.forward([
            [[1], [2]],
            [[3], [4, 0]],
          ] as never),
        ShapeError,
        /got ids\[1\]\[1\] has length 2 where ids\[0\]\[0\] has length 1$/,
      );
      rejects(
        () => e.forward([[1, 2], 3] as never),
        ShapeError,
        /got ids\[1\] is a number where ids\[0\] is an array$/,
      );
    });
    e.dispose();
  });
});
