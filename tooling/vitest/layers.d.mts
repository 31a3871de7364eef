// Types from the source (this file is read by the rnn package's own typecheck; no package cycle).

import type { Tensor } from '@tensorflow/tfjs-core';
import type { CellKind, ForwardOptions, RecurrentLayer } from '../../packages/rnn/src/index.js';

/** One forward's results under one calling convention. */
export interface Run {
  output: Tensor;
  hN: Tensor;
  /** LSTM only */
  cN?: Tensor;
  /** Every returned tensor (to count and dispose). */
  all: Tensor[];
}

export interface LayerKind {
  cell: CellKind;
  name: 'RNN' | 'LSTM' | 'GRU';
  gates: number;
  make: (opts: Record<string, unknown>) => RecurrentLayer;
  /** forward(input, h0 | [h0, c0], opts): states are passed only when given. */
  run: (m: RecurrentLayer, input: Tensor, h0?: Tensor, c0?: Tensor, opts?: ForwardOptions) => Run;
}

export declare const KINDS: LayerKind[];
