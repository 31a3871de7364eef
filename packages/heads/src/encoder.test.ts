import { DisposedError, manualSeed, ShapeError } from '@rnnkit/ops';
import { expectNoLeak, expectThrows, values } from '@rnnkit/vitest-config/helpers';
import * as tf from '@tensorflow/tfjs-core';
import { beforeEach, describe, expect, it } from 'vitest';
import { SequenceEncoder, type SequenceEncoderOptions, SequenceTagger } from './encoder.js';
import type { Pooling } from './pool.js';

const rnnKeys = (layers: number, bidirectional: boolean) =>
  Array.from({ length: layers }, (_, l) =>
    (bidirectional ? ['', '_reverse'] : ['']).flatMap((s) =>
      ['weight_ih', 'weight_hh', 'bias_ih', 'bias_hh'].map((k) => `rnn.${k}_l${l}${s}`),
    ),
  ).flat();

beforeEach(() => manualSeed(11));

describe("SequenceEncoder: the tutorial's two encoders", () => {
  // bs, seq_len, emb_size = 2, 256, 300
  const [bs, seq, emb] = [2, 256, 300];

  it.each(['rnn', 'lstm', 'gru'] as const)(
    "%s: f([bs,seq,emb]) -> [bs,seq,emb] with pooling 'none', outputSize = emb",
    (cell) => {
      const x = tf.randomNormal([bs, seq, emb]);
      const f = new SequenceEncoder({
        inputSize: emb,
        cell,
        hiddenSize: 16,
        pooling: 'none',
        outputSize: emb,
      });
      const y = expectNoLeak(() => f.forward(x), 1);
      expect(y.shape).toEqual([bs, seq, emb]);
      expect(values(y).every(Number.isFinite)).toBe(true);
      tf.dispose([x, y]);
      f.dispose();
    },
  );

  it.each(['rnn', 'lstm', 'gru'] as const)(
    '%s: f([bs,seq,emb]) -> [bs, sentEmb] with a pooled mode',
    (cell) => {
      const x = tf.randomNormal([bs, seq, emb]);
      const sentEmb = 64;
      const f = new SequenceEncoder({
        inputSize: emb,
        cell,
        hiddenSize: 16,
        bidirectional: true,
        pooling: 'mean',
        outputSize: sentEmb,
      });
      const y = expectNoLeak(() => f.forward(x, { lengths: [256, 100] }), 1);
      expect(y.shape).toEqual([bs, sentEmb]);
      tf.dispose([x, y]);
      f.dispose();
    },
  );

  const pooled: Pooling[] = ['mean', 'max', 'sum', 'first', 'last', 'attention'];
  it.each(pooled)(
    "pooling '%s' gives [B, D*H] without outputSize and [B, outputSize] with it",
    (pooling) => {
      const x = tf.randomNormal([3, 7, 5]);
      for (const [outputSize, width] of [
        [undefined, 2 * 4],
        [6, 6],
      ]) {
        const f = new SequenceEncoder({
          inputSize: 5,
          cell: 'gru',
          hiddenSize: 4,
          bidirectional: true,
          pooling,
          outputSize,
        });
        for (const lengths of [undefined, [7, 1, 4]]) {
          const y = expectNoLeak(() => f.forward(x, { lengths }), 1);
          expect(y.shape).toEqual([3, width]);
          y.dispose();
        }
        f.dispose();
      }
      x.dispose();
    },
  );

  it("pooling 'flatten' gives [B, T*D*H] with padded steps zeroed", () => {
    const x = tf.randomNormal([2, 3, 5]);
    const f = new SequenceEncoder({
      inputSize: 5,
      cell: 'lstm',
      hiddenSize: 4,
      pooling: 'flatten',
    });
    const y = expectNoLeak(() => f.forward(x, { lengths: [3, 1] }), 1);
    expect(y.shape).toEqual([2, 12]);
    expect(values(y).slice(12 + 4)).toEqual(new Array(8).fill(0));
    tf.dispose([x, y]);
    f.dispose();
  });
});

/** Token ids through a bidirectional LSTM, mean-pooled and projected. */
const BI_LSTM_IDS: SequenceEncoderOptions = {
  vocabSize: 13,
  embeddingDim: 5,
  paddingIdx: 0,
  cell: 'lstm',
  hiddenSize: 4,
  bidirectional: true,
  pooling: 'mean',
  outputSize: 3,
};

describe('SequenceEncoder: token ids', () => {
  const opts = BI_LSTM_IDS;
  const lengths = [5, 2, 4];
  const ids = (pad: (b: number, t: number) => number) =>
    tf.tensor2d(
      [
        [3, 1, 4, 1, 5],
        [9, 2, pad(1, 2), pad(1, 3), pad(1, 4)],
        [6, 5, 3, 5, pad(2, 4)],
      ],
      [3, 5],
      'int32',
    );

  it('int32 ids [B,T] -> [B, outputSize]; tokens past each length change nothing', () => {
    const f = new SequenceEncoder(opts);
    const a = ids(() => 0);
    const b = ids((i, t) => 1 + ((i * 7 + t) % 12));
    const ya = expectNoLeak(() => f.forward(a, { lengths }), 1);
    const yb = expectNoLeak(() => f.forward(b, { lengths }), 1);
    expect(ya.shape).toEqual([3, 3]);
    expect(values(yb)).toEqual(values(ya));
    tf.dispose([a, b, ya, yb]);
    f.dispose();
  });

  it('the paddingIdx row is zero and receives no gradient', () => {
    const f = new SequenceEncoder(opts);
    const w = f.embedding!.weight;
    expect(values(tf.tidy(() => tf.slice(w, [0, 0], [1, 5]))).map(Math.abs)).toEqual([
      0, 0, 0, 0, 0,
    ]);
    const a = ids(() => 0);
    const { value, grads } = tf.variableGrads(() => tf.sum(f.forward(a, { lengths })) as tf.Scalar);
    const g = grads[w.name];
    expect(g.shape).toEqual([13, 5]);
    expect(values(tf.tidy(() => tf.slice(g, [0, 0], [1, 5]))).map(Math.abs)).toEqual([
      0, 0, 0, 0, 0,
    ]);
    expect(values(tf.tidy(() => tf.abs(tf.slice(g, [3, 0], [1, 5])))).some((v) => v > 0)).toBe(
      true,
    );
    tf.dispose([a, value, ...Object.values(grads)]);
    f.dispose();
  });

  it('bad ids: float tensor, out of range, wrong rank', () => {
    const f = new SequenceEncoder(opts);
    const fl = tf.zeros([2, 3]);
    const oob = tf.tensor2d([[1, 13]], [1, 2], 'int32');
    const r3 = tf.zeros([2, 3, 1], 'int32');
    expectThrows(() => f.forward(fl), TypeError, [
      'SequenceEncoder.forward(input)',
      'int32',
      'float32',
    ]);
    expectThrows(() => f.forward(oob), RangeError, [
      'SequenceEncoder.forward(input)',
      '[0, 12]',
      '13',
    ]);
    expectThrows(() => f.forward(r3), ShapeError, [
      'SequenceEncoder.forward(input)',
      '[B, T]',
      '[2,3,1]',
    ]);
    const valid = tf.tensor2d([[1, 12]], [1, 2], 'int32');
    const ok = expectNoLeak(() => f.forward(valid), 1); // the module still works
    expect(ok.shape).toEqual([1, 3]);
    tf.dispose([fl, oob, r3, valid, ok]);
    f.dispose();
  });
});

describe('SequenceEncoder: state dict keys (PyTorch names)', () => {
  const cases: Array<[string, SequenceEncoderOptions, string[]]> = [
    [
      'ids, bi-LSTM, mean, proj',
      BI_LSTM_IDS,
      ['embedding.weight', ...rnnKeys(1, true), 'proj.weight', 'proj.bias'],
    ],
    [
      'features, 2-layer GRU, attention, proj',
      {
        inputSize: 6,
        cell: 'gru',
        hiddenSize: 4,
        numLayers: 2,
        pooling: 'attention',
        outputSize: 2,
      },
      [...rnnKeys(2, false), 'attention.weight', 'attention.bias', 'proj.weight', 'proj.bias'],
    ],
    [
      'features, RNN, max, no proj',
      { inputSize: 6, cell: 'rnn', hiddenSize: 4, pooling: 'max' },
      rnnKeys(1, false),
    ],
  ];
  it.each(cases)('%s', (_, opts, keys) => {
    const f = new SequenceEncoder(opts);
    expect(f.namedParameters().map(([k]) => k)).toEqual(keys);
    const sd = f.stateDict();
    expect(Object.keys(sd).sort()).toEqual([...keys].sort());
    const g = new SequenceEncoder(opts);
    g.loadStateDict(sd);
    for (const [k, p] of g.namedParameters()) expect(values(p), k).toEqual(values(sd[k]));
    f.dispose();
    g.dispose();
  });

  it('shapes: proj [out, D*H], attention [1, D*H], embedding [vocab, dim]', () => {
    const f = new SequenceEncoder({
      vocabSize: 9,
      embeddingDim: 3,
      cell: 'gru',
      hiddenSize: 4,
      bidirectional: true,
      pooling: 'attention',
      outputSize: 5,
    });
    const shapes = Object.fromEntries(f.namedParameters().map(([k, p]) => [k, p.shape]));
    expect(shapes['embedding.weight']).toEqual([9, 3]);
    expect(shapes['rnn.weight_ih_l0']).toEqual([12, 3]);
    expect(shapes['attention.weight']).toEqual([1, 8]);
    expect(shapes['attention.bias']).toEqual([1]);
    expect(shapes['proj.weight']).toEqual([5, 8]);
    f.dispose();
  });
});

describe('SequenceTagger', () => {
  it('[B,T,E] -> [B,T,numClasses] for every cell; keys end with proj', () => {
    const x = tf.randomNormal([2, 6, 5]);
    for (const cell of ['rnn', 'lstm', 'gru'] as const) {
      const tagger = new SequenceTagger({
        inputSize: 5,
        cell,
        hiddenSize: 4,
        bidirectional: true,
        numClasses: 7,
      });
      expect(tagger.numClasses).toBe(7);
      expect(tagger.pooling).toBe('none');
      const y = expectNoLeak(() => tagger.forward(x, { lengths: [6, 3] }), 1);
      expect(y.shape).toEqual([2, 6, 7]);
      const keys = tagger.namedParameters().map(([k]) => k);
      expect(keys.slice(-2)).toEqual(['proj.weight', 'proj.bias']);
      expect(keys).toEqual([...rnnKeys(1, true), 'proj.weight', 'proj.bias']);
      y.dispose();
      tagger.dispose();
    }
    x.dispose();
  });

  it('tags token ids [B,T] -> [B,T,numClasses]', () => {
    const tagger = new SequenceTagger({
      vocabSize: 10,
      embeddingDim: 4,
      paddingIdx: 0,
      cell: 'gru',
      hiddenSize: 3,
      numClasses: 4,
    });
    const ids = tf.tensor2d(
      [
        [1, 2, 3],
        [4, 0, 0],
      ],
      [2, 3],
      'int32',
    );
    const y = expectNoLeak(() => tagger.forward(ids, { lengths: [3, 1] }), 1);
    expect(y.shape).toEqual([2, 3, 4]);
    tf.dispose([ids, y]);
    tagger.dispose();
  });

  it('rejects pooling and outputSize (fixed for a tagger), unknown options and a missing numClasses', () => {
    const base = { inputSize: 5, cell: 'gru', hiddenSize: 4, numClasses: 3 } as const;
    expectThrows(() => new SequenceTagger({ ...base, pooling: 'mean' } as never), TypeError, [
      'SequenceTagger',
      '"pooling"',
      '"numClasses"',
    ]);
    expectThrows(() => new SequenceTagger({ ...base, outputSize: 3 } as never), TypeError, [
      'SequenceTagger',
      '"outputSize"',
    ]);
    expectThrows(() => new SequenceTagger({ ...base, classes: 3 } as never), TypeError, [
      'SequenceTagger',
      '"classes"',
    ]);
    expectThrows(() => new SequenceTagger({ ...base, numClasses: 0 }), RangeError, [
      'SequenceTagger({ numClasses })',
      'positive integer',
    ]);
    expectThrows(() => new SequenceTagger(undefined as never), RangeError, [
      'SequenceTagger({ numClasses })',
    ]);
  });
});

describe('SequenceEncoder: bad options', () => {
  const base: SequenceEncoderOptions = {
    inputSize: 5,
    cell: 'gru',
    hiddenSize: 4,
    pooling: 'mean',
  };

  it('name the option, what was expected and what was given, and leave nothing behind', () => {
    expectThrows(() => new SequenceEncoder({ ...base, hidden: 4 } as never), TypeError, [
      'SequenceEncoder',
      'unknown option "hidden"',
      '"hiddenSize"',
    ]);
    expectThrows(
      () => new SequenceEncoder({ ...base, vocabSize: 10, embeddingDim: 3 }),
      TypeError,
      ['SequenceEncoder', '{ vocabSize, embeddingDim }', '{ inputSize }', 'not both'],
    );
    expectThrows(
      () => new SequenceEncoder({ ...base, pooling: 'flatten', outputSize: 3 }),
      TypeError,
      ['SequenceEncoder({ outputSize })', "'flatten'"],
    );
    expectThrows(() => new SequenceEncoder({ ...base, cell: 'transformer' as never }), TypeError, [
      'SequenceEncoder({ cell })',
      "'rnn', 'lstm', 'gru'",
      '"transformer"',
    ]);
    expectThrows(() => new SequenceEncoder({ ...base, pooling: 'avg' as never }), TypeError, [
      'SequenceEncoder({ pooling })',
      "'mean'",
      "'none'",
      '"avg"',
    ]);
    expectThrows(() => new SequenceEncoder({ ...base, hiddenSize: 0 }), RangeError, [
      'SequenceEncoder({ hiddenSize })',
    ]);
    expectThrows(() => new SequenceEncoder({ ...base, numLayers: 1.5 }), RangeError, [
      'SequenceEncoder({ numLayers })',
    ]);
    expectThrows(() => new SequenceEncoder({ ...base, dropout: 1.5 }), RangeError, [
      'SequenceEncoder({ dropout })',
      '[0, 1]',
    ]);
    expectThrows(() => new SequenceEncoder({ ...base, outputSize: -2 }), RangeError, [
      'SequenceEncoder({ outputSize })',
    ]);
    expectThrows(() => new SequenceEncoder({ ...base, paddingIdx: 0 }), TypeError, [
      'SequenceEncoder({ paddingIdx })',
      'vocabSize',
    ]);
    expectThrows(
      () => new SequenceEncoder({ cell: 'gru', hiddenSize: 4, pooling: 'mean' }),
      RangeError,
      ['SequenceEncoder({ inputSize })'],
    );
    expectThrows(
      () => new SequenceEncoder({ ...base, inputSize: undefined, vocabSize: 10 }),
      RangeError,
      ['SequenceEncoder({ embeddingDim })'],
    );
    expectThrows(() => new SequenceEncoder(undefined as never), TypeError, [
      'SequenceEncoder',
      'options object',
    ]);
    // rejected by a submodule after validation: whatever was already created is freed
    expectThrows(
      () =>
        new SequenceEncoder({
          ...base,
          inputSize: undefined,
          vocabSize: 10,
          embeddingDim: 3,
          paddingIdx: 10,
        }),
      RangeError,
      ['paddingIdx'],
    );
  });

  it('bad forward arguments name SequenceEncoder.forward, and the module keeps working after each', () => {
    const f = new SequenceEncoder(base);
    const x = tf.randomNormal([2, 3, 5]);
    const good = () => {
      const y = expectNoLeak(() => f.forward(x, { lengths: [3, 2] }), 1);
      expect(y.shape).toEqual([2, 4]);
      y.dispose();
    };
    const rank2 = tf.zeros([2, 3]);
    const wide = tf.zeros([2, 3, 6]);
    const ints = tf.zeros([2, 3, 5], 'int32');
    const bad: Array<[() => unknown, new (...args: any[]) => Error, string[]]> = [
      [() => f.forward(rank2), ShapeError, ['SequenceEncoder.forward(input)', 'rank 3', '[2,3]']],
      [() => f.forward(wide), ShapeError, ['SequenceEncoder.forward(input)', '[*,*,5]', '[2,3,6]']],
      [() => f.forward(ints), TypeError, ['SequenceEncoder.forward(input)', 'float32', 'int32']],
      [
        () => f.forward(x, { lengths: [4, 1] }),
        RangeError,
        ['SequenceEncoder.forward(opts.lengths)', '[1, 3]', '4'],
      ],
      [
        () => f.forward(x, { lengths: [0, 1] }),
        RangeError,
        ['SequenceEncoder.forward(opts.lengths)', '0'],
      ],
      [
        () => f.forward(x, { lengths: [3] }),
        ShapeError,
        ['SequenceEncoder.forward(opts.lengths)', 'expected 2'],
      ],
      [
        () => f.forward(x, { lens: [3, 3] } as never),
        TypeError,
        ['SequenceEncoder.forward', '"lens"'],
      ],
    ];
    good();
    for (const [fn, type, parts] of bad) {
      expectThrows(fn, type, parts);
      good();
    }
    tf.dispose([x, rank2, wide, ints]);
    f.dispose();
    expectThrows(() => f.forward(x), DisposedError, ['disposed']);
  });
});

describe('SequenceEncoder: dropout and train()/eval()', () => {
  it('dropout between layers is active only in training mode', () => {
    const opts: SequenceEncoderOptions = {
      inputSize: 5,
      cell: 'lstm',
      hiddenSize: 8,
      numLayers: 2,
      dropout: 0.5,
      pooling: 'mean',
    };
    const f = new SequenceEncoder(opts);
    const plain = new SequenceEncoder({ ...opts, dropout: 0 });
    plain.loadStateDict(f.stateDict());
    const x = tf.randomNormal([3, 6, 5]);
    expect(f.training).toBe(true);
    const [t1, t2] = [f.forward(x), f.forward(x)];
    const ref = plain.forward(x);
    expect(values(t1)).not.toEqual(values(t2));
    expect(values(t1)).not.toEqual(values(ref));
    f.eval();
    expect(f.training).toBe(false);
    expect(f.rnn.training).toBe(false);
    const [e1, e2] = [f.forward(x), f.forward(x)];
    expect(values(e1)).toEqual(values(e2));
    expect(values(e1)).toEqual(values(ref));
    f.train();
    expect(f.rnn.training).toBe(true);
    const t3 = f.forward(x);
    expect(values(t3)).not.toEqual(values(ref));
    tf.dispose([x, t1, t2, ref, e1, e2, t3]);
    f.dispose();
    plain.dispose();
  });

  it('manualSeed makes training-mode dropout reproducible', () => {
    const opts: SequenceEncoderOptions = {
      inputSize: 5,
      cell: 'gru',
      hiddenSize: 8,
      numLayers: 3,
      dropout: 0.3,
      pooling: 'last',
    };
    const f = new SequenceEncoder(opts);
    const x = tf.randomNormal([2, 4, 5]);
    manualSeed(5);
    const a = f.forward(x);
    manualSeed(5);
    const b = f.forward(x);
    expect(values(a)).toEqual(values(b));
    tf.dispose([x, a, b]);
    f.dispose();
  });

  it('no tensors leak over many forward and gradient steps', () => {
    const f = new SequenceEncoder({
      vocabSize: 11,
      embeddingDim: 4,
      paddingIdx: 0,
      cell: 'lstm',
      hiddenSize: 5,
      numLayers: 2,
      dropout: 0.2,
      pooling: 'attention',
      outputSize: 2,
    });
    const ids = tf.tensor2d(
      [
        [1, 2, 3, 4],
        [5, 6, 0, 0],
      ],
      [2, 4],
      'int32',
    );
    const before = tf.memory().numTensors;
    for (let i = 0; i < 20; i++) {
      const { value, grads } = tf.variableGrads(
        () => tf.sum(f.forward(ids, { lengths: [4, 2] })) as tf.Scalar,
      );
      tf.dispose([value, ...Object.values(grads)]);
    }
    expect(tf.memory().numTensors).toBe(before);
    ids.dispose();
    f.dispose();
  });
});
