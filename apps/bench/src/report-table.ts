/** What the report's Markdown tables share: row labels, ratios, and tables of the timed rows. */
import { type CellKind, fmtShape, GROUPS } from './cases.js';
import type { CaseResult, ImplName } from './results.js';

export const CELL_NAME: Record<CellKind, string> = { rnn: 'RNN', lstm: 'LSTM', gru: 'GRU' };

/** A row's first three cells: "LSTM tutorial | 2,10,300,256 | wasm". */
export function rowLabel(r: CaseResult): string {
  return `${CELL_NAME[r.cell]} ${GROUPS[r.group].label} | ${fmtShape(r.shape)} | ${r.backend}`;
}

/** "3.14×", "42×". */
export function fmtRatio(x: number): string {
  return x >= 10 ? `${x.toFixed(0)}×` : `${x.toFixed(2)}×`;
}

/**
 * A Markdown table (its header and alignment lines, then `line(r)`) of the results in which `impl`
 * was timed; null when there are none.
 */
export function timedTable(
  results: CaseResult[],
  impl: ImplName,
  header: [string, string],
  line: (r: CaseResult) => string,
): string | null {
  const rows = results.filter((r) => r.impls[impl]?.summary);
  return rows.length === 0 ? null : [...header, ...rows.map(line)].join('\n');
}
