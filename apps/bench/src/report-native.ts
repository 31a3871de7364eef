/**
 * The tables and targets of issue 18: rnnkit against onnxruntime-node thread for thread, the
 * kernel's relaxed-SIMD build against its plain SIMD one, and PyTorch's training step.
 */
import { fmtShape } from './cases.js';
import { CELL_NAME, fmtRatio, rowLabel, timedTable } from './report-table.js';
import type { CaseResult, ImplName, ImplResult } from './results.js';
import type { TargetResult } from './targets.js';

const med = (v: ImplResult | undefined) => v?.summary?.medianMs;
const fmt = (ms: number | undefined) =>
  ms === undefined ? '–' : ms >= 100 ? `${ms.toFixed(0)} ms` : `${ms.toPrecision(3)} ms`;
const ratio = (x: number | undefined) => (x === undefined ? '' : fmtRatio(x));
/** Their median / ours, when both were timed. */
const over = (theirs: ImplResult | undefined, ours: ImplResult | undefined) => {
  const a = med(theirs);
  const b = med(ours);
  return a !== undefined && b !== undefined ? a / b : undefined;
};
/** rnnkit's result on one thread: its own column, or rnnkit itself when the run had one thread. */
const oursOne = (r: CaseResult, threads: number) =>
  threads > 1 ? r.impls['rnnkit-1-thread'] : r.impls.rnnkit;
const theirsOne = (r: CaseResult, threads: number): ImplResult | undefined =>
  threads > 1 ? r.impls['ort-node-1-thread'] : r.impls['ort-node'];

/** rnnkit vs onnxruntime-node on the run's threads and on one: ×X = theirs / ours. */
export function nativeTable(results: CaseResult[], threads: number): string | null {
  return timedTable(
    results,
    'ort-node',
    [
      `| case | B,T,I,H | backend | rnnkit, ${threads} threads | onnxruntime-node, ${threads} threads | ×native | rnnkit, 1 thread | onnxruntime-node, 1 thread | ×native |`,
      '|---|---|---|---|---|---:|---|---|---:|',
    ],
    (r) => {
      const i = r.impls;
      const [o1, t1] = [oursOne(r, threads), theirsOne(r, threads)];
      return (
        `| ${rowLabel(r)} | ${fmt(med(i.rnnkit))} | ${fmt(med(i['ort-node']))} | ${ratio(over(i['ort-node'], i.rnnkit))} | ` +
        `${fmt(med(o1))} | ${fmt(med(t1))} | ${ratio(over(t1, o1))} |`
      );
    },
  );
}

/** The kernel's relaxed-SIMD build (rnnkit's default here) against its plain SIMD build. */
export function buildsTable(results: CaseResult[], threads: number): string | null {
  return timedTable(
    results,
    'rnnkit-plain-simd',
    [
      `| case | B,T,I,H | backend | relaxed SIMD, ${threads} threads | plain SIMD, ${threads} threads | ×plain |`,
      '|---|---|---|---|---|---:|',
    ],
    (r) => {
      const [fused, plain] = [r.impls.rnnkit, r.impls['rnnkit-plain-simd']];
      return `| ${rowLabel(r)} | ${fmt(med(fused))} | ${fmt(med(plain))} | ${ratio(over(plain, fused))} |`;
    },
  );
}

/** Issue 18's targets on this run's ratios (thread for thread), on the wasm backend's rows. */
export function nativeTargets(results: CaseResult[], threads: number): TargetResult[] {
  const out: TargetResult[] = [];
  /** Each pair: their column over ours ('one': both on one thread); met when all reach `min`. */
  type Pair = [ImplName, ImplName | 'one'];
  const judge = (target: string, rows: CaseResult[], pairs: Pair[], min: number) => {
    for (const r of rows.filter((r) => r.backend === 'wasm' && r.impls[pairs[0]![0]])) {
      const xs = pairs.map(([theirs, ours]) =>
        ours === 'one'
          ? over(theirsOne(r, threads), oursOne(r, threads))
          : over(r.impls[theirs], r.impls[ours]),
      );
      const name = `${target}: ${CELL_NAME[r.cell]} ${fmtShape(r.shape)}, ≥ ${min}`;
      if (xs.some((x) => x === undefined)) {
        out.push({ target: name, measured: 'not timed', met: null });
        continue;
      }
      const on = (k: number) => (pairs[k]![1] === 'one' ? ' on 1 thread' : ` on ${threads}`);
      const measured = xs.map((x, k) => `${ratio(x)}${on(k)}`).join(', ');
      out.push({ target: name, measured, met: xs.every((x) => x! >= min) });
    }
  };
  const native: Pair[] = [['ort-node', 'rnnkit']];
  if (threads > 1) native.push(['ort-node-1-thread', 'one']);
  judge('vs onnxruntime-node', results, native, 0.5);
  const step = results.filter((r) => r.group === 'step' && r.cell === 'lstm');
  judge('vs onnxruntime-node, LSTM decode step', step, native, 1);
  judge('training step vs PyTorch', results, [['torch', 'rnnkit']], 2);
  return out;
}
