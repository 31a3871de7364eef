import {
  at,
  disposeAll,
  expectEqual,
  expectNoLeak,
  maxAbs,
  paramShapes,
  randn,
  sliceAxis,
  values,
} from '@rnnkit/vitest-config/helpers';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { RNN } from './rnn.js';

const bs = 2;
const seqLen = 10;
const embSize = 300;
const hiddenDim = 256;

describe('RNN: the tutorial torch.nn.RNN', () => {
  it('RNN({ inputSize: 300, hiddenSize: 256, numLayers: 1, batchFirst: true }) on [2,10,300] returns [output [2,10,256], hN [1,2,256]]', () => {
    const xt = tf.randomUniform([bs, seqLen, embSize], 0, 1, 'float32', 1);
    const rnn = new RNN({
      inputSize: embSize,
      hiddenSize: hiddenDim,
      numLayers: 1,
      batchFirst: true,
    });
    const result = expectNoLeak(() => rnn.forward(xt), 2);
    expect(result.length).toBe(2); // len(rnn(xt)) == 2
    const [output, hN] = result;
    expect(output.shape).toEqual([2, 10, 256]);
    expect(hN.shape).toEqual([1, 2, 256]);
    // output[:, -1] == h_n[0]
    const last = tf.reshape(sliceAxis(output, 1, seqLen - 1, 1), [bs, hiddenDim]);
    const h0 = at(hN, 0);
    expectEqual(last, h0);
    tf.dispose([xt, output, hN, last, h0]);
    rnn.dispose();
  });

  it('batchFirst: false takes and returns [T, B, *]: the same numbers, transposed', () => {
    const xt = tf.randomUniform([bs, seqLen, embSize], 0, 1, 'float32', 2);
    const bf = new RNN({ inputSize: embSize, hiddenSize: hiddenDim, batchFirst: true });
    const tm = new RNN({ inputSize: embSize, hiddenSize: hiddenDim });
    expect(tm.batchFirst).toBe(false);
    const sd = bf.stateDict();
    tm.loadStateDict(sd);
    const xTimeMajor = tf.transpose(xt, [1, 0, 2]);
    const [o1, h1] = bf.forward(xt);
    const [o2, h2] = tm.forward(xTimeMajor);
    expect(o2.shape).toEqual([10, 2, 256]);
    expect(h2.shape).toEqual([1, 2, 256]);
    const o1t = tf.transpose(o1, [1, 0, 2]);
    expectEqual(o2, o1t);
    expectEqual(h2, h1);
    // output[-1] == h_n[0] in the time-major layout
    const last = at(o2, seqLen - 1);
    const hLast = at(h2, 0);
    expectEqual(last, hLast);
    disposeAll(sd);
    tf.dispose([xt, xTimeMajor, o1, h1, o2, h2, o1t, last, hLast]);
    bf.dispose();
    tm.dispose();
  });

  it('stacks layers and directions: 2 layers bidirectional on the tutorial input -> [2,10,512], hN [4,2,256]', () => {
    const xt = tf.randomUniform([bs, seqLen, embSize], 0, 1, 'float32', 3);
    const rnn = new RNN({
      inputSize: embSize,
      hiddenSize: hiddenDim,
      numLayers: 2,
      bidirectional: true,
      batchFirst: true,
    });
    const [output, hN] = rnn.forward(xt);
    expect(output.shape).toEqual([2, 10, 512]);
    expect(hN.shape).toEqual([4, 2, 256]);
    const h3 = rnn.forward(tf.zeros([bs, 3, embSize]));
    expect(h3.map((t) => t.shape)).toEqual([
      [2, 3, 512],
      [4, 2, 256],
    ]);
    tf.dispose([xt, output, hN, ...h3]);
    rnn.dispose();
  });

  it("has PyTorch's keys and shapes for 2 layers, bidirectional (and no bias keys with bias: false)", () => {
    const I = 5;
    const H = 4;
    const rnn = new RNN({ inputSize: I, hiddenSize: H, numLayers: 2, bidirectional: true });
    expect(paramShapes(rnn)).toEqual([
      ['weight_ih_l0', [H, I]],
      ['weight_hh_l0', [H, H]],
      ['bias_ih_l0', [H]],
      ['bias_hh_l0', [H]],
      ['weight_ih_l0_reverse', [H, I]],
      ['weight_hh_l0_reverse', [H, H]],
      ['bias_ih_l0_reverse', [H]],
      ['bias_hh_l0_reverse', [H]],
      ['weight_ih_l1', [H, 2 * H]],
      ['weight_hh_l1', [H, H]],
      ['bias_ih_l1', [H]],
      ['bias_hh_l1', [H]],
      ['weight_ih_l1_reverse', [H, 2 * H]],
      ['weight_hh_l1_reverse', [H, H]],
      ['bias_ih_l1_reverse', [H]],
      ['bias_hh_l1_reverse', [H]],
    ]);
    const sd = rnn.stateDict();
    expect(Object.keys(sd)).toEqual(rnn.namedParameters().map(([k]) => k));
    disposeAll(sd);
    const k = 1 / Math.sqrt(H);
    for (const [name, v] of rnn.namedParameters())
      expect(maxAbs(v), name).toBeLessThanOrEqual(k * (1 + 1e-6));
    const nb = new RNN({ inputSize: I, hiddenSize: H, numLayers: 2, bias: false });
    expect(paramShapes(nb)).toEqual([
      ['weight_ih_l0', [H, I]],
      ['weight_hh_l0', [H, H]],
      ['weight_ih_l1', [H, H]],
      ['weight_hh_l1', [H, H]],
    ]);
    rnn.dispose();
    nb.dispose();
  });

  it("nonlinearity 'relu' gives non-negative outputs; the default is 'tanh'", () => {
    const x = tf.tidy(() => tf.mul(randn([6, 3, 5], 4), 3));
    const tanh = new RNN({ inputSize: 5, hiddenSize: 4 });
    expect(tanh.nonlinearity).toBe('tanh');
    const relu = new RNN({ inputSize: 5, hiddenSize: 4, nonlinearity: 'relu', numLayers: 2 });
    const [a, ha] = tanh.forward(x);
    const [b, hb] = relu.forward(x);
    expect(values(a).every((v) => v >= -1 && v <= 1)).toBe(true);
    expect(values(a).some((v) => v < 0)).toBe(true);
    expect(values(b).every((v) => v >= 0)).toBe(true);
    expect(values(hb).every((v) => v >= 0)).toBe(true);
    tf.dispose([x, a, ha, b, hb]);
    tanh.dispose();
    relu.dispose();
  });

  it('takes unbatched [T, I] to output [T, D*H] and hN [L*D, H], equal to a batch of one', () => {
    const rnn = new RNN({ inputSize: 5, hiddenSize: 4, numLayers: 2, bidirectional: true });
    const x = randn([7, 5], 5);
    const h0 = randn([4, 4], 6);
    const [o, h] = expectNoLeak(() => rnn.forward(x, h0), 2);
    expect(o.shape).toEqual([7, 8]);
    expect(h.shape).toEqual([4, 4]);
    const xb = tf.expandDims(x, 1);
    const hb = tf.expandDims(h0, 1);
    const [ob, hnb] = rnn.forward(xb, hb);
    const obs = tf.squeeze(ob, [1]);
    const hnbs = tf.squeeze(hnb, [1]);
    expectEqual(o, obs);
    expectEqual(h, hnbs);
    tf.dispose([x, h0, o, h, xb, hb, ob, hnb, obs, hnbs]);
    rnn.dispose();
  });
});
