import { DisposedError, ShapeError } from '@rnnkit/ops';
import {
  at,
  expectEqual,
  expectNoLeak,
  expectThrows,
  paramShapes,
  randn,
  sliceAxis,
} from '@rnnkit/vitest-config/helpers';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { GRU } from './gru.js';
import { LSTM } from './lstm.js';
import { RNN } from './rnn.js';

describe('LSTM', () => {
  it('returns [output, [hN, cN]] with the tutorial sizes', () => {
    const xt = tf.randomUniform([2, 10, 300], 0, 1, 'float32', 1);
    const lstm = new LSTM({ inputSize: 300, hiddenSize: 256, batchFirst: true });
    const [output, state] = expectNoLeak(() => lstm.forward(xt), 3);
    expect(state.length).toBe(2);
    const [hN, cN] = state;
    expect(output.shape).toEqual([2, 10, 256]);
    expect(hN.shape).toEqual([1, 2, 256]);
    expect(cN.shape).toEqual([1, 2, 256]);
    const last = tf.reshape(sliceAxis(output, 1, 9, 1), [2, 256]);
    const h = at(hN, 0);
    expectEqual(last, h);
    tf.dispose([xt, output, hN, cN, last, h]);
    lstm.dispose();
  });

  it('with projSize P: output [.., D*P], hN [L*D, B, P], cN [L*D, B, H]', () => {
    const I = 6;
    const H = 5;
    const P = 3;
    const T = 4;
    const B = 2;
    const cases: Array<[Record<string, unknown>, number[], number[], number[], number[]]> = [
      [{}, [T, B, I], [T, B, P], [1, B, P], [1, B, H]],
      [{ batchFirst: true }, [B, T, I], [B, T, P], [1, B, P], [1, B, H]],
      [{ numLayers: 3 }, [T, B, I], [T, B, P], [3, B, P], [3, B, H]],
      [{ numLayers: 2, bidirectional: true }, [T, B, I], [T, B, 2 * P], [4, B, P], [4, B, H]],
      [{ numLayers: 2, bidirectional: true }, [T, I], [T, 2 * P], [4, P], [4, H]],
    ];
    for (const [opts, inShape, outShape, hShape, cShape] of cases) {
      const lstm = new LSTM({ inputSize: I, hiddenSize: H, projSize: P, ...opts });
      expect(lstm.outputSize).toBe(P);
      const x = randn(inShape, 2);
      const [o, [h, c]] = lstm.forward(x);
      expect([o.shape, h.shape, c.shape]).toEqual([outShape, hShape, cShape]);
      // given states of those shapes are accepted and give the same shapes
      const h0 = randn(hShape, 3);
      const c0 = randn(cShape, 4);
      const [o2, [h2, c2]] = lstm.forward(x, [h0, c0]);
      expect([o2.shape, h2.shape, c2.shape]).toEqual([outShape, hShape, cShape]);
      tf.dispose([x, o, h, c, h0, c0, o2, h2, c2]);
      lstm.dispose();
    }
  });

  it("has PyTorch's keys and shapes, with weight_hr_l{k} [P, H] for projections", () => {
    const I = 6;
    const H = 5;
    const P = 3;
    const lstm = new LSTM({
      inputSize: I,
      hiddenSize: H,
      projSize: P,
      numLayers: 2,
      bidirectional: true,
    });
    const G = 4 * H;
    const layer = (k: number, inSize: number) =>
      ['', '_reverse'].flatMap(
        (r): Array<[string, number[]]> => [
          [`weight_ih_l${k}${r}`, [G, inSize]],
          [`weight_hh_l${k}${r}`, [G, P]],
          [`bias_ih_l${k}${r}`, [G]],
          [`bias_hh_l${k}${r}`, [G]],
          [`weight_hr_l${k}${r}`, [P, H]],
        ],
      );
    expect(paramShapes(lstm)).toEqual([...layer(0, I), ...layer(1, 2 * P)]);
    lstm.dispose();
    const plain = new LSTM({ inputSize: I, hiddenSize: H });
    expect(paramShapes(plain)).toEqual([
      ['weight_ih_l0', [G, I]],
      ['weight_hh_l0', [G, H]],
      ['bias_ih_l0', [G]],
      ['bias_hh_l0', [G]],
    ]);
    plain.dispose();
  });

  it('the projected output is the state: output[-1] == hN[0] and output[0, P:] == hN[1] (reverse)', () => {
    const lstm = new LSTM({ inputSize: 3, hiddenSize: 5, projSize: 2, bidirectional: true });
    const x = randn([6, 2, 3], 5);
    const [o, [h, c]] = lstm.forward(x);
    const fwd = sliceAxis(at(o, 5), 1, 0, 2);
    const rev = sliceAxis(at(o, 0), 1, 2, 2);
    const h0 = at(h, 0);
    const h1 = at(h, 1);
    expectEqual(fwd, h0);
    expectEqual(rev, h1);
    tf.dispose([x, o, h, c, fwd, rev, h0, h1]);
    lstm.dispose();
  });

  it('rejects a state that is not a pair [h0, c0] of the right shapes, and still works afterwards', () => {
    const lstm = new LSTM({ inputSize: 3, hiddenSize: 5, projSize: 2, numLayers: 2 });
    const x = randn([4, 2, 3], 6);
    const h0 = randn([2, 2, 2], 7);
    const c0 = randn([2, 2, 5], 8);
    const [ro, [rh, rc]] = lstm.forward(x, [h0, c0]);
    const cases: Array<[() => unknown, new (...a: any[]) => Error, string[]]> = [
      [
        () => h0,
        TypeError,
        ['LSTM.forward(state)', 'expected [h0, c0]', 'got a float32 tensor of shape [2,2,2]'],
      ],
      [
        () => [h0],
        TypeError,
        ['LSTM.forward(state)', 'expected [h0, c0]', 'got [a float32 tensor of shape [2,2,2]]'],
      ],
      [
        () => [h0, c0, c0],
        TypeError,
        ['LSTM.forward(state)', 'expected [h0, c0]', 'got [a float32 tensor'],
      ],
      [
        () => [h0, undefined],
        TypeError,
        ['LSTM.forward(state)', 'expected [h0, c0]', 'undefined]'],
      ],
      [() => [undefined, c0], TypeError, ['LSTM.forward(state)', '[undefined, a float32']],
      [() => 'h0', TypeError, ['LSTM.forward(state)', 'expected [h0, c0]', 'got "h0"']],
      [
        () => [c0, c0],
        ShapeError,
        ['LSTM.forward(state[0] (h0))', 'expected shape [2,2,2]', 'got [2,2,5]'],
      ],
      [
        () => [h0, h0],
        ShapeError,
        ['LSTM.forward(state[1] (c0))', 'expected shape [2,2,5]', 'got [2,2,2]'],
      ],
    ];
    for (const [state, cls, parts] of cases) {
      expectThrows(() => lstm.forward(x, state() as [tf.Tensor, tf.Tensor]), cls, parts);
      const [o, [h, c]] = lstm.forward(x, [h0, c0]);
      expectEqual(o, ro);
      expectEqual(h, rh);
      expectEqual(c, rc);
      tf.dispose([o, h, c]);
    }
    lstm.dispose();
    expectThrows(() => lstm.forward(x, h0 as any), DisposedError, ['LSTM', 'disposed']);
    tf.dispose([x, h0, c0, ro, rh, rc]);
  });

  it('checks projSize: an integer in [0, hiddenSize), LSTM only', () => {
    const base = { inputSize: 3, hiddenSize: 4 };
    expectThrows(() => new LSTM({ ...base, projSize: 4 }), RangeError, [
      'LSTM({ projSize })',
      'projSize < hiddenSize (4)',
      'got 4',
    ]);
    expectThrows(() => new LSTM({ ...base, projSize: 9 }), RangeError, [
      'LSTM({ projSize })',
      'got 9',
    ]);
    expectThrows(() => new LSTM({ ...base, projSize: -1 }), RangeError, [
      'LSTM({ projSize })',
      'integer >= 0',
      'got -1',
    ]);
    expectThrows(() => new LSTM({ ...base, projSize: 1.5 }), RangeError, [
      'LSTM({ projSize })',
      'got 1.5',
    ]);
    expectThrows(() => new LSTM({ ...base, proj_size: 2 } as any), TypeError, [
      'LSTM',
      'unknown option "proj_size"',
      'did you mean "projSize"',
    ]);
    expectThrows(() => new RNN({ ...base, projSize: 2 } as any), TypeError, [
      'RNN',
      'unknown option "projSize"',
    ]);
    expectThrows(() => new GRU({ ...base, projSize: 2 } as any), TypeError, [
      'GRU',
      'unknown option "projSize"',
    ]);
    const ok = new LSTM({ ...base, projSize: 3 });
    expect(ok.projSize).toBe(3);
    ok.dispose();
    const none = new LSTM({ ...base, projSize: 0 });
    expect(none.outputSize).toBe(4);
    none.dispose();
  });
});
