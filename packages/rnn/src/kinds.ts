import { assertOneOf } from '@rnnkit/ops/internal';
import { GRU } from './gru.js';
import { LSTM } from './lstm.js';
import type { RecurrentOptions } from './options.js';
import type { RecurrentLayer } from './recurrent.js';
import { RNN } from './rnn.js';

/**
 * The registry of recurrent cell kinds: each kind's layer class and PyTorch name. Heads, apps and
 * tests build layers through it; a new kind is one entry here (plus its math in @rnnkit/cell).
 */
export const CELL_KINDS = {
  /** torch.nn.RNN */
  rnn: {
    /** the layer class */
    layer: RNN,
    /** PyTorch's class name */
    torchName: 'RNN',
  },
  /** torch.nn.LSTM */
  lstm: {
    /** the layer class */
    layer: LSTM,
    /** PyTorch's class name */
    torchName: 'LSTM',
  },
  /** torch.nn.GRU */
  gru: {
    /** the layer class */
    layer: GRU,
    /** PyTorch's class name */
    torchName: 'GRU',
  },
} as const;

/** A registered cell kind: 'rnn', 'lstm' or 'gru'. */
export type CellKind = keyof typeof CELL_KINDS;

/** The kinds, in registry order: ['rnn', 'lstm', 'gru']. */
export const CELL_KIND_NAMES = Object.keys(CELL_KINDS) as CellKind[];

/** Checks that `kind` is a registered cell kind (`arg` names it in the error) and returns it. */
export function assertCellKind(kind: unknown, arg: string): CellKind {
  return assertOneOf(kind, arg, CELL_KIND_NAMES);
}

/** The layer of `kind` (`new RNN(opts)`, `new LSTM(opts)`, ...): torch.nn.RNN/LSTM/GRU. */
export function createLayer(kind: CellKind, opts: RecurrentOptions): RecurrentLayer {
  return new CELL_KINDS[kind].layer(opts);
}
