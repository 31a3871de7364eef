// Issue 8, NaN/Infinity: with setCheckNumerics(true) a forward whose input holds NaN, or whose
// weights hold Infinity, throws NumericsError naming the first non-finite tensor; off by default
// (no error, and not a single read of tensor data).
import { ElmanRNN } from '@rnnkit/cell';
import { SequenceEncoder } from '@rnnkit/heads';
import {
  Linear,
  type Module,
  manualSeed,
  NumericsError,
  numericsChecked,
  setCheckNumerics,
} from '@rnnkit/ops';
import { GRU, LSTM, RNN } from '@rnnkit/rnn';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { det, PROJECT_BACKEND, releaseTracked, tensorsIn, withValue } from './test-utils.js';

interface Subject {
  name: string;
  make: () => Module;
  /** Input shape of a correct call. */
  shape: number[];
  run: (m: any, input: tf.Tensor) => unknown;
  /** The argument name the error must use for the input. */
  inputArg: string;
  /** The parameter poisoned with Infinity, and the name the error must use for it. */
  param: string;
  paramName: string;
}

const subjects: Subject[] = [
  {
    name: 'Linear',
    make: () => new Linear(3, 2),
    shape: [2, 3],
    run: (m: Linear, x) => m.forward(x),
    inputArg: 'Linear.forward(x)',
    param: 'bias',
    paramName: 'bias',
  },
  {
    name: 'RNN',
    make: () => new RNN({ inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true }),
    shape: [5, 2, 3],
    run: (m: RNN, x) => m.forward(x),
    inputArg: 'RNN.forward(input)',
    param: 'weight_hh_l1_reverse',
    paramName: 'weight_hh_l1_reverse',
  },
  {
    name: 'LSTM',
    make: () => new LSTM({ inputSize: 3, hiddenSize: 4, projSize: 2, batchFirst: true }),
    shape: [2, 5, 3],
    run: (m: LSTM, x) => m.forward(x),
    inputArg: 'LSTM.forward(input)',
    param: 'weight_hr_l0',
    paramName: 'weight_hr_l0',
  },
  {
    name: 'GRU',
    make: () => new GRU({ inputSize: 3, hiddenSize: 4 }),
    shape: [5, 3],
    run: (m: GRU, x) => m.forward(x),
    inputArg: 'GRU.forward(input)',
    param: 'bias_ih_l0',
    paramName: 'bias_ih_l0',
  },
  {
    name: 'ElmanRNN',
    make: () => new ElmanRNN({ inputDim: 3, hiddenSize: 4, outputDim: 2 }),
    shape: [2, 5, 3],
    run: (m: ElmanRNN, x) => m.forward(x),
    inputArg: 'ElmanRNN.forward(xt)',
    param: 'linear2.weight',
    paramName: 'linear2.weight',
  },
  {
    name: 'SequenceEncoder',
    make: () =>
      new SequenceEncoder({
        inputSize: 3,
        cell: 'lstm',
        hiddenSize: 4,
        pooling: 'attention',
        outputSize: 2,
      }),
    shape: [2, 5, 3],
    run: (m: SequenceEncoder, x) => m.forward(x, { lengths: [5, 3] }),
    inputArg: 'SequenceEncoder.forward(input)',
    param: 'rnn.weight_hh_l0',
    paramName: 'rnn.weight_hh_l0',
  },
];

/** Runs a forward and returns its outputs' values (disposing them). */
function values(s: Subject, m: Module, x: tf.Tensor): number[][] {
  const outs = tensorsIn(s.run(m, x));
  const v = outs.map((t) => Array.from(t.dataSync()));
  tf.dispose(outs);
  return v;
}

/** Asserts fn throws NumericsError with a message matching `message`, leaking no tensor. */
function expectNumericsError(fn: () => unknown, message: RegExp): void {
  const before = tf.memory().numTensors;
  let error: unknown = null;
  try {
    tf.dispose(tensorsIn(fn()));
  } catch (e) {
    error = e;
  }
  expect(tf.memory().numTensors).toBe(before);
  expect(error).toBeInstanceOf(NumericsError);
  expect((error as Error).message).toMatch(message);
}

const reEscape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe(`check-numerics mode (${PROJECT_BACKEND})`, () => {
  const initial = numericsChecked();

  beforeAll(() => {
    manualSeed(3);
  });
  afterEach(() => {
    releaseTracked();
  });
  afterAll(() => {
    setCheckNumerics(initial);
    expect(numericsChecked()).toBe(false);
  });

  it('is off by default', () => {
    expect(initial).toBe(false);
  });

  describe.each(subjects.map((s) => [s.name, s] as const))('%s', (_, s) => {
    it('off: NaN in the input and Infinity in a weight pass silently; the check does not read them', () => {
      setCheckNumerics(false);
      const m = s.make();
      // The check reads the input back from the backend; with the flag off it does not. Forwards
      // may read the input themselves (the kernel's inference path does), so count the reads of
      // one clean call with the check on and off: the difference is the check's.
      const clean = det(s.shape);
      const readsOf = (on: boolean): number => {
        setCheckNumerics(on);
        const reads = vi.spyOn(tf.Tensor.prototype, 'dataSync');
        const readsAsync = vi.spyOn(tf.Tensor.prototype, 'data');
        try {
          tf.dispose(tensorsIn(s.run(m, clean)));
          return [...reads.mock.contexts, ...readsAsync.mock.contexts].filter((t) => t === clean)
            .length;
        } finally {
          reads.mockRestore();
          readsAsync.mockRestore();
          setCheckNumerics(false);
        }
      };
      expect(readsOf(true)).toBeGreaterThan(readsOf(false));
      clean.dispose();
      const weight = new Map(m.namedParameters()).get(s.param)!;
      const saved = tf.clone(weight);
      const poisoned = withValue(weight.shape, Number.POSITIVE_INFINITY, 1);
      weight.assign(poisoned);
      const x = withValue(s.shape, Number.NaN, 4);
      const outs = tensorsIn(s.run(m, x));
      // the NaN/Infinity reached the output: nothing was checked or cleaned
      expect(outs.some((t) => Array.from(t.dataSync()).some((v) => !Number.isFinite(v)))).toBe(
        true,
      );
      tf.dispose(outs);
      weight.assign(saved);
      saved.dispose();
      m.dispose();
    });

    it('on: NaN in the input throws NumericsError naming the input; the module still works', () => {
      const m = s.make();
      const good = det(s.shape);
      const expected = values(s, m, good);
      setCheckNumerics(true);
      try {
        const x = withValue(s.shape, Number.NaN, 4);
        expectNumericsError(
          () => s.run(m, x),
          new RegExp(
            `^${reEscape(s.inputArg)}: expected finite values, got NaN at flat index 4 of a tensor of shape ${reEscape(`[${s.shape.join(',')}]`)}`,
          ),
        );
        expect(values(s, m, good)).toEqual(expected);
      } finally {
        setCheckNumerics(false);
        good.dispose();
        m.dispose();
      }
    });

    it('on: Infinity in a weight throws NumericsError naming that parameter', () => {
      const m = s.make();
      const weight = new Map(m.namedParameters()).get(s.param)!;
      const saved = tf.clone(weight);
      weight.assign(withValue(weight.shape, Number.POSITIVE_INFINITY, 1));
      const good = det(s.shape);
      setCheckNumerics(true);
      try {
        expectNumericsError(
          () => s.run(m, good),
          new RegExp(
            `^${reEscape(s.paramName)}: expected finite values, got Infinity at flat index 1 of a tensor of shape ${reEscape(`[${weight.shape.join(',')}]`)}`,
          ),
        );
        // -Infinity too
        weight.assign(withValue(weight.shape, Number.NEGATIVE_INFINITY, 0));
        expectNumericsError(() => s.run(m, good), /got -Infinity at flat index 0/);
        // repaired, it runs
        weight.assign(saved);
        tf.dispose(tensorsIn(s.run(m, good)));
      } finally {
        setCheckNumerics(false);
        saved.dispose();
        good.dispose();
        m.dispose();
      }
    });

    it('on: with NaN in both the input and a weight, the input (checked first) is named', () => {
      const m = s.make();
      const weight = new Map(m.namedParameters()).get(s.param)!;
      const saved = tf.clone(weight);
      weight.assign(withValue(weight.shape, Number.NaN, 0));
      setCheckNumerics(true);
      try {
        const x = withValue(s.shape, Number.NaN, 2);
        expectNumericsError(() => s.run(m, x), new RegExp(`^${reEscape(s.inputArg)}: `));
      } finally {
        setCheckNumerics(false);
        weight.assign(saved);
        saved.dispose();
        m.dispose();
      }
    });
  });

  it('RNN and LSTM: NaN in the initial state names h0 / c0', () => {
    const rnn = new RNN({ inputSize: 2, hiddenSize: 3 });
    const lstm = new LSTM({ inputSize: 2, hiddenSize: 3 });
    const x = det([4, 1, 2]);
    const h0 = withValue([1, 1, 3], Number.NaN, 2);
    const state: [tf.Tensor, tf.Tensor] = [
      withValue([1, 1, 3], 0.5, 0),
      withValue([1, 1, 3], Number.POSITIVE_INFINITY),
    ];
    setCheckNumerics(true);
    try {
      expectNumericsError(
        () => rnn.forward(x, h0),
        /^RNN\.forward\(h0\): expected finite values, got NaN at flat index 2/,
      );
      expectNumericsError(
        () => lstm.forward(x, state),
        /^LSTM\.forward\(state\[1\] \(c0\)\): expected finite values, got Infinity at flat index 0/,
      );
    } finally {
      setCheckNumerics(false);
      x.dispose();
      rnn.dispose();
      lstm.dispose();
    }
  });

  it('SequenceEncoder with an embedding: Infinity in embedding.weight is named by its full key', () => {
    const enc = new SequenceEncoder({
      vocabSize: 6,
      embeddingDim: 3,
      cell: 'gru',
      hiddenSize: 4,
      pooling: 'mean',
    });
    const w = enc.embedding!.weight;
    const saved = tf.clone(w);
    w.assign(withValue([6, 3], Number.POSITIVE_INFINITY, 7));
    const ids = tf.tensor2d([[1, 2, 3]], [1, 3], 'int32');
    setCheckNumerics(true);
    try {
      expectNumericsError(
        () => enc.forward(ids),
        /^embedding\.weight: expected finite values, got Infinity at flat index 7 of a tensor of shape \[6,3\]/,
      );
    } finally {
      setCheckNumerics(false);
      w.assign(saved);
      tf.dispose([saved, ids]);
      enc.dispose();
    }
  });

  it('setCheckNumerics only takes a boolean', () => {
    expect(() => setCheckNumerics(1 as never)).toThrow(
      /setCheckNumerics\(on\): expected true or false, got 1/,
    );
    expect(numericsChecked()).toBe(false);
  });
});
