import * as tf from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, it } from 'vitest';
import { DisposedError, NumericsError, ShapeError } from './errors.js';
import {
  assertBool,
  assertFinite,
  assertFloat,
  assertInt,
  assertOneOf,
  assertProbability,
  assertRank,
  assertShape,
  assertState,
  assertTensor,
  checkOptions,
  describeValue,
  finiteOutputs,
  fmtShape,
  numericsChecked,
  raggedAt,
  setCheckNumerics,
} from './guards.js';
import { Linear } from './linear.js';

afterEach(() => setCheckNumerics(false));

describe('checkOptions', () => {
  it('suggests the camelCase name for a snake_case option', () => {
    const known = ['batchFirst', 'numLayers'];
    expect(() => checkOptions({ batch_first: true }, 'RNN', known)).toThrow(TypeError);
    expect(() => checkOptions({ batch_first: true }, 'RNN', known)).toThrow(
      'RNN: unknown option "batch_first" (did you mean "batchFirst"?); expected one of "batchFirst", "numLayers"',
    );
    expect(() => checkOptions({ num_layers: 2 }, 'RNN', known)).toThrow(
      /did you mean "numLayers"\?/,
    );
  });

  it('rejects unknown names without a hint when there is no close camelCase name', () => {
    let msg = '';
    try {
      checkOptions({ batchFirst: true, hidden: 3 }, 'RNN', ['batchFirst']);
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg).toBe('RNN: unknown option "hidden"; expected one of "batchFirst"');
    expect(msg).not.toMatch(/did you mean/);
  });

  it('accepts known options and undefined, and rejects non-objects', () => {
    expect(() => checkOptions({ batchFirst: true }, 'RNN', ['batchFirst'])).not.toThrow();
    expect(() => checkOptions({}, 'RNN', [])).not.toThrow();
    expect(() => checkOptions(undefined, 'RNN', [])).not.toThrow();
    expect(() => checkOptions(null, 'RNN', [])).toThrow(
      /^RNN: expected an options object, got null$/,
    );
    expect(() => checkOptions([1], 'RNN', [])).toThrow(/got an array of length 1/);
    expect(() => checkOptions(5, 'RNN', [])).toThrow(/got 5/);
  });
});

describe('shape and value guards', () => {
  it('assertRank names the argument, the expected ranks and layout, and the actual shape', () => {
    const x = tf.zeros([4]);
    expect(() => assertRank(x, 'RNN.forward(input)', [2, 3], '[T,B,I] or [T,I]')).toThrow(
      ShapeError,
    );
    expect(() => assertRank(x, 'RNN.forward(input)', [2, 3], '[T,B,I] or [T,I]')).toThrow(
      /^RNN\.forward\(input\): expected rank 2 or 3 \(\[T,B,I\] or \[T,I\]\), got rank 1 with shape \[4\]$/,
    );
    expect(() => assertRank(x, 'x', [1], '[N]')).not.toThrow();
    expect(() => assertRank([1, 2], 'x', [1], '[N]')).toThrow(
      /^x: expected a tf\.Tensor, got an array of length 2$/,
    );
    x.dispose();
  });

  it('assertShape shows the expected shape with * for any size', () => {
    const x = tf.zeros([3, 4]);
    expect(() => assertShape(x, 'h0', [2, null])).toThrow(ShapeError);
    expect(() => assertShape(x, 'h0', [2, null])).toThrow(
      /^h0: expected shape \[2,\*\], got \[3,4\]$/,
    );
    expect(() => assertShape(x, 'h0', [3, 4, 1])).toThrow(/expected shape \[3,4,1\], got \[3,4\]/);
    expect(() => assertShape(x, 'h0', [null, 4])).not.toThrow();
    expect(() => assertShape(x, 'h0', [3, 4])).not.toThrow();
    x.dispose();
  });

  it('assertTensor rejects non-tensors (TypeError) and disposed tensors (DisposedError)', () => {
    expect(() => assertTensor(null, 'x')).toThrow(/^x: expected a tf\.Tensor, got null$/);
    expect(() => assertTensor('t', 'x')).toThrow(TypeError);
    const t = tf.zeros([2, 2]);
    expect(() => assertTensor(t, 'x')).not.toThrow();
    t.dispose();
    expect(() => assertTensor(t, 'x')).toThrow(DisposedError);
    expect(() => assertTensor(t, 'x')).toThrow(
      /^x: the tensor \(shape \[2,2\]\) was already disposed$/,
    );
  });

  it('assertFloat, assertInt, assertProbability, assertOneOf and assertBool', () => {
    const i = tf.zeros([2], 'int32');
    expect(() => assertFloat(i, 'x')).toThrow(
      /^x: expected a float32 tensor, got a int32 tensor of shape \[2\]$/,
    );
    i.dispose();
    expect(assertInt(3, 'n')).toBe(3);
    expect(() => assertInt(0, 'n')).toThrow(/^n: expected a positive integer, got 0$/);
    expect(() => assertInt(-1, 'n', 0)).toThrow(/^n: expected an integer >= 0, got -1$/);
    expect(() => assertInt(2.5, 'n')).toThrow(RangeError);
    expect(assertProbability(0, 'p')).toBe(0);
    expect(assertProbability(1, 'p')).toBe(1);
    expect(() => assertProbability(1.5, 'p')).toThrow(
      /^p: expected a probability in \[0, 1\], got 1.5$/,
    );
    expect(assertOneOf('relu', 'act', ['tanh', 'relu'])).toBe('relu');
    expect(() => assertOneOf('gelu', 'act', ['tanh', 'relu'])).toThrow(
      /^act: expected one of 'tanh', 'relu', got "gelu"$/,
    );
    expect(assertBool(false, 'b')).toBe(false);
    expect(() => assertBool(0, 'b')).toThrow(/^b: expected true or false, got 0$/);
  });

  it('fmtShape and describeValue format values for messages', () => {
    expect(fmtShape([2, 10, 300])).toBe('[2,10,300]');
    expect(fmtShape([])).toBe('[]');
    const t = tf.zeros([2, 3], 'int32');
    expect(describeValue(t)).toBe('a int32 tensor of shape [2,3]');
    t.dispose();
    expect(describeValue([1, 2, 3])).toBe('an array of length 3');
    expect(describeValue(3.5)).toBe('3.5');
    expect(describeValue('x')).toBe('"x"');
    expect(describeValue(null)).toBe('null');
    expect(describeValue(undefined)).toBe('undefined');
    expect(describeValue(() => 1)).toBe('a function');
    expect(describeValue(new Int32Array(2))).toBe('an Int32Array of length 2');
    expect(describeValue(new ArrayBuffer(3))).toBe('an ArrayBuffer of 3 bytes');
    expect(describeValue(new Map())).toBe('a Map of 0 entries');
    expect(describeValue({ a: 1 })).toBe('an object');
  });

  it('raggedAt says where a nested array stops being rectangular', () => {
    expect(
      raggedAt(
        [
          [1, 2],
          [3, 4],
        ],
        'ids',
      ),
    ).toBeNull();
    expect(raggedAt([[1, 2], [3]], 'ids')).toBe('ids[1] has length 1 where ids[0] has length 2');
    expect(raggedAt([[1], 2], 'x')).toBe('x[1] is a number where x[0] is an array');
    expect(raggedAt([1, [2]], 'x')).toBe('x[1] is an array where x[0] is a number');
  });

  it('assertState wants a float32 tensor of the shape', () => {
    const h = tf.zeros([2, 3], 'int32');
    expect(() => assertState(h, 'GRU.forward(h0)', [2, 3])).toThrow(
      new TypeError(
        'GRU.forward(h0): expected a float32 tensor, got a int32 tensor of shape [2,3]',
      ),
    );
    expect(() => assertState(h, 'GRU.forward(h0)', [2, 4])).toThrow(ShapeError);
    h.dispose();
  });
});

describe('finiteOutputs', () => {
  it('returns the outputs when off or finite, disposes them all and throws on NaN when on', () => {
    const bad = tf.tensor1d([1, Number.NaN]);
    expect(finiteOutputs('x', [['out', bad]])).toBe('x');
    setCheckNumerics(true);
    const ok = tf.tensor1d([1]);
    expect(() =>
      finiteOutputs({}, [
        ['L.forward: h', ok],
        ['L.forward: output', bad],
      ]),
    ).toThrow(
      new NumericsError(
        'L.forward: output: expected finite values, got NaN at flat index 1 of a tensor of shape [2]',
      ),
    );
    expect(ok.isDisposed && bad.isDisposed).toBe(true);
  });
});

describe('setCheckNumerics', () => {
  it('is off by default: NaN flows through Linear.forward without an error', () => {
    expect(numericsChecked()).toBe(false);
    const m = new Linear(2, 2);
    const x = tf.tensor2d([[Number.NaN, 1]]);
    const y = m.forward(x);
    expect(y.dataSync().some(Number.isNaN)).toBe(true);
    tf.dispose([x, y]);
    m.dispose();
  });

  it('when on, Linear.forward throws NumericsError naming a non-finite input', () => {
    setCheckNumerics(true);
    expect(numericsChecked()).toBe(true);
    const m = new Linear(2, 2);
    const x = tf.tensor2d([
      [0, 1],
      [2, Number.NaN],
    ]);
    const n = tf.memory().numTensors;
    expect(() => m.forward(x)).toThrow(NumericsError);
    expect(() => m.forward(x)).toThrow(
      /^Linear\.forward\(x\): expected finite values, got NaN at flat index 3 of a tensor of shape \[2,2\]$/,
    );
    expect(tf.memory().numTensors).toBe(n);
    const ok = tf.ones([1, 2]);
    const y = m.forward(ok);
    expect(y.shape).toEqual([1, 2]);
    tf.dispose([x, ok, y]);
    m.dispose();
  });

  it('when on, names the first non-finite parameter (a weight set to Infinity)', () => {
    setCheckNumerics(true);
    const m = new Linear(2, 3);
    m.weight.assign(
      tf.tensor2d([
        [0, 0],
        [0, Number.POSITIVE_INFINITY],
        [0, 0],
      ]),
    );
    m.bias!.assign(tf.tensor1d([Number.NEGATIVE_INFINITY, 0, 0]));
    const x = tf.ones([1, 2]);
    expect(() => m.forward(x)).toThrow(NumericsError);
    expect(() => m.forward(x)).toThrow(
      /^weight: expected finite values, got Infinity at flat index 3 of a tensor of shape \[3,2\]$/,
    );
    m.weight.assign(tf.zeros([3, 2]));
    expect(() => m.forward(x)).toThrow(
      /^bias: expected finite values, got -Infinity at flat index 0/,
    );
    setCheckNumerics(false);
    const y = m.forward(x);
    expect(y.dataSync()[0]).toBe(Number.NEGATIVE_INFINITY);
    tf.dispose([x, y]);
    m.dispose();
  });

  it('assertFinite ignores int32 tensors and does nothing while off', () => {
    const bad = tf.tensor1d([Number.NaN]);
    const ids = tf.tensor1d([1, 2], 'int32');
    expect(() => assertFinite([['t', bad]])).not.toThrow();
    setCheckNumerics(true);
    expect(() => assertFinite([['ids', ids]])).not.toThrow();
    expect(() =>
      assertFinite([
        ['ids', ids],
        ['t', bad],
      ]),
    ).toThrow(/^t: expected finite values/);
    tf.dispose([bad, ids]);
  });

  it('rejects a non-boolean switch', () => {
    expect(() => setCheckNumerics('yes' as any)).toThrow(TypeError);
    expect(() => setCheckNumerics('yes' as any)).toThrow(
      /^setCheckNumerics\(on\): expected true or false, got "yes"$/,
    );
    expect(numericsChecked()).toBe(false);
  });
});
