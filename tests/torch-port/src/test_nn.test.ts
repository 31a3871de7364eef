// Port of the recurrent, dropout and gradient-clipping tests of PyTorch's test/test_nn.py (TestNN and
// TestNNDeviceType); the `it` titles are PyTorch's test names. Numbers that PyTorch computes come from
// fixtures made by tooling/golden (groups port and clip); float64 tests run in float32. What is not
// ported, and why, is listed in ../README.md.
import { GRUCell, LSTMCell, RNNCell } from '@rnnkit/cell';
import {
  clipGradNorm,
  clipGradValue,
  Dropout,
  dropout,
  Linear,
  NumericsError,
  ShapeError,
} from '@rnnkit/ops';
import {
  GRU,
  LSTM,
  packPaddedSequence,
  padPackedSequence,
  type RecurrentLayer,
  RNN,
} from '@rnnkit/rnn';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import {
  checkGradGrad,
  expectClose,
  expectParity,
  expectThrows,
  fixture,
  values,
} from './helpers.js';

type Mode = 'RNN' | 'LSTM' | 'GRU';
const MODES: Mode[] = ['RNN', 'GRU', 'LSTM'];

function layer(mode: Mode, opts: Record<string, unknown>): RecurrentLayer {
  const o = opts as { inputSize: number; hiddenSize: number };
  return mode === 'RNN' ? new RNN(o) : mode === 'LSTM' ? new LSTM(o) : new GRU(o);
}

/** rnn(input, hidden) -> [output, hN] (LSTM: hidden is [h, c], hN is h_n) plus every tensor returned. */
function call(m: RecurrentLayer, input: tf.Tensor, hidden?: tf.Tensor | [tf.Tensor, tf.Tensor]) {
  if (m instanceof LSTM) {
    const [out, [h, c]] = m.forward(input, hidden as [tf.Tensor, tf.Tensor] | undefined);
    return { output: out, hN: h, all: [out, h, c] };
  }
  const [out, h] = (m as RNN).forward(input, hidden as tf.Tensor | undefined);
  return { output: out, hN: h, all: [out, h] };
}

const same = (a: tf.Tensor, b: tf.Tensor) => values(a).every((v, i) => v === values(b)[i]);

describe('test_nn.py: recurrent cells', () => {
  for (const kind of ['RNNCell', 'GRUCell', 'LSTMCell'] as const) {
    for (const bias of [true, false]) {
      const test = kind === 'LSTMCell' ? 'test_LSTM_cell' : 'test_RNN_cell';
      it(`${test} (${kind}, bias ${bias}: 6 steps and the gradients of the sum, from PyTorch)`, () => {
        // the cell fed 6 times, hx.sum().backward() (LSTM: (hx + cx).sum()): outputs and the
        // gradients of every parameter, x, h0 (c0), through tooling/golden's cell adapters
        const name = `${test}_${kind.toLowerCase()}_${bias ? 'bias' : 'nobias'}`;
        expectParity('port', name, { RNNCell, GRUCell, LSTMCell });
      });
    }
  }

  it('test_RNN_cell_forward_zero_hidden_size', () => {
    const input = tf.randomNormal([3, 10]);
    const hx = tf.randomNormal([3, 0]);
    const cells = [
      new RNNCell({ inputSize: 10, hiddenSize: 0, nonlinearity: 'relu' }),
      new RNNCell({ inputSize: 10, hiddenSize: 0, nonlinearity: 'tanh' }),
      new GRUCell({ inputSize: 10, hiddenSize: 0 }),
    ];
    for (const cell of cells) {
      const out = cell.forward(input, hx);
      expect(out.shape).toEqual([3, 0]);
      out.dispose();
      cell.dispose();
    }
    const lstm = new LSTMCell({ inputSize: 10, hiddenSize: 0 });
    const [h, c] = lstm.forward(input, [hx, hx]);
    expect(h.shape).toEqual([3, 0]);
    expect(c.shape).toEqual([3, 0]);
    tf.dispose([input, hx, h, c]);
    lstm.dispose();
  });

  it('test_RNN_cell_no_broadcasting', () => {
    const test = (
      make: () => RNNCell | GRUCell | LSTMCell,
      input: tf.Tensor,
      hx: tf.Tensor | [tf.Tensor, tf.Tensor],
    ) => {
      const cell = make();
      expectThrows(
        () =>
          cell instanceof LSTMCell
            ? cell.forward(input, hx as [tf.Tensor, tf.Tensor])
            : cell.forward(input, hx as tf.Tensor),
        ShapeError,
        ['.forward('],
      );
      cell.dispose();
    };
    const testAll = (
      hiddenSize: number,
      badHx: tf.Tensor,
      goodHx: tf.Tensor,
      inputSize: number,
      input: tf.Tensor,
    ) => {
      const opts = { inputSize, hiddenSize };
      test(() => new RNNCell(opts), input, badHx);
      test(() => new GRUCell(opts), input, badHx);
      test(() => new LSTMCell(opts), input, [badHx, goodHx]);
      test(() => new LSTMCell(opts), input, [goodHx, badHx]);
    };
    const hiddenSize = 20;
    const inputSize = 10;
    const input = tf.randomNormal([3, inputSize]);
    const goodHx = tf.randomNormal([3, hiddenSize]);
    // Test hidden/input batch size broadcasting
    const badBatch = tf.randomNormal([1, hiddenSize]);
    testAll(hiddenSize, badBatch, goodHx, inputSize, input);
    // Test hx's hidden_size vs module's hidden_size broadcasting
    const badHidden = tf.randomNormal([3, 1]);
    testAll(hiddenSize, badHidden, goodHx, inputSize, input);
    // Test input's input_size vs module's input_size broadcasting
    const badInput = tf.randomNormal([3, 1]);
    testAll(hiddenSize, goodHx, goodHx, inputSize, badInput);
    tf.dispose([input, goodHx, badBatch, badHidden, badInput]);
  });

  it('test_lstmcell_backward_only_one_output_grad (float32)', () => {
    const l = new LSTMCell({ inputSize: 2, hiddenSize: 3 });
    const s = tf.randomNormal([1, 2], 0, 1, 'float32', 3);
    for (const i of [0, 1]) {
      const g = tf.grad((x: tf.Tensor) => tf.sum(l.forward(x)[i]))(s);
      expect(values(g).reduce((a, v) => a + Math.abs(v), 0)).toBeGreaterThan(0);
      g.dispose();
    }
    s.dispose();
    l.dispose();
  });
});

describe('test_nn.py: RNN, LSTM, GRU', () => {
  it('test_RNN_input_size_zero (an empty batch: forward and backward)', () => {
    for (const mode of MODES) {
      const input = tf.zeros([5, 0, 3]);
      const rnn = layer(mode, { inputSize: 3, hiddenSize: 4 });
      const outs = call(rnn, input);
      expect(outs.output.shape).toEqual([5, 0, 4]);
      // Check that backward does not cause a hard error
      const { value, grads } = tf.variableGrads(
        () => tf.sum(call(rnn, input).output) as tf.Scalar,
        rnn.parameters(),
      );
      for (const g of Object.values(grads)) expect(values(g).every((v) => v === 0)).toBe(true);
      tf.dispose([input, value, ...outs.all, ...Object.values(grads)]);
      rnn.dispose();
    }
  });

  it('test_RNN_dropout', () => {
    // checking the assumption that cuDNN sticks dropout in between RNN layers (cuda: no)
    for (const p of [0, 0.276, 0.731, 1]) {
      for (const train of [true, false]) {
        const rnn = new RNN({
          inputSize: 10,
          hiddenSize: 1000,
          numLayers: 2,
          bias: false,
          dropout: p,
          nonlinearity: 'relu',
        });
        rnn.train(train);
        rnn.loadStateDict(
          Object.fromEntries(rnn.namedParameters().map(([k, v]) => [k, tf.onesLike(v)])),
        );
        const input = tf.ones([1, 1, 10]);
        const hx = tf.zeros([2, 1, 1000]);
        const [output, hy] = rnn.forward(input, hx);
        const out = values(output);
        expect(Math.min(...out)).toBe(Math.max(...out));
        const outputVal = out[0];
        if (p === 0 || !train) expect(outputVal).toBe(10000);
        else if (p === 1) expect(outputVal).toBe(0);
        else {
          expect(outputVal).toBeGreaterThan(8000);
          expect(outputVal).toBeLessThan(12000);
          // PyTorch allows 1e-2 here; tfjs-backend-cpu's matMul sums the 1000 terms of ~13.8 in
          // float32 blocks, which is off by up to 1.1e-2 (1e-6 relative), so 2e-2
          const denormMod = (outputVal * (1 - p)) % 10;
          expect(Math.min(denormMod, 10 - denormMod)).toBeLessThan(2e-2);
        }
        const [h0, h1] = tf.unstack(hy);
        expect(Math.min(...values(h0))).toBe(Math.max(...values(h0)));
        expect(Math.min(...values(h1))).toBe(Math.max(...values(h1)));
        expect(values(h0)[0]).toBe(10);
        expect(values(h1)[0]).toBe(outputVal);
        tf.dispose([input, hx, output, hy, h0, h1]);
        rnn.dispose();
      }
    }
  });

  it('test_RNN_dropout_state (torch.save/torch.load as stateDict/loadStateDict)', () => {
    for (const p of [0, 0.1234]) {
      for (const train of [true, false]) {
        const rnn = new RNN({
          inputSize: 100,
          hiddenSize: 100,
          numLayers: 2,
          bias: false,
          dropout: p,
          nonlinearity: 'relu',
        });
        rnn.train(train);
        const input = tf.randomUniform([1, 1, 100], 0, 1, 'float32', 1);
        const hx = tf.randomUniform([2, 1, 100], 0, 1, 'float32', 2);
        const [output1, hy1] = rnn.forward(input, hx);
        const [output2, hy2] = rnn.forward(input, hx);
        const rnn2 = new RNN({
          inputSize: 100,
          hiddenSize: 100,
          numLayers: 2,
          bias: false,
          dropout: p,
          nonlinearity: 'relu',
        });
        const sd = rnn.stateDict();
        rnn2.loadStateDict(sd);
        rnn2.train(train);
        const [output3, hy3] = rnn2.forward(input, hx);
        const equal = p === 0 || !train;
        expect(same(output1, output2)).toBe(equal);
        expect(same(output1, output3)).toBe(equal);
        expect(same(hy1, hy2)).toBe(equal);
        expect(same(hy1, hy3)).toBe(equal);
        tf.dispose([input, hx, output1, hy1, output2, hy2, output3, hy3, ...Object.values(sd)]);
        rnn.dispose();
        rnn2.dispose();
      }
    }
  });

  it('test_RNN_change_dropout', () => {
    for (const train of [true, false]) {
      const rnn = new RNN({
        inputSize: 100,
        hiddenSize: 100,
        numLayers: 2,
        dropout: 0,
        nonlinearity: 'relu',
      });
      const input = tf.randomUniform([3, 2, 100], 0, 1, 'float32', 4);
      rnn.train(train);
      let prev: tf.Tensor | null = null;
      for (const p of [0, 0.5, 0, 0.7, 0.2, 1, 0.2, 0]) {
        rnn.dropout = p;
        const [output1, hy1] = rnn.forward(input);
        const [output2, hy2] = rnn.forward(input);
        const equal = p === 0 || p === 1 || !train;
        expect(same(output1, output2)).toBe(equal);
        expect(same(hy1, hy2)).toBe(equal);
        if (prev !== null) {
          expect(same(output1, prev)).toBe(!train);
          expect(same(output2, prev)).toBe(!train);
        }
        tf.dispose([hy1, output2, hy2, ...(prev ? [prev] : [])]);
        prev = output1;
      }
      expectThrows(
        () => {
          rnn.dropout = 1.5;
        },
        RangeError,
        ['RNN({ dropout })', 'got 1.5'],
      );
      tf.dispose([input, prev!]);
      rnn.dispose();
    }
  });

  it('test_rnn_args_check', () => {
    const [inputSize, hiddenSize, numLayers, batchSize, seqLen] = [3, 5, 2, 4, 6];
    const badSize = 7; // prime number so that no size can divide it.
    const correctInput = [seqLen, batchSize, inputSize];
    const correctHidden = [numLayers, batchSize, hiddenSize];
    const update = (shape: number[], dim: number, size: number) =>
      shape.map((n, i) => (i === dim ? size : n));
    const test = (inputShape: number[], hiddenShape: number[], mode: Mode) => {
      const model = layer(mode, { inputSize, hiddenSize, numLayers });
      const input = tf.randomNormal(inputShape);
      const hidden = tf.randomNormal(hiddenShape);
      const good = tf.randomNormal(correctHidden);
      const cases: Array<tf.Tensor | [tf.Tensor, tf.Tensor]> =
        mode !== 'LSTM'
          ? [hidden]
          : tf.util.arraysEqual(hiddenShape, correctHidden)
            ? [[hidden, hidden]]
            : [
                [hidden, good],
                [good, hidden],
              ];
      for (const h of cases)
        expectThrows(() => call(model, input, h), ShapeError, [`${mode}.forward(`]);
      tf.dispose([input, hidden, good]);
      model.dispose();
    };
    for (const mode of MODES) {
      test(update(correctInput, 1, badSize), correctHidden, mode); // Incorrect input batch size
      test(correctInput, update(correctHidden, 1, badSize), mode); // Incorrect hidden batch size
      test(update(correctInput, 2, badSize), correctHidden, mode); // Incorrect input size
      test(correctInput, update(correctHidden, 2, badSize), mode); // Incorrect hidden size
      test(correctInput, update(correctHidden, 0, badSize), mode); // Incorrect hidden[0]
    }
  });

  it('test_rnn_initial_hidden_state', () => {
    for (const mode of MODES) {
      const rnn = layer(mode, { inputSize: 30, hiddenSize: 20, numLayers: 2 });
      const input = tf.randomNormal([10, 32, 30]);
      const zeros = tf.zeros([2, 32, 20]);
      const a = call(rnn, input, mode === 'LSTM' ? [zeros, zeros] : zeros);
      const b = call(rnn, input);
      expectClose(a.output, b.output, 0);
      expectClose(a.hN, b.hN, 0);
      tf.dispose([input, zeros, ...a.all, ...b.all]);
      rnn.dispose();
    }
  });

  it('test_rnn_retain_variables (float32: the same gradients on every backward)', () => {
    for (const mode of ['LSTM', 'GRU', 'RNN'] as Mode[]) {
      const rnn = layer(mode, { inputSize: 10, hiddenSize: 20, numLayers: 2 });
      const input = tf.randomNormal([5, 6, 10]);
      const grads = () => {
        const gx = tf.grad((x: tf.Tensor) => tf.sum(call(rnn, x).output))(input);
        const { value, grads: g } = tf.variableGrads(
          () => tf.sum(call(rnn, input).output) as tf.Scalar,
          rnn.parameters(),
        );
        value.dispose();
        return [gx, ...rnn.parameters().map((p) => g[p.name])];
      };
      const first = grads();
      for (let i = 0; i < 4; i++) {
        const again = grads();
        again.forEach((g, k) => {
          expect(values(g)).toEqual(values(first[k]));
        });
        tf.dispose(again);
      }
      tf.dispose([input, ...first]);
      rnn.dispose();
    }
  });

  it('test_variable_sequence (LSTM, bidirectional, 2 layers: packed vs each sequence alone)', () => {
    const tests: Array<[boolean, number[]]> = [
      [true, [5]],
      [false, [5]],
      [true, [10, 10, 6, 2, 2, 1, 1]],
      [false, [10, 10, 6, 2, 2, 1, 1]],
      [false, [2, 1, 3, 2, 10, 5, 3]],
    ];
    const prec = 1e-5; // dtype2prec_DONTUSE[torch.float]
    for (const [enforceSorted, lengths] of tests) {
      for (const useDefaultHiddens of [true, false]) {
        for (const projSize of [0, 2]) {
          const [I, H, L, D] = [3, 4, 2, 2];
          const T = Math.max(...lengths);
          const B = lengths.length;
          const lstm = new LSTM({
            inputSize: I,
            hiddenSize: H,
            numLayers: L,
            bidirectional: true,
            projSize,
          });
          const x = tf.randomNormal([T, B, I]);
          const P = projSize || H;
          const hidden0: [tf.Tensor, tf.Tensor] | undefined = useDefaultHiddens
            ? undefined
            : [tf.randomNormal([D * L, B, P]), tf.randomNormal([D * L, B, H])];
          const pick = (h: tf.Tensor, i: number) => tf.slice(h, [0, i, 0], [-1, 1, -1]);
          // each sequence alone, its output padded with zeros to T steps
          const separately = (xs: tf.Tensor) => {
            const outs: tf.Tensor[] = [];
            const hs: tf.Tensor[] = [];
            const cs: tf.Tensor[] = [];
            lengths.forEach((l, i) => {
              const h0 =
                hidden0 && ([pick(hidden0[0], i), pick(hidden0[1], i)] as [tf.Tensor, tf.Tensor]);
              const [out, [h, c]] = lstm.forward(tf.slice(xs, [0, i, 0], [l, 1, I]), h0);
              outs.push(l === T ? out : tf.concat([out, tf.zeros([T - l, 1, D * P])]));
              hs.push(h);
              cs.push(c);
            });
            return { out: tf.concat(outs, 1), h: tf.concat(hs, 1), c: tf.concat(cs, 1) };
          };
          const packedRun = (xs: tf.Tensor) => {
            const packed = packPaddedSequence(xs, lengths, { enforceSorted });
            const [out, [h, c]] = lstm.forward(packed, hidden0);
            const [unpacked, unpackedLen] = padPackedSequence(out);
            return { out: unpacked, h, c, len: unpackedLen };
          };
          tf.tidy(() => {
            const seq = separately(x);
            const pk = packedRun(x);
            expectClose(pk.h, seq.h, prec);
            expectClose(pk.c, seq.c, prec);
            expectClose(pk.out, seq.out, prec);
            expect(pk.len).toEqual(lengths);
            // backward: the gradients of x and of every parameter agree
            const gradsOf = (f: (xs: tf.Tensor) => { out: tf.Tensor }) => {
              const gx = tf.grad((xs: tf.Tensor) => tf.sum(f(xs).out))(x);
              const { grads } = tf.variableGrads(
                () => tf.sum(f(x).out) as tf.Scalar,
                lstm.parameters(),
              );
              return [gx, ...lstm.parameters().map((p) => grads[p.name])];
            };
            const a = gradsOf(separately);
            const b = gradsOf(packedRun);
            a.forEach((g, k) => {
              expectClose(b[k], g, prec);
            });
          });
          tf.dispose([x, ...(hidden0 ?? [])]);
          lstm.dispose();
        }
      }
    }
  });

  for (const mode of ['LSTM', 'GRU'] as const) {
    it(`test_${mode}_grad_and_gradgrad (float32, against PyTorch autograd's second derivatives)`, () => {
      // Upstream: gradcheck + gradgradcheck in float64 on CUDA. Here: a gradient penalty (the sum
      // of squared first gradients over every parameter and x) and its gradients, from PyTorch
      // (fixtures phase2/gradgrad_*).
      const m = layer(mode, { inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true });
      const err = checkGradGrad(
        m,
        (mod, x) => call(mod, x).output,
        'phase2',
        `gradgrad_${mode.toLowerCase()}`,
      );
      m.dispose();
      expect(err.y).toBeLessThanOrEqual(1e-6);
      expect(err.penalty).toBeLessThanOrEqual(1e-5);
      expect(err.grad).toBeLessThanOrEqual(1e-5);
    });
  }

  it('test_RNN_nonlinearity', () => {
    let rnn = new RNN({ inputSize: 1, hiddenSize: 10 });
    expect(rnn.nonlinearity).toBe('tanh');
    rnn.dispose();
    rnn = new RNN({ inputSize: 1, hiddenSize: 10, nonlinearity: 'relu' });
    expect(rnn.nonlinearity).toBe('relu');
    rnn.dispose();
    expectThrows(
      () => new RNN({ inputSize: 1, hiddenSize: 10, nonlinearity: 'garbage' as never }),
      TypeError,
      ['RNN({ nonlinearity })', '"garbage"'],
    );
  });

  it('test_RNN_nonlinearity_passed_as_arg (an option in rnnkit)', () => {
    const rnn = new RNN({ inputSize: 2, hiddenSize: 3, numLayers: 1, nonlinearity: 'relu' });
    expect(rnn.nonlinearity).toBe('relu');
    rnn.dispose();
  });

  it('test_invalid_dropout_p', () => {
    const v = tf.ones([1]);
    expectThrows(() => new Dropout(-0.1), RangeError, ['Dropout(p)']);
    expectThrows(() => new Dropout(1.1), RangeError, ['Dropout(p)']);
    expectThrows(() => dropout(v, -0.1, true), RangeError, ['dropout(p)']);
    expectThrows(() => dropout(v, 1.1, true), RangeError, ['dropout(p)']);
    v.dispose();
  });
});

/** compute_norm of test_clip_grad_norm: the norm of order p of every gradient together, in float64. */
function computeNorm(grads: tf.Tensor[], p: number): number {
  const all = grads.flatMap(values).map(Math.abs);
  if (p === Infinity) return Math.max(...all);
  return all.reduce((s, a) => s + a ** p, 0) ** (1 / p);
}

describe('test_nn.py: gradient clipping', () => {
  it('test_clip_grad_norm', () => {
    const l = new Linear(10, 10);
    const maxNorm = 2;
    const shapes = l.parameters().map((p) => p.shape);
    const compareScaling = (before: tf.Tensor[], after: tf.Tensor[]) => {
      const scale = before.flatMap((g, k) => values(after[k]).map((v, i) => v / values(g)[i]));
      for (const s of scale)
        expect(Math.abs(s - scale[0])).toBeLessThanOrEqual(1e-6 * Math.abs(scale[0]));
      return scale[0];
    };
    for (const normType of [0.5, 1.5, 2, 4, Infinity]) {
      const tag = normType === Infinity ? 'inf' : String(normType);
      const { t } = fixture('clip', `torch_test_p${tag}`);
      const grads = [tf.reshape(t['input.g0'], shapes[0]), tf.reshape(t['input.g1'], shapes[1])];
      const normBefore = computeNorm(grads, normType);
      const out = clipGradNorm({ weight: grads[0], bias: grads[1] }, maxNorm, { normType });
      const clipped = [out.grads.weight, out.grads.bias];
      const normAfter = computeNorm(clipped, normType);
      expect(out.totalNorm / normBefore).toBeCloseTo(1, 6);
      expect(normAfter).toBeCloseTo(maxNorm, 4);
      expect(normAfter).toBeLessThanOrEqual(normBefore);
      compareScaling(grads, clipped);
      // and PyTorch's own numbers
      expect(Math.abs(out.totalNorm - t['output.total_norm'].dataSync()[0])).toBeLessThanOrEqual(
        1e-6 * normBefore,
      );
      expectClose(clipped[0], tf.reshape(t['output.g0'], shapes[0]), 1e-6);
      tf.dispose([...grads, ...clipped, ...Object.values(t)]);
    }
    // Small gradients should be left unchanged
    const small = [
      tf.div(tf.randomUniform([10, 10], 0, 1, 'float32', 1), 10000),
      tf.div(tf.ones([10]), 500),
    ];
    for (const normType of [0.5, 1.5, 2, 4, Infinity]) {
      const normBefore = computeNorm(small, normType);
      const out = clipGradNorm({ weight: small[0], bias: small[1] }, maxNorm, { normType });
      const clipped = [out.grads.weight, out.grads.bias];
      const normAfter = computeNorm(clipped, normType);
      expect(out.totalNorm / normBefore).toBeCloseTo(1, 6);
      expect(normAfter).toBe(normBefore);
      expect(normAfter).toBeLessThanOrEqual(maxNorm);
      expect(compareScaling(small, clipped)).toBe(1);
      tf.dispose(clipped);
    }
    tf.dispose(small);
    l.dispose();
  });

  it('test_clip_grad_value', () => {
    const clipValue = 2.5;
    const gradW = tf.div(tf.reshape(tf.range(-50, 50), [10, 10]), 5);
    const gradB = tf.mul(tf.ones([10]), 2);
    const lists: Array<Record<string, tf.Tensor>> = [
      { weight: gradW, bias: gradB },
      { weight: gradW },
    ];
    for (const grads of lists) {
      const out = clipGradValue(grads, clipValue);
      for (const g of Object.values(out)) {
        expect(Math.max(...values(g))).toBeLessThanOrEqual(clipValue);
        expect(Math.min(...values(g))).toBeGreaterThanOrEqual(-clipValue);
      }
      tf.dispose(Object.values(out));
    }
    // and PyTorch's clip_grad_value_ on random gradients
    const { t, config } = fixture('clip', 'value_0.5');
    const out = clipGradValue({ g0: t['input.g0'], g1: t['input.g1'] }, config.clipValue);
    expectClose(out.g0, t['output.g0'], 0);
    expectClose(out.g1, t['output.g1'], 0);
    tf.dispose([gradW, gradB, ...Object.values(out), ...Object.values(t)]);
  });

  it('test_clip_grad_norm_error_if_nonfinite (float32: 2e200 is not representable, so not tested)', () => {
    const normsPos = [0.1, 1, 2, 3.5, Infinity];
    const normsNeg = [-0.1, -1, -2, -3.5];
    const normsExcept0 = [...normsPos, ...normsNeg];
    const normsAll = [...normsExcept0, 0];
    // grad_only_one_elem, prefix_finite_grad_param, scalars, norms_nonfinite, norms_finite
    const cases: Array<[boolean, boolean, number[], number[], number[]]> = [
      // Test errors from an infinite grad
      [false, false, [Infinity, -Infinity], normsExcept0, [0]],
      [false, true, [Infinity, -Infinity], normsPos, [...normsNeg, 0]],
      [true, false, [Infinity, -Infinity], normsPos, [...normsNeg, 0]],
      [true, true, [Infinity, -Infinity], normsPos, [...normsNeg, 0]],
      // Test errors from a NaN grad
      [false, false, [Number.NaN], normsExcept0, [0]],
      [false, true, [Number.NaN], normsExcept0, [0]],
      [true, false, [Number.NaN], normsExcept0, [0]],
      [true, true, [Number.NaN], normsExcept0, [0]],
      // Test a grad that should never error
      [false, false, [2e22, -2e22], [], normsAll],
      [false, true, [2e22, -2e22], [], normsAll],
      [true, false, [2e22, -2e22], [], normsAll],
      [true, true, [2e22, -2e22], [], normsAll],
    ];
    const genParameters = (scalar: number, oneElem: boolean, prefix: boolean) => {
      const grad = oneElem
        ? tf.tensor1d(Array.from({ length: 10 }, (_, i) => (i === 1 ? scalar : 0)))
        : tf.fill([10], scalar);
      const out: Record<string, tf.Tensor> = prefix
        ? { prefix: tf.ones([1]), param: grad }
        : { param: grad };
      return out;
    };
    const runCase = (
      normType: number,
      errorIfNonfinite: boolean,
      scalar: number,
      oneElem: boolean,
      prefix: boolean,
      nonfinite: boolean,
    ) => {
      const grads = genParameters(scalar, oneElem, prefix);
      const before = Object.values(grads).map(values);
      if (nonfinite && errorIfNonfinite) {
        expectThrows(
          () => clipGradNorm(grads, 1, { normType, errorIfNonfinite: true }),
          NumericsError,
          [`the total norm of order ${normType} for gradients`],
        );
        // Grad should not change if error is thrown
        expect(Object.values(grads).map(values)).toEqual(before);
      } else {
        const out = clipGradNorm(grads, 1, { normType, errorIfNonfinite });
        expect(Number.isFinite(out.totalNorm), `norm ${normType} of ${scalar}`).toBe(!nonfinite);
        tf.dispose(Object.values(out.grads));
      }
      tf.dispose(Object.values(grads));
    };
    for (const [oneElem, prefix, scalars, nonfiniteNorms, finiteNorms] of cases) {
      for (const errorIfNonfinite of [false, true]) {
        for (const normType of nonfiniteNorms)
          for (const s of scalars) runCase(normType, errorIfNonfinite, s, oneElem, prefix, true);
        for (const normType of finiteNorms)
          for (const s of scalars) runCase(normType, errorIfNonfinite, s, oneElem, prefix, false);
      }
    }
  });
});
