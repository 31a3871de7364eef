import { assertOneOf } from '@rnnkit/ops/internal';
import { GRU } from './gru.js';
import { LSTM } from './lstm.js';
import type { RecurrentLayer, RecurrentOptions } from './recurrent.js';
import { RNN } from './rnn.js';

/**
 * The registry of recurrent cell kinds: each kind's layer class and PyTorch name. Heads, apps and
 * tests build layers through it; a new kind is one entry here (plus its math in @rnnkit/cell).
 */
export const CELL_KINDS = {
  rnn: { layer: RNN, torchName: 'RNN' },
  lstm: { layer: LSTM, torchName: 'LSTM' },
  gru: { layer: GRU, torchName: 'GRU' },
} as const;

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
