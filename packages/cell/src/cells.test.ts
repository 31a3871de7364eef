import {
  DisposedError,
  loadSafetensors,
  type Module,
  manualSeed,
  ShapeError,
  saveSafetensors,
} from '@rnnkit/ops';
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
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GRUCell, LSTMCell, RNNCell } from './cells.js';
import { ConcatRNNCell } from './elman.js';

const I = 5;
const H = 4;
const B = 3;

/** What the shared tests need to know about one cell class. */
interface Kind {
  name: string;
  gates: number;
  make: (opts?: Record<string, unknown>) => Module;
  /** Runs forward; the state (h, or [h, c]) is built from `h` (and `c`) when given. */
  run: (m: Module, x: tf.Tensor, h?: tf.Tensor, c?: tf.Tensor) => tf.Tensor[];
  /** Name of the h argument in error messages. */
  hArg: string;
}

const KINDS: Kind[] = [
  {
    name: 'RNNCell',
    gates: 1,
    make: (o) => new RNNCell({ inputSize: I, hiddenSize: H, ...o }),
    run: (m, x, h) => [(m as RNNCell).forward(x, h)],
    hArg: 'forward(h)',
  },
  {
    name: 'LSTMCell',
    gates: 4,
    make: (o) => new LSTMCell({ inputSize: I, hiddenSize: H, ...o }),
    run: (m, x, h, c) =>
      (m as LSTMCell).forward(
        x,
        h ? [h, c ?? tf.zerosLike(h)] : undefined,
      ) as unknown as tf.Tensor[],
    hArg: 'forward(state[0])',
  },
  {
    name: 'GRUCell',
    gates: 3,
    make: (o) => new GRUCell({ inputSize: I, hiddenSize: H, ...o }),
    run: (m, x, h) => [(m as GRUCell).forward(x, h)],
    hArg: 'forward(h)',
  },
];

describe.each(KINDS)('$name', (kind) => {
  const outs = kind.name === 'LSTMCell' ? 2 : 1;
  let x: tf.Tensor;
  let h: tf.Tensor;
  let c: tf.Tensor;
  beforeAll(() => {
    x = randn([B, I], 1);
    h = randn([B, H], 2);
    c = randn([B, H], 3);
  });
  afterAll(() => tf.dispose([x, h, c]));

  it('maps batched [B, I] to [B, H] and unbatched [I] to [H]', () => {
    const m = kind.make();
    const batched = kind.run(m, x, h, c);
    expect(batched.length).toBe(outs);
    for (const t of batched) expect(t.shape).toEqual([B, H]);
    const x1 = tf.reshape(tf.slice(x, [1, 0], [1, I]), [I]);
    const h1 = tf.reshape(tf.slice(h, [1, 0], [1, H]), [H]);
    const c1 = tf.reshape(tf.slice(c, [1, 0], [1, H]), [H]);
    const single = kind.run(m, x1, h1, c1);
    for (const [k, t] of single.entries()) {
      expect(t.shape).toEqual([H]);
      // The unbatched result is row 1 of the batched one.
      const row = tf.reshape(tf.slice(batched[k], [1, 0], [1, H]), [H]);
      expectClose(t, row, 1e-6);
      row.dispose();
    }
    tf.dispose([...batched, ...single, x1, h1, c1]);
    m.dispose();
  });

  it('treats a missing state as zeros', () => {
    const m = kind.make();
    const zeros = tf.zeros([B, H]);
    const a = kind.run(m, x);
    const b = kind.run(m, x, zeros, zeros);
    a.forEach((t, k) => {
      expectEqual(t, b[k]);
    });
    const x1 = tf.zeros([I]);
    const [u] = kind.run(m, x1);
    expect(u.shape).toEqual([H]);
    tf.dispose([...a, ...b, zeros, x1, u]);
    m.dispose();
  });

  it("has PyTorch's parameter keys and shapes: weight_ih [G*H, I], weight_hh [G*H, H], biases [G*H]", () => {
    const G = kind.gates * H;
    const m = kind.make();
    expect(paramShapes(m)).toEqual([
      ['weight_ih', [G, I]],
      ['weight_hh', [G, H]],
      ['bias_ih', [G]],
      ['bias_hh', [G]],
    ]);
    const sd = m.stateDict();
    expect(Object.keys(sd)).toEqual(['weight_ih', 'weight_hh', 'bias_ih', 'bias_hh']);
    disposeAll(sd);
    const nb = kind.make({ bias: false });
    expect(paramShapes(nb)).toEqual([
      ['weight_ih', [G, I]],
      ['weight_hh', [G, H]],
    ]);
    m.dispose();
    nb.dispose();
  });

  it('initialises every parameter in U(-1/sqrt(H), 1/sqrt(H)) as PyTorch', () => {
    const m = kind.make();
    const k = 1 / Math.sqrt(H);
    for (const [name, v] of m.namedParameters()) {
      const vals = values(v);
      expect(maxAbs(v), name).toBeLessThanOrEqual(k * (1 + 1e-6)); // float32 rounding
      expect(new Set(vals).size, name).toBeGreaterThan(vals.length / 2);
    }
    m.dispose();
  });

  it('is reproducible under manualSeed', () => {
    const a = seeded(11, () => kind.make());
    const b = seeded(11, () => kind.make());
    const d = seeded(12, () => kind.make());
    const pa = a.parameters();
    b.parameters().forEach((v, i) => {
      expectEqual(v, pa[i]);
    });
    expect(values(d.parameters()[0])).not.toEqual(values(pa[0]));
    for (const m of [a, b, d]) m.dispose();
  });

  it('round-trips stateDict -> saveSafetensors -> loadSafetensors -> loadStateDict', () => {
    const a = seeded(1, () => kind.make());
    const b = seeded(2, () => kind.make());
    const ya = kind.run(a, x, h, c);
    const before = kind.run(b, x, h, c);
    expect(values(before[0])).not.toEqual(values(ya[0]));
    const sd = a.stateDict();
    const loaded = loadSafetensors(saveSafetensors(sd));
    expect(Object.keys(loaded)).toEqual(Object.keys(sd));
    b.loadStateDict(loaded);
    const yb = kind.run(b, x, h, c);
    ya.forEach((t, k) => {
      expectEqual(yb[k], t);
    });
    disposeAll(sd);
    disposeAll(loaded);
    tf.dispose([...ya, ...yb, ...before]);
    a.dispose();
    b.dispose();
  });

  it('leaks no tensors in forward (batched, unbatched, stateless) or backward', () => {
    const m = kind.make();
    tf.dispose(expectNoLeak(() => kind.run(m, x, h, c), outs));
    tf.dispose(expectNoLeak(() => kind.run(m, x), outs));
    const x1 = tf.ones([I]);
    tf.dispose(expectNoLeak(() => kind.run(m, x1), outs));
    const before = tf.memory().numTensors;
    const loss = () => tf.tidy(() => tf.addN(kind.run(m, x, h, c).map((t) => tf.sum(t))));
    const { value, grads } = tf.variableGrads(loss as () => tf.Scalar, m.parameters());
    expect(Object.keys(grads).length).toBe(4);
    for (const g of Object.values(grads)) expect(values(g).every(Number.isFinite)).toBe(true);
    tf.dispose([value, ...Object.values(grads)]);
    const { value: v2, grads: g2 } = tf.valueAndGrads((xx: tf.Tensor, hh: tf.Tensor) =>
      tf.tidy(() => tf.addN(kind.run(m, xx, hh, c).map((t) => tf.sum(t)))),
    )([x, h]);
    expect(g2.map((g) => g.shape)).toEqual([
      [B, I],
      [B, H],
    ]);
    tf.dispose([v2, ...g2]);
    expect(tf.memory().numTensors).toBe(before);
    x1.dispose();
    m.dispose();
  });

  it('rejects bad constructor options with a named error and allocates nothing', () => {
    const N = kind.name;
    const make = (o: unknown) => () => kind.make(o as Record<string, unknown>);
    const cases: Array<[string, () => unknown, new (...a: any[]) => Error, string[]]> = [
      [
        'hidden_size typo',
        make({ hidden_size: 4 }),
        TypeError,
        [N, 'unknown option "hidden_size"', 'did you mean "hiddenSize"'],
      ],
      [
        'input_size typo',
        () =>
          kind.name === 'RNNCell'
            ? new RNNCell({ input_size: 5, hiddenSize: 4 } as any)
            : kind.name === 'LSTMCell'
              ? new LSTMCell({ input_size: 5, hiddenSize: 4 } as any)
              : new GRUCell({ input_size: 5, hiddenSize: 4 } as any),
        TypeError,
        ['unknown option "input_size"', 'did you mean "inputSize"'],
      ],
      [
        'hiddenSize -3',
        make({ hiddenSize: -3 }),
        RangeError,
        [`${N}({ hiddenSize })`, 'an integer >= 0', 'got -3'],
      ],
      [
        'hiddenSize 2.5',
        make({ hiddenSize: 2.5 }),
        RangeError,
        [`${N}({ hiddenSize })`, 'an integer >= 0', 'got 2.5'],
      ],
      [
        'hiddenSize "4"',
        make({ hiddenSize: '4' }),
        RangeError,
        [`${N}({ hiddenSize })`, 'an integer >= 0', 'got "4"'],
      ],
      [
        'hiddenSize NaN',
        make({ hiddenSize: Number.NaN }),
        RangeError,
        [`${N}({ hiddenSize })`, 'got NaN'],
      ],
      [
        'inputSize 0',
        make({ inputSize: 0 }),
        RangeError,
        [`${N}({ inputSize })`, 'positive integer', 'got 0'],
      ],
      [
        'inputSize missing',
        make({ inputSize: undefined }),
        RangeError,
        [`${N}({ inputSize })`, 'got undefined'],
      ],
      [
        'bias "no"',
        make({ bias: 'no' }),
        TypeError,
        [`${N}({ bias })`, 'true or false', 'got "no"'],
      ],
      [
        kind.name === 'RNNCell' ? 'nonlinearity sigmoid' : 'nonlinearity (unknown here)',
        make({ nonlinearity: 'sigmoid' }),
        TypeError,
        kind.name === 'RNNCell'
          ? ['RNNCell({ nonlinearity })', "'tanh', 'relu'", 'got "sigmoid"']
          : [N, 'unknown option "nonlinearity"'],
      ],
    ];
    for (const [label, fn, cls, parts] of cases) {
      const err = expectThrows(fn, cls, parts);
      expect(err.message, label).toContain(N);
    }
    // Options that are not an object at all.
    expectThrows(
      () =>
        kind.name === 'RNNCell'
          ? new RNNCell(5 as any)
          : kind.name === 'LSTMCell'
            ? new LSTMCell(5 as any)
            : new GRUCell(5 as any),
      TypeError,
      [N, 'expected an options object', 'got 5'],
    );
    const ok = kind.make();
    tf.dispose(kind.run(ok, x));
    ok.dispose();
  });

  it('rejects bad forward input with a named error and still works afterwards', () => {
    const m = kind.make();
    const N = kind.name;
    const ref = kind.run(m, x, h, c);
    const disposed = tf.ones([B, I]);
    disposed.dispose();
    const disposedH = tf.ones([B, H]);
    disposedH.dispose();
    const t = (shape: number[], dtype: tf.DataType = 'float32') => tf.zeros(shape, dtype);
    const cases: Array<[string, () => unknown[], new (...a: any[]) => Error, string[]]> = [
      [
        'rank 3 x',
        () => [t([B, 1, I])],
        ShapeError,
        [`${N}.forward(x)`, 'rank 1 or 2', 'got rank 3', '[3,1,5]'],
      ],
      ['scalar x', () => [tf.scalar(1)], ShapeError, [`${N}.forward(x)`, 'rank 1 or 2', '[]']],
      [
        'wrong feature size',
        () => [t([B, I + 1])],
        ShapeError,
        [`${N}.forward(x)`, `inputSize = ${I}`, '[3,6]'],
      ],
      [
        'wrong feature size unbatched',
        () => [t([I - 1])],
        ShapeError,
        [`${N}.forward(x)`, `inputSize = ${I}`, '[4]'],
      ],
      ['int32 x', () => [t([B, I], 'int32')], TypeError, [`${N}.forward(x)`, 'float32', 'int32']],
      ['disposed x', () => [disposed], DisposedError, [`${N}.forward(x)`, 'disposed', '[3,5]']],
      [
        'x not a tensor',
        () => [[1, 2, 3]],
        TypeError,
        [`${N}.forward(x)`, 'tf.Tensor', 'an array of length 3'],
      ],
      [
        'h batch mismatch',
        () => [x, t([B - 1, H])],
        ShapeError,
        [`${N}.${kind.hArg}`, '[3,4]', 'got [2,4]'],
      ],
      [
        'h wrong hidden size',
        () => [x, t([B, H + 1])],
        ShapeError,
        [`${N}.${kind.hArg}`, '[3,4]', 'got [3,5]'],
      ],
      [
        'batched h with unbatched x',
        () => [t([I]), t([B, H])],
        ShapeError,
        [`${N}.${kind.hArg}`, 'expected shape [4]', 'got [3,4]'],
      ],
      [
        'unbatched h with batched x',
        () => [x, t([H])],
        ShapeError,
        [`${N}.${kind.hArg}`, 'expected shape [3,4]', 'got [4]'],
      ],
      ['disposed h', () => [x, disposedH], DisposedError, [`${N}.${kind.hArg}`, 'disposed']],
    ];
    const call = (args: unknown[]) =>
      kind.name === 'LSTMCell'
        ? (m as LSTMCell).forward(
            args[0] as tf.Tensor,
            args.length > 1 ? [args[1] as tf.Tensor, args[1] as tf.Tensor] : undefined,
          )
        : (m as RNNCell).forward(args[0] as tf.Tensor, args[1] as tf.Tensor | undefined);
    const lstmCases: typeof cases = [
      [
        'state is a tensor',
        () => [x, h],
        TypeError,
        ['LSTMCell.forward(state)', 'expected [h, c]', 'a float32 tensor of shape [3,4]'],
      ],
      [
        'state of length 1',
        () => [x, [h]],
        TypeError,
        ['LSTMCell.forward(state)', 'expected [h, c]', 'got [a float32 tensor of shape [3,4]]'],
      ],
      [
        'state of length 3',
        () => [x, [h, c, c]],
        TypeError,
        ['LSTMCell.forward(state)', 'expected [h, c]', 'got [a float32'],
      ],
      [
        'state with a missing c',
        () => [x, [h, undefined]],
        TypeError,
        ['LSTMCell.forward(state)', 'expected [h, c]', 'undefined]'],
      ],
      [
        'c of wrong shape',
        () => [x, [h, t([B, H + 2])]],
        ShapeError,
        ['LSTMCell.forward(state[1])', '[3,4]', 'got [3,6]'],
      ],
    ];
    const check = (
      args: unknown[],
      cls: new (...a: any[]) => Error,
      parts: string[],
      raw: boolean,
    ) => {
      expectThrows(
        () =>
          raw
            ? (m as LSTMCell).forward(args[0] as tf.Tensor, args[1] as [tf.Tensor, tf.Tensor])
            : call(args),
        cls,
        parts,
      );
      tf.dispose(
        args
          .flat()
          .filter((a): a is tf.Tensor => a instanceof tf.Tensor && a !== x && a !== h && a !== c),
      );
      // The module still works and gives the same numbers.
      const again = kind.run(m, x, h, c);
      again.forEach((a, k) => {
        expectEqual(a, ref[k]);
      });
      tf.dispose(again);
    };
    for (const [, args, cls, parts] of cases) check(args(), cls, parts, false);
    if (kind.name === 'LSTMCell')
      for (const [, args, cls, parts] of lstmCases) check(args(), cls, parts, true);
    tf.dispose(ref);
    m.dispose();
  });

  it('throws DisposedError after dispose() (and dispose() twice is harmless)', () => {
    const m = kind.make();
    m.dispose();
    m.dispose();
    expectThrows(() => kind.run(m, x), DisposedError, [kind.name, 'disposed']);
    expectThrows(() => m.stateDict(), DisposedError, [kind.name, 'disposed']);
  });
});

describe('RNNCell nonlinearity', () => {
  it("'relu' gives non-negative outputs, 'tanh' outputs in (-1, 1), matching the formula", () => {
    const x = tf.tidy(() => tf.mul(randn([6, I], 5), 3));
    const h = randn([6, H], 6);
    for (const nl of ['relu', 'tanh'] as const) {
      const m = new RNNCell({ inputSize: I, hiddenSize: H, nonlinearity: nl });
      expect(m.nonlinearity).toBe(nl);
      const y = m.forward(x, h);
      const [wih, whh, bih, bhh] = m.parameters();
      const pre = tf.tidy(() =>
        tf.add(
          tf.add(tf.matMul(x, wih, false, true), bih),
          tf.add(tf.matMul(h, whh, false, true), bhh),
        ),
      );
      const want = nl === 'relu' ? tf.relu(pre) : tf.tanh(pre);
      expectClose(y, want, 1e-5);
      const v = values(y);
      if (nl === 'relu') {
        expect(v.every((a) => a >= 0)).toBe(true);
        expect(v.some((a) => a === 0)).toBe(true);
      } else expect(v.every((a) => a > -1 && a < 1)).toBe(true);
      tf.dispose([y, pre, want]);
      m.dispose();
    }
    tf.dispose([x, h]);
  });

  it('without bias computes nonlinearity(x W_ih^T + h W_hh^T)', () => {
    const m = new RNNCell({ inputSize: I, hiddenSize: H, bias: false });
    const x = randn([B, I], 7);
    const y = m.forward(x);
    const want = tf.tidy(() => tf.tanh(tf.matMul(x, m.parameters()[0], false, true)));
    expectClose(y, want, 1e-6);
    tf.dispose([x, y, want]);
    m.dispose();
  });
});

describe('ConcatRNNCell (the seed recurrence)', () => {
  it('computes act(Linear(cat([x, h]))) with keys weight [H, I+H], bias [H]', () => {
    manualSeed(3);
    for (const activation of ['relu', 'tanh'] as const) {
      const m = new ConcatRNNCell({ inputSize: I, hiddenSize: H, activation });
      expect(paramShapes(m)).toEqual([
        ['weight', [H, I + H]],
        ['bias', [H]],
      ]);
      const bound = 1 / Math.sqrt(I + H);
      expect(maxAbs(m.weight)).toBeLessThanOrEqual(bound * (1 + 1e-6));
      const x = randn([B, I], 8);
      const h = randn([B, H], 9);
      const y = expectNoLeak(() => m.forward(x, h), 1);
      const want = tf.tidy(() => {
        const pre = tf.add(tf.matMul(tf.concat([x, h], 1), m.weight, false, true), m.bias);
        return activation === 'relu' ? tf.relu(pre) : tf.tanh(pre);
      });
      expectClose(y, want, 1e-6);
      const y0 = m.forward(x);
      const z = tf.zeros([B, H]);
      const y0z = m.forward(x, z);
      expectEqual(y0, y0z);
      tf.dispose([x, h, y, want, y0, z, y0z]);
      m.dispose();
    }
  });

  it('defaults to relu like the seed', () => {
    const m = new ConcatRNNCell({ inputSize: I, hiddenSize: H });
    expect(m.activation).toBe('relu');
    m.dispose();
  });

  it('rejects bad options and input with named errors, and still works afterwards', () => {
    expectThrows(() => new ConcatRNNCell({ inputSize: I, hidden_size: H } as any), TypeError, [
      'ConcatRNNCell',
      'unknown option "hidden_size"',
      'did you mean "hiddenSize"',
    ]);
    expectThrows(() => new ConcatRNNCell({ inputSize: I, hiddenSize: 0 }), RangeError, [
      'ConcatRNNCell({ hiddenSize })',
      'positive integer',
      'got 0',
    ]);
    expectThrows(() => new ConcatRNNCell({ inputSize: 1.5, hiddenSize: H }), RangeError, [
      'ConcatRNNCell({ inputSize })',
      'got 1.5',
    ]);
    expectThrows(
      () => new ConcatRNNCell({ inputSize: I, hiddenSize: H, activation: 'sigmoid' as any }),
      TypeError,
      ['ConcatRNNCell({ activation })', "'relu', 'tanh'", 'got "sigmoid"'],
    );
    const m = new ConcatRNNCell({ inputSize: I, hiddenSize: H });
    const x = randn([B, I], 10);
    const ref = m.forward(x);
    const bad: Array<[tf.Tensor, tf.Tensor | undefined, new (...a: any[]) => Error, string[]]> = [
      [tf.zeros([I]), undefined, ShapeError, ['ConcatRNNCell.forward(x)', 'rank 2', '[5]']],
      [tf.zeros([B, I + 2]), undefined, ShapeError, ['ConcatRNNCell.forward(x)', '[*,5]', '[3,7]']],
      [tf.zeros([B, I], 'int32'), undefined, TypeError, ['forward(x)', 'float32', 'int32']],
      [x, tf.zeros([B + 1, H]), ShapeError, ['ConcatRNNCell.forward(h)', '[3,4]', 'got [4,4]']],
      [x, tf.zeros([B, H + 1]), ShapeError, ['ConcatRNNCell.forward(h)', '[3,4]', 'got [3,5]']],
    ];
    for (const [bx, bh, cls, parts] of bad) {
      expectThrows(() => m.forward(bx, bh), cls, parts);
      if (bx !== x) bx.dispose();
      bh?.dispose();
      const again = m.forward(x);
      expectEqual(again, ref);
      again.dispose();
    }
    const gone = tf.zeros([B, I]);
    gone.dispose();
    expectThrows(() => m.forward(gone), DisposedError, ['ConcatRNNCell.forward(x)', 'disposed']);
    tf.dispose([x, ref]);
    m.dispose();
    expectThrows(() => m.forward(x), DisposedError, ['ConcatRNNCell', 'disposed']);
  });
});
