import * as tf from '@tensorflow/tfjs-core';
import { GRU } from './gru.js';
import { LSTM, type LSTMOptions } from './lstm.js';
import type { ForwardOptions, RecurrentLayer, RecurrentOptions } from './recurrent.js';
import { RNN, type RNNOptions } from './rnn.js';

export * from '@rnnkit/vitest-config/helpers';

/** The three layer classes behind one calling convention. */
export interface Run {
  output: tf.Tensor;
  hN: tf.Tensor;
  /** LSTM only */
  cN?: tf.Tensor;
  /** Every returned tensor (to count and dispose). */
  all: tf.Tensor[];
}

export interface LayerKind {
  name: 'RNN' | 'LSTM' | 'GRU';
  gates: number;
  make: (opts: Record<string, unknown>) => RecurrentLayer;
  /** forward(input, h0 | [h0, c0], opts): states are passed only when given. */
  run: (
    m: RecurrentLayer,
    input: tf.Tensor,
    h0?: tf.Tensor,
    c0?: tf.Tensor,
    opts?: ForwardOptions,
  ) => Run;
}

export const KINDS: LayerKind[] = [
  {
    name: 'RNN',
    gates: 1,
    make: (o) => new RNN(o as unknown as RNNOptions),
    run: (m, x, h0, _c0, opts) => {
      const [output, hN] = (m as RNN).forward(x, h0, opts);
      return { output, hN, all: [output, hN] };
    },
  },
  {
    name: 'LSTM',
    gates: 4,
    make: (o) => new LSTM(o as unknown as LSTMOptions),
    run: (m, x, h0, c0, opts) => {
      const [output, [hN, cN]] = (m as LSTM).forward(
        x,
        h0 || c0 ? [h0 as tf.Tensor, c0 as tf.Tensor] : undefined,
        opts,
      );
      return { output, hN, cN, all: [output, hN, cN] };
    },
  },
  {
    name: 'GRU',
    gates: 3,
    make: (o) => new GRU(o as unknown as RecurrentOptions),
    run: (m, x, h0, _c0, opts) => {
      const [output, hN] = (m as GRU).forward(x, h0, opts);
      return { output, hN, all: [output, hN] };
    },
  },
];

/** t[i] along axis 0 (dropping that axis). */
export function at(t: tf.Tensor, i: number): tf.Tensor {
  const begin = t.shape.map((_, k) => (k === 0 ? i : 0));
  const size = t.shape.map((s, k) => (k === 0 ? 1 : s));
  return tf.reshape(tf.slice(t, begin, size), t.shape.slice(1));
}

/** x[begin:begin+size] along `axis` (keeping the axis). */
export function sliceAxis(t: tf.Tensor, axis: number, begin: number, size: number): tf.Tensor {
  const b = t.shape.map((_, k) => (k === axis ? begin : 0));
  const s = t.shape.map((n, k) => (k === axis ? size : n));
  return tf.slice(t, b, s);
}
