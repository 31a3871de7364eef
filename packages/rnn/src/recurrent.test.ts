// Behaviour shared by RNN, LSTM and GRU: shapes for every layout, agreement with a reference built
// from the cells, lengths (pack_padded_sequence) semantics, dropout between layers, bad input,
// leaks, state-dict round trips and seeding. PyTorch parity itself is in parity.test.ts.
import { GRUCell, LSTMCell, RNNCell } from '@rnnkit/cell';
import {
  DisposedError,
  loadSafetensors,
  type Module,
  manualSeed,
  ShapeError,
  saveSafetensors,
} from '@rnnkit/ops';
import {
  at,
  disposeAll,
  expectClose,
  expectEqual,
  expectNoLeak,
  expectThrows,
  maxAbsDiff,
  randn,
  seeded,
  sliceAxis,
  values,
} from '@rnnkit/vitest-config/helpers';
import { KINDS, type LayerKind, type Run } from '@rnnkit/vitest-config/layers';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it, vi } from 'vitest';
import type { ForwardOptions } from './options.js';
import type { RecurrentLayer } from './recurrent.js';

/** [B, T, F] <-> [T, B, F] */
const swap01 = (t: tf.Tensor) => tf.transpose(t, [1, 0, 2]);

/**
 * The same stack computed step by step with RNNCell / LSTMCell / GRUCell loaded from m's state
 * dict: x is time-major [T, B, I], h0/c0 [L*D, B, H]. Returns time-major output and final states.
 */
function reference(
  kind: LayerKind,
  m: RecurrentLayer,
  x: tf.Tensor,
  h0: tf.Tensor,
  c0: tf.Tensor,
): { output: tf.Tensor; hN: tf.Tensor; cN: tf.Tensor } {
  const sd = m.stateDict();
  const cells: Module[] = [];
  const result = tf.tidy(() => {
    const [T] = x.shape;
    const D = m.numDirections;
    let input = x;
    const hs: tf.Tensor[] = [];
    const cs: tf.Tensor[] = [];
    for (let layer = 0; layer < m.numLayers; layer++) {
      const outs: tf.Tensor[] = [];
      for (let d = 0; d < D; d++) {
        const sfx = `_l${layer}${d === 1 ? '_reverse' : ''}`;
        const opts = {
          inputSize: input.shape[2] as number,
          hiddenSize: m.hiddenSize,
          bias: m.bias,
        };
        const cell =
          kind.name === 'RNN'
            ? new RNNCell({ ...opts, nonlinearity: (m as any).nonlinearity })
            : kind.name === 'LSTM'
              ? new LSTMCell(opts)
              : new GRUCell(opts);
        cells.push(cell);
        const own: Record<string, tf.Tensor> = {};
        for (const k of ['weight_ih', 'weight_hh', 'bias_ih', 'bias_hh'])
          if (`${k}${sfx}` in sd) own[k] = sd[`${k}${sfx}`];
        cell.loadStateDict(own);
        let h = at(h0, layer * D + d);
        let c = at(c0, layer * D + d);
        const steps: tf.Tensor[] = new Array(T);
        for (let s = 0; s < T; s++) {
          const t = d === 1 ? T - 1 - s : s;
          const xt = at(input, t);
          if (kind.name === 'LSTM') [h, c] = (cell as LSTMCell).forward(xt, [h, c]);
          else h = (cell as RNNCell).forward(xt, h);
          steps[t] = h;
        }
        outs.push(tf.stack(steps));
        hs.push(h);
        cs.push(c);
      }
      input = outs.length === 1 ? outs[0] : tf.concat(outs, 2);
    }
    return { output: input, hN: tf.stack(hs), cN: tf.stack(cs) };
  });
  for (const c of cells) c.dispose();
  disposeAll(sd);
  return result;
}

const I = 3;
const H = 4;

describe.each(KINDS)('$name', (kind) => {
  const N = kind.name;
  const isLSTM = N === 'LSTM';
  /** forward with [h0, c0] for LSTM, h0 otherwise */
  const run = (
    m: RecurrentLayer,
    x: tf.Tensor,
    h0?: tf.Tensor,
    c0?: tf.Tensor,
    o?: ForwardOptions,
  ) => kind.run(m, x, h0, isLSTM ? c0 : undefined, o);

  describe('shapes', () => {
    it('gives output [.., T, D*P], hN [L*D, (B,) P] for every layout, depth and direction', () => {
      const T = 5;
      const B = 2;
      for (const numLayers of [1, 2, 3])
        for (const bidirectional of [false, true])
          for (const batchFirst of [false, true])
            for (const projSize of isLSTM ? [0, 2] : [0]) {
              const m = kind.make({
                inputSize: I,
                hiddenSize: H,
                numLayers,
                bidirectional,
                batchFirst,
                ...(projSize ? { projSize } : {}),
              });
              const D = bidirectional ? 2 : 1;
              const P = projSize || H;
              const LD = numLayers * D;
              const label = JSON.stringify({ numLayers, bidirectional, batchFirst, projSize });
              for (const batched of [true, false]) {
                const inShape = batched ? (batchFirst ? [B, T, I] : [T, B, I]) : [T, I];
                const x = randn(inShape, 1);
                const r = expectNoLeak(() => run(m, x), isLSTM ? 3 : 2);
                const outShape = batched
                  ? batchFirst
                    ? [B, T, D * P]
                    : [T, B, D * P]
                  : [T, D * P];
                expect(r.output.shape, label).toEqual(outShape);
                expect(r.hN.shape, label).toEqual(batched ? [LD, B, P] : [LD, P]);
                if (isLSTM) expect(r.cN!.shape, label).toEqual(batched ? [LD, B, H] : [LD, H]);
                // Time-major view [T, (B,) D*P]: the forward direction ends at T-1, the reverse at 0.
                const tm = batched && batchFirst ? swap01(r.output) : r.output;
                const lastFwd = sliceAxis(at(tm, T - 1), tm.rank - 2, 0, P);
                const hFwd = at(r.hN, LD - D);
                expectEqual(lastFwd, hFwd);
                const extra = [tm, lastFwd, hFwd];
                if (bidirectional) {
                  const firstRev = sliceAxis(at(tm, 0), tm.rank - 2, P, P);
                  const hRev = at(r.hN, LD - 1);
                  expectEqual(firstRev, hRev);
                  extra.push(firstRev, hRev);
                }
                tf.dispose([x, ...r.all, ...extra.filter((t) => t !== r.output)]);
              }
              m.dispose();
            }
    });

    it('treats missing states as zeros', () => {
      const m = kind.make({ inputSize: I, hiddenSize: H, numLayers: 2, bidirectional: true });
      const x = randn([4, 2, I], 2);
      const z = tf.zeros([4, 2, H]);
      const a = run(m, x);
      const b = run(m, x, z, z);
      a.all.forEach((t, k) => {
        expectEqual(t, b.all[k]);
      });
      tf.dispose([x, z, ...a.all, ...b.all]);
      m.dispose();
    });
  });

  it('matches a step-by-step reference built from its cell, for stacked bidirectional layers', () => {
    for (const batchFirst of [false, true]) {
      for (const bias of [true, false]) {
        const m = kind.make({
          inputSize: I,
          hiddenSize: H,
          numLayers: 3,
          bidirectional: true,
          batchFirst,
          bias,
          ...(N === 'RNN' && !bias ? { nonlinearity: 'relu' } : {}),
        });
        const x = randn([5, 2, I], 3);
        const h0 = randn([6, 2, H], 4);
        const c0 = randn([6, 2, H], 5);
        const xin = batchFirst ? swap01(x) : x;
        const r = run(m, xin, h0, c0);
        const ref = reference(kind, m, x, h0, c0);
        const out = batchFirst ? swap01(r.output) : r.output;
        expectClose(out, ref.output, 1e-5);
        expectClose(r.hN, ref.hN, 1e-5);
        if (isLSTM) expectClose(r.cN!, ref.cN, 1e-5);
        tf.dispose([x, h0, c0, xin, out, ...r.all, ref.output, ref.hN, ref.cN]);
        m.dispose();
      }
    }
  });

  describe('lengths (pack_padded_sequence semantics)', () => {
    const T = 6;
    const lengths = [3, 6, 1];
    const B = lengths.length;
    /** [T, B, 1] float mask, 1 while t < length */
    const maskOf = (ls: number[]) =>
      tf.tensor3d(
        Array.from({ length: T * ls.length }, (_, i) =>
          Math.floor(i / ls.length) < ls[i % ls.length] ? 1 : 0,
        ),
        [T, ls.length, 1],
      );

    for (const bidirectional of [false, true])
      for (const batchFirst of [false, true])
        it(`zeroes padded outputs and ends each state at its last valid step (bidirectional: ${bidirectional}, batchFirst: ${batchFirst})`, () => {
          const m = kind.make({
            inputSize: I,
            hiddenSize: H,
            numLayers: 2,
            bidirectional,
            batchFirst,
          });
          const D = bidirectional ? 2 : 1;
          const LD = 2 * D;
          const x = randn([T, B, I], 6); // time-major
          const mask = maskOf(lengths);
          // Whatever sits in the padding must not matter.
          const garbage = tf.tidy(() =>
            tf.add(tf.mul(x, mask), tf.mul(tf.mul(randn([T, B, I], 7), 1e3), tf.sub(1, mask))),
          );
          const h0 = randn([LD, B, H], 8);
          const c0 = randn([LD, B, H], 9);
          const lay = (t: tf.Tensor) => (batchFirst ? swap01(t) : t);
          const [xin, gin] = [lay(x), lay(garbage)];
          const r = expectNoLeak(() => run(m, xin, h0, c0, { lengths }), isLSTM ? 3 : 2);
          const g = run(m, gin, h0, c0, { lengths });
          expect(maxAbsDiff(r.output, g.output)).toBe(0);
          expect(maxAbsDiff(r.hN, g.hN)).toBe(0);
          if (isLSTM) expect(maxAbsDiff(r.cN!, g.cN!)).toBe(0);

          const out = batchFirst ? swap01(r.output) : r.output; // [T, B, D*H]
          const ov = values(out);
          for (let t = 0; t < T; t++)
            for (let b = 0; b < B; b++)
              for (let j = 0; j < D * H; j++) {
                const v = ov[(t * B + b) * D * H + j];
                if (t >= lengths[b]) expect(v, `output[t=${t}, b=${b}, ${j}]`).toBe(0);
                else expect(v).not.toBe(0);
              }
          const hv = values(r.hN);
          for (let b = 0; b < B; b++) {
            // forward direction of the last layer: output at t = length - 1
            const fwd = ov.slice(
              ((lengths[b] - 1) * B + b) * D * H,
              ((lengths[b] - 1) * B + b) * D * H + H,
            );
            const hF = hv.slice(((LD - D) * B + b) * H, ((LD - D) * B + b + 1) * H);
            expect(hF).toEqual(fwd);
            if (bidirectional) {
              // reverse direction starts at the last valid step and ends at t = 0
              const rev = ov.slice(b * D * H + H, b * D * H + 2 * H);
              const hR = hv.slice(((LD - 1) * B + b) * H, ((LD - 1) * B + b + 1) * H);
              expect(hR).toEqual(rev);
            }
          }

          // Each sequence equals running it alone, cut to its length, from its own initial state.
          for (let b = 0; b < B; b++) {
            const L = lengths[b];
            const xb = sliceAxis(sliceAxis(x, 1, b, 1), 0, 0, L);
            const hb = sliceAxis(h0, 1, b, 1);
            const cb = sliceAxis(c0, 1, b, 1);
            const alone = run(m, lay(xb), hb, cb);
            const mine = sliceAxis(sliceAxis(out, 1, b, 1), 0, 0, L);
            const aloneOut = batchFirst ? swap01(alone.output) : alone.output;
            expectClose(mine, aloneOut, 1e-5);
            const hMine = sliceAxis(r.hN, 1, b, 1);
            expectClose(hMine, alone.hN, 1e-5);
            const extra = [hMine];
            if (isLSTM) {
              const cMine = sliceAxis(r.cN!, 1, b, 1);
              expectClose(cMine, alone.cN!, 1e-5);
              extra.push(cMine);
            }
            tf.dispose([xb, hb, cb, mine, aloneOut, ...alone.all, ...extra]);
          }
          tf.dispose([x, mask, garbage, h0, c0, xin, gin, out, ...r.all, ...g.all]);
          m.dispose();
        });

    it('lengths all equal to T give exactly the result without lengths; typed arrays and tensors work too', () => {
      const m = kind.make({ inputSize: I, hiddenSize: H, numLayers: 2, bidirectional: true });
      const x = randn([T, B, I], 10);
      const a = run(m, x);
      const b = run(m, x, undefined, undefined, { lengths: [T, T, T] });
      a.all.forEach((t, k) => {
        expectEqual(b.all[k], t);
      });
      const c = run(m, x, undefined, undefined, { lengths });
      const d = run(m, x, undefined, undefined, { lengths: Int32Array.from(lengths) });
      const lt = tf.tensor1d(lengths, 'int32');
      const e = run(m, x, undefined, undefined, { lengths: lt as unknown as number[] });
      c.all.forEach((t, k) => {
        expectEqual(d.all[k], t);
        expectEqual(e.all[k], t);
      });
      tf.dispose([x, lt, ...a.all, ...b.all, ...c.all, ...d.all, ...e.all]);
      m.dispose();
    });

    it('rejects bad lengths naming opts.lengths, what it expected and what it got', () => {
      const m = kind.make({ inputSize: I, hiddenSize: H, numLayers: 2 });
      const x = randn([T, B, I], 11);
      const ref = run(m, x, undefined, undefined, { lengths });
      const gone = tf.tensor1d(lengths, 'int32');
      gone.dispose();
      const arg = `${N}.forward(opts.lengths)`;
      const cases: Array<[unknown, new (...a: any[]) => Error, string[]]> = [
        [[3, 6], ShapeError, [arg, 'expected 3 lengths', 'got 2']],
        [[3, 6, 1, 1], ShapeError, [arg, 'expected 3 lengths', 'got 4']],
        [[], ShapeError, [arg, 'expected 3 lengths', 'got 0']],
        [[3, 0, 1], RangeError, [arg, `expected integers in [1, ${T}]`, 'got 0 at index 1']],
        [[3, 6, -1], RangeError, [arg, `expected integers in [1, ${T}]`, 'got -1 at index 2']],
        [[3, 2.5, 1], RangeError, [arg, `expected integers in [1, ${T}]`, 'got 2.5 at index 1']],
        [[T + 1, 6, 1], RangeError, [arg, `expected integers in [1, ${T}]`, 'got 7 at index 0']],
        [[3, Number.NaN, 1], RangeError, [arg, 'got NaN at index 1']],
        [[3, '6', 1], RangeError, [arg, 'got "6" at index 1']],
        [6, TypeError, [arg, 'expected an array of 3 lengths', 'got 6']],
        ['361', TypeError, [arg, 'expected an array of 3 lengths', 'got "361"']],
        [null, TypeError, [arg, 'expected an array of 3 lengths', 'got null']],
        [gone, DisposedError, [arg, 'disposed']],
      ];
      for (const [bad, cls, parts] of cases) {
        expectThrows(
          () => run(m, x, undefined, undefined, { lengths: bad as number[] }),
          cls,
          parts,
        );
        const again = run(m, x, undefined, undefined, { lengths });
        again.all.forEach((t, k) => {
          expectEqual(t, ref.all[k]);
        });
        tf.dispose(again.all);
      }
      const xu = randn([T, I], 12);
      expectThrows(() => run(m, xu, undefined, undefined, { lengths: [T] }), TypeError, [
        arg,
        'expected batched input',
        `got unbatched input of shape [${T},${I}]`,
      ]);
      tf.dispose([x, xu, ...ref.all]);
      m.dispose();
    });
  });

  describe('dropout between layers', () => {
    it('in train() two calls differ, in eval() calls are deterministic and equal to dropout 0', () => {
      const opts = { inputSize: I, hiddenSize: 8, numLayers: 3, dropout: 0.5 };
      const m = seeded(1, () => kind.make(opts));
      const plain = seeded(1, () => kind.make({ ...opts, dropout: 0 }));
      expect(m.training).toBe(true); // PyTorch modules start in training mode
      const x = randn([5, 2, I], 13);
      const a = run(m, x);
      const b = run(m, x);
      expect(maxAbsDiff(a.output, b.output)).toBeGreaterThan(0);
      // Only the inputs of layers 2 and 3 are dropped: layer 1's final state is untouched...
      const h0a = at(a.hN, 0);
      const p = run(plain, x);
      const h0p = at(p.hN, 0);
      expectEqual(h0a, h0p);
      // ...and the last layer's output is not dropped: it still ends in its final state.
      const lastA = at(a.output, 4);
      const hLastA = at(a.hN, 2);
      expectEqual(lastA, hLastA);
      // Reproducible under manualSeed.
      manualSeed(42);
      const s1 = run(m, x);
      manualSeed(42);
      const s2 = run(m, x);
      expectEqual(s1.output, s2.output);

      expect(m.eval()).toBe(m);
      expect(m.training).toBe(false);
      const e1 = run(m, x);
      const e2 = run(m, x);
      e1.all.forEach((t, k) => {
        expectEqual(t, e2.all[k]);
        expectEqual(t, p.all[k]);
      });
      expect(m.train()).toBe(m);
      expect(m.training).toBe(true);
      tf.dispose([x, h0a, h0p, lastA, hLastA, ...[a, b, p, s1, s2, e1, e2].flatMap((r) => r.all)]);
      m.dispose();
      plain.dispose();
    });

    it('warns as PyTorch with numLayers 1, once per module; not with more layers or dropout 0', () => {
      const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
      try {
        const one = kind.make({ inputSize: I, hiddenSize: H, dropout: 0.25 });
        const x = randn([5, 2, I], 13);
        const outs = [...run(one, x).all, ...run(one, x).all];
        expect(warn).toHaveBeenCalledTimes(1);
        expect(warn.mock.calls[0][0]).toBe(
          `${N}: dropout option adds dropout after all but last recurrent layer, so non-zero dropout expects numLayers greater than 1, but got dropout=0.25 and numLayers=1`,
        );
        const two = kind.make({ inputSize: I, hiddenSize: H, dropout: 0.25 });
        expect(warn).toHaveBeenCalledTimes(2);
        const quiet = [
          kind.make({ inputSize: I, hiddenSize: H, numLayers: 2, dropout: 0.25 }),
          kind.make({ inputSize: I, hiddenSize: H }),
        ];
        expect(warn).toHaveBeenCalledTimes(2);
        tf.dispose([x, ...outs]);
        for (const m of [one, two, ...quiet]) m.dispose();
      } finally {
        warn.mockRestore();
      }
    });

    it('has no effect with numLayers 1', () => {
      const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
      const m = kind.make({ inputSize: I, hiddenSize: H, dropout: 0.5 });
      warn.mockRestore();
      const x = randn([5, 2, I], 14);
      const a = run(m, x);
      const b = run(m, x);
      m.eval();
      const e = run(m, x);
      a.all.forEach((t, k) => {
        expectEqual(t, b.all[k]);
        expectEqual(t, e.all[k]);
      });
      tf.dispose([x, ...a.all, ...b.all, ...e.all]);
      m.dispose();
    });

    it('keeps padded outputs at zero in training mode', () => {
      const m = kind.make({ inputSize: I, hiddenSize: H, numLayers: 2, dropout: 0.5 });
      const x = randn([4, 2, I], 15);
      const r = run(m, x, undefined, undefined, { lengths: [4, 2] });
      const tail = sliceAxis(sliceAxis(r.output, 0, 2, 2), 1, 1, 1);
      expect(values(tail).every((v) => v === 0)).toBe(true);
      tf.dispose([x, tail, ...r.all]);
      m.dispose();
    });
  });

  describe('bad input', () => {
    const L = 2;
    const D = 2;
    const LD = L * D;
    const B = 2;
    const T = 5;
    const hArg = isLSTM ? 'state[0] (h0)' : 'h0';

    it('rejects bad constructor options with named errors, allocating nothing', () => {
      const ok = { inputSize: I, hiddenSize: H };
      const cases: Array<[unknown, new (...a: any[]) => Error, string[]]> = [
        [undefined, TypeError, [N, 'expected an options object', 'got undefined']],
        [null, TypeError, [N, 'expected an options object', 'got null']],
        [
          { ...ok, batch_first: true },
          TypeError,
          [N, 'unknown option "batch_first"', 'did you mean "batchFirst"'],
        ],
        [
          { ...ok, num_layers: 2 },
          TypeError,
          [N, 'unknown option "num_layers"', 'did you mean "numLayers"'],
        ],
        [
          { input_size: I, hiddenSize: H },
          TypeError,
          [N, 'unknown option "input_size"', 'did you mean "inputSize"'],
        ],
        [
          { ...ok, bidirection: true },
          TypeError,
          [N, 'unknown option "bidirection"', '"bidirectional"'],
        ],
        [{ ...ok, inputSize: 0 }, RangeError, [`${N}({ inputSize })`, 'positive integer', 'got 0']],
        [
          { ...ok, hiddenSize: -1 },
          RangeError,
          [`${N}({ hiddenSize })`, 'positive integer', 'got -1'],
        ],
        [{ ...ok, hiddenSize: 2.5 }, RangeError, [`${N}({ hiddenSize })`, 'got 2.5']],
        [{ ...ok, hiddenSize: '8' }, RangeError, [`${N}({ hiddenSize })`, 'got "8"']],
        [{ inputSize: I }, RangeError, [`${N}({ hiddenSize })`, 'got undefined']],
        [{ ...ok, numLayers: 0 }, RangeError, [`${N}({ numLayers })`, 'positive integer', 'got 0']],
        [{ ...ok, numLayers: 1.5 }, RangeError, [`${N}({ numLayers })`, 'got 1.5']],
        [
          { ...ok, dropout: 1.5 },
          RangeError,
          [`${N}({ dropout })`, 'probability in [0, 1]', 'got 1.5'],
        ],
        [{ ...ok, dropout: -0.1 }, RangeError, [`${N}({ dropout })`, 'got -0.1']],
        [{ ...ok, dropout: '0.5' }, RangeError, [`${N}({ dropout })`, 'got "0.5"']],
        [{ ...ok, bias: 1 }, TypeError, [`${N}({ bias })`, 'true or false', 'got 1']],
        [{ ...ok, batchFirst: 'yes' }, TypeError, [`${N}({ batchFirst })`, 'got "yes"']],
        [
          { ...ok, bidirectional: 1 },
          TypeError,
          [`${N}({ bidirectional })`, 'true or false', 'got 1'],
        ],
        [
          { ...ok, nonlinearity: 'sigmoid' },
          TypeError,
          N === 'RNN'
            ? ['RNN({ nonlinearity })', "'tanh', 'relu'", 'got "sigmoid"']
            : [N, 'unknown option "nonlinearity"'],
        ],
      ];
      for (const [opts, cls, parts] of cases)
        expectThrows(() => kind.make(opts as any), cls, parts, String(JSON.stringify(opts)));
      const m = kind.make(ok);
      const x = randn([T, B, I], 16);
      tf.dispose([x, ...run(m, x).all]);
      m.dispose();
    });

    it('rejects bad forward input with named errors and still works afterwards', () => {
      const m = kind.make({ inputSize: I, hiddenSize: H, numLayers: L, bidirectional: true });
      const x = randn([T, B, I], 17);
      const h0 = randn([LD, B, H], 18);
      const c0 = randn([LD, B, H], 19);
      const ref = run(m, x, h0, c0);
      const gone = randn([T, B, I], 20);
      gone.dispose();
      const goneH = randn([LD, B, H], 21);
      goneH.dispose();
      const z = (shape: number[], dtype: tf.DataType = 'float32') => tf.zeros(shape, dtype);
      const inArg = `${N}.forward(input)`;
      const hA = `${N}.forward(${hArg})`;
      // [input, h0, c0, forward opts]
      const cases: Array<[() => unknown[], new (...a: any[]) => Error, string[]]> = [
        [
          () => [z([I])],
          ShapeError,
          [inArg, 'rank 2 or 3', '[T, B, I] or unbatched [T, I]', 'got rank 1', '[3]'],
        ],
        [() => [z([T, B, I, 1])], ShapeError, [inArg, 'rank 2 or 3', 'got rank 4', '[5,2,3,1]']],
        [() => [z([T, B, I + 2])], ShapeError, [inArg, `inputSize = ${I}`, 'got shape [5,2,5]']],
        [() => [z([T, I + 1])], ShapeError, [inArg, `inputSize = ${I}`, 'got shape [5,4]']],
        [() => [z([T, B, I], 'int32')], TypeError, [inArg, 'float32', 'got a int32 tensor']],
        [() => [gone], DisposedError, [inArg, 'disposed', '[5,2,3]']],
        [() => [[[1, 2, 3]]], TypeError, [inArg, 'tf.Tensor', 'got an array of length 1']],
        [() => [z([0, B, I])], ShapeError, [inArg, 'at least one time step', '[0,2,3]']],
        [
          () => [x, z([LD, B + 1, H]), c0],
          ShapeError,
          [hA, 'expected shape [4,2,4]', 'got [4,3,4]'],
        ],
        [() => [x, z([1, B, H]), c0], ShapeError, [hA, 'expected shape [4,2,4]', 'got [1,2,4]']],
        [() => [x, z([L, B, H]), c0], ShapeError, [hA, 'expected shape [4,2,4]', 'got [2,2,4]']],
        [
          () => [x, z([LD, B, H + 1]), c0],
          ShapeError,
          [hA, 'expected shape [4,2,4]', 'got [4,2,5]'],
        ],
        [() => [x, z([LD, H]), c0], ShapeError, [hA, 'expected shape [4,2,4]', 'got [4,4]']],
        [
          () => [z([T, I]), h0, z([LD, H])],
          ShapeError,
          [hA, 'expected shape [4,4]', 'got [4,2,4]'],
        ],
        [() => [x, goneH, c0], DisposedError, [hA, 'disposed']],
        [() => [x, 'h0', c0], TypeError, [hA, 'tf.Tensor', 'got "h0"']],
        [
          () => [x, undefined, undefined, { length: [T, T] }],
          TypeError,
          [`${N}.forward`, 'unknown option "length"', '"lengths"'],
        ],
        [
          () => [x, undefined, undefined, 5],
          TypeError,
          [`${N}.forward`, 'expected an options object', 'got 5'],
        ],
      ];
      if (isLSTM)
        cases.push(
          [
            () => [x, h0, z([LD, B, H + 1])],
            ShapeError,
            ['LSTM.forward(state[1] (c0))', 'expected shape [4,2,4]', 'got [4,2,5]'],
          ],
          [
            () => [x, h0, z([LD, B + 1, H])],
            ShapeError,
            ['LSTM.forward(state[1] (c0))', 'got [4,3,4]'],
          ],
        );
      // As PyTorch: an empty batch gives empty outputs and states (not an error).
      const empty = run(m, z([T, 0, I])).all;
      expect(empty.map((t) => t.shape)).toEqual(
        isLSTM
          ? [
              [T, 0, 2 * H],
              [LD, 0, H],
              [LD, 0, H],
            ]
          : [
              [T, 0, 2 * H],
              [LD, 0, H],
            ],
      );
      tf.dispose(empty);
      for (const [args, cls, parts] of cases) {
        const a = args();
        expectThrows(
          () =>
            run(m, a[0] as tf.Tensor, a[1] as tf.Tensor, a[2] as tf.Tensor, a[3] as ForwardOptions),
          cls,
          parts,
        );
        tf.dispose(
          a.filter((t): t is tf.Tensor => t instanceof tf.Tensor && ![x, h0, c0].includes(t)),
        );
        const again = run(m, x, h0, c0);
        again.all.forEach((t, k) => {
          expectEqual(t, ref.all[k]);
        });
        tf.dispose(again.all);
      }
      tf.dispose([x, h0, c0, ...ref.all]);
      m.dispose();
    });

    it('with batchFirst, describes the [B, T, I] layout and checks h0 against B, not T', () => {
      const m = kind.make({ inputSize: I, hiddenSize: H, batchFirst: true });
      const x = randn([B, T, I], 22);
      const x1 = tf.zeros([I]);
      expectThrows(() => run(m, x1), ShapeError, [`${N}.forward(input)`, '[B, T, I] (batchFirst)']);
      const badH = tf.zeros([1, T, H]);
      const c0 = tf.zeros([1, B, H]);
      expectThrows(() => run(m, x, badH, c0), ShapeError, [
        `${N}.forward(${hArg})`,
        'expected shape [1,2,4]',
        'got [1,5,4]',
      ]);
      const r = run(m, x, c0, c0);
      expect(r.output.shape).toEqual([B, T, H]);
      tf.dispose([x, x1, badH, c0, ...r.all]);
      m.dispose();
    });

    it('with batchFirst, transposes nothing in inference and once per stack when differentiating', async () => {
      const x = randn([B, T, I], 29);
      const transposes = async (numLayers: number, bidirectional: boolean, grad: boolean) => {
        const m = kind.make({
          inputSize: I,
          hiddenSize: H,
          numLayers,
          bidirectional,
          batchFirst: true,
        });
        m.eval();
        const loss = () => tf.sum(m.forward(x)[0]) as tf.Scalar;
        const info = await tf.profile(() => {
          if (!grad) return loss();
          const { value, grads } = tf.variableGrads(loss, m.parameters());
          return [value, ...Object.values(grads)];
        });
        tf.dispose(info.result as tf.Tensor | tf.Tensor[]);
        m.dispose();
        return info.kernels.filter((k) => k.name === 'Transpose').length;
      };
      expect(await transposes(2, true, false)).toBe(0);
      const one = await transposes(1, false, true);
      expect(one).toBeGreaterThan(0);
      expect(await transposes(3, true, true)).toBe(one);
      x.dispose();
    });

    it('throws DisposedError once disposed; dispose() twice is harmless', () => {
      const m = kind.make({ inputSize: I, hiddenSize: H });
      const x = randn([T, B, I], 23);
      m.dispose();
      m.dispose();
      expect(m.disposed).toBe(true);
      expectThrows(() => run(m, x), DisposedError, [N, 'disposed']);
      expectThrows(() => m.stateDict(), DisposedError, [N, 'disposed']);
      x.dispose();
    });
  });

  describe('memory', () => {
    /** 2 layers, bidirectional, dropout between them: every path a forward can take. */
    const stacked = () =>
      kind.make({ inputSize: I, hiddenSize: H, numLayers: 2, bidirectional: true, dropout: 0.3 });

    it('forward leaves only its returned tensors, in every mode', () => {
      const m = stacked();
      const x = randn([5, 3, I], 24);
      const xu = randn([5, I], 25);
      const h0 = randn([4, 3, H], 26);
      const n = isLSTM ? 3 : 2;
      const calls: Array<() => Run> = [
        () => run(m, x),
        () => run(m, x, h0, h0),
        () => run(m, x, h0, h0, { lengths: [5, 2, 1] }),
        () => run(m, xu),
      ];
      for (const training of [true, false]) {
        m.train(training);
        for (const call of calls) tf.dispose(expectNoLeak(call, n).all);
      }
      tf.dispose([x, xu, h0]);
      m.dispose();
    });

    it('a backward pass (parameters, input and state) leaves nothing behind once the gradients are disposed', () => {
      const m = stacked();
      const x = randn([5, 3, I], 27);
      const h0 = randn([4, 3, H], 28);
      const opts = { lengths: [5, 3, 2] };
      const before = tf.memory().numTensors;
      const loss = (xx: tf.Tensor, hh: tf.Tensor) =>
        tf.tidy(() => tf.addN(run(m, xx, hh, hh, opts).all.map((t) => tf.sum(t))) as tf.Scalar);
      const { value, grads } = tf.variableGrads(() => loss(x, h0), m.parameters());
      expect(Object.keys(grads).length).toBe(m.parameters().length);
      for (const g of Object.values(grads)) expect(values(g).every(Number.isFinite)).toBe(true);
      tf.dispose([value, ...Object.values(grads)]);
      const vg = tf.valueAndGrads(loss)([x, h0]);
      expect(vg.grads.map((g) => g.shape)).toEqual([x.shape, h0.shape]);
      tf.dispose([vg.value, ...vg.grads]);
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([x, h0]);
      m.dispose();
    });
  });

  describe('state dict and seeding', () => {
    const opts = {
      inputSize: I,
      hiddenSize: H,
      numLayers: 2,
      bidirectional: true,
      ...(isLSTM ? { projSize: 2 } : {}),
    };

    it('round-trips stateDict -> saveSafetensors -> loadSafetensors -> loadStateDict into a differently seeded module', () => {
      const a = seeded(1, () => kind.make(opts));
      const b = seeded(2, () => kind.make(opts));
      const x = randn([5, 2, I], 29);
      const ya = run(a, x);
      const pre = run(b, x);
      expect(maxAbsDiff(ya.output, pre.output)).toBeGreaterThan(0);
      const sd = a.stateDict();
      const loaded = expectNoLeak(
        () => loadSafetensors(saveSafetensors(sd)),
        Object.keys(sd).length,
      );
      expect(Object.keys(loaded)).toEqual(a.namedParameters().map(([k]) => k));
      for (const [k, v] of Object.entries(sd)) expect(loaded[k].shape, k).toEqual(v.shape);
      b.loadStateDict(loaded);
      const yb = run(b, x);
      ya.all.forEach((t, k) => {
        expectEqual(yb.all[k], t);
      });
      disposeAll(sd);
      disposeAll(loaded);
      tf.dispose([x, ...ya.all, ...pre.all, ...yb.all]);
      a.dispose();
      b.dispose();
    });

    it('manualSeed makes construction reproducible', () => {
      const a = seeded(7, () => kind.make(opts));
      const b = seeded(7, () => kind.make(opts));
      const c = seeded(8, () => kind.make(opts));
      const pb = b.namedParameters();
      a.namedParameters().forEach(([k, v], i) => {
        expect(pb[i][0]).toBe(k);
        expectEqual(pb[i][1], v);
      });
      expect(values(c.parameters()[0])).not.toEqual(values(a.parameters()[0]));
      for (const m of [a, b, c]) m.dispose();
    });
  });
});
