/** Cell types the demo knows: torch.nn.RNN / LSTM / GRU and the tutorial's MyRNN (ElmanRNN). */
export const CELL_TYPES = ['rnn', 'lstm', 'gru', 'myrnn'] as const;
export type CellType = (typeof CELL_TYPES)[number];

export const CELL_LABELS: Record<CellType, string> = {
  rnn: 'RNN',
  lstm: 'LSTM',
  gru: 'GRU',
  myrnn: 'MyRNN',
};

/** Throws a RangeError naming `arg` unless `value` is an integer in [min, max]. */
export function checkInt(value: unknown, arg: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${arg}: expected an integer in [${min}, ${max}], got ${String(value)}`);
  }
  return value;
}

/** Throws a RangeError naming `arg` unless `value` is a finite number > 0. */
export function checkPositive(value: unknown, arg: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new RangeError(`${arg}: expected a positive number, got ${String(value)}`);
  }
  return value;
}

/** Throws a RangeError naming `arg` unless `value` is one of the cell types. */
export function checkCell(value: unknown, arg: string): CellType {
  if (!CELL_TYPES.includes(value as CellType)) {
    throw new RangeError(`${arg}: expected one of ${CELL_TYPES.join(', ')}, got ${String(value)}`);
  }
  return value as CellType;
}
