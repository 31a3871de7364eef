/** The targets of issues 7 and 18, judged on a run's ratios and memory probes. */
import { type BackendName, type CellKind, fmtShape, GROUPS, type Group } from './cases.js';
import type { MemoryResult } from './memprobe.js';
import { fmtMs } from './report.js';
import { nativeTargets } from './report-native.js';
import { CELL_NAME, fmtRatio } from './report-table.js';
import type { CaseResult } from './results.js';

export interface TargetResult {
  target: string;
  measured: string;
  /** null when the run did not measure it (filtered out, skipped, mismatch). */
  met: boolean | null;
}

function find(
  results: CaseResult[],
  cell: CellKind,
  group: Group,
  backend: BackendName,
): CaseResult | undefined {
  return results.find((r) => r.cell === cell && r.group === group && r.backend === backend);
}

/** The targets of issue 7, judged on this run's ratios. */
export function evaluateTargets(
  results: CaseResult[],
  memory: MemoryResult[],
  threads = 1,
): TargetResult[] {
  const out: TargetResult[] = [];
  const ratio = (
    label: string,
    cell: CellKind,
    group: Group,
    backend: BackendName,
    impl: 'tfjs-layers' | 'ort',
    min: number,
  ) => {
    const r = find(results, cell, group, backend);
    const v = r?.impls[impl];
    const target = `${label}: ${CELL_NAME[cell]} ${fmtShape(GROUPS[group].shape)} on ${backend}, ×${impl === 'ort' ? 'ORT' : 'layers'} ≥ ${min}`;
    if (!r) return; // not part of this run
    if (!v) return out.push({ target, measured: 'not run', met: null });
    if (v.speedup === undefined) {
      return out.push({ target, measured: v.reason ?? v.status, met: null });
    }
    // rnnkit on one thread too, where it ran on more; ONNX Runtime Web runs on one thread, so
    // that goal is judged one thread against one thread.
    const one = r.impls['rnnkit-1-thread']?.summary;
    const single = one && v.summary ? v.summary.medianMs / one.medianMs : undefined;
    if (single === undefined) {
      return out.push({ target, measured: fmtRatio(v.speedup), met: v.speedup >= min });
    }
    const both = `${fmtRatio(v.speedup)} on ${threads} threads, ${fmtRatio(single)} on 1`;
    if (impl === 'ort')
      return out.push({ target: `${target} (1 thread each)`, measured: both, met: single >= min });
    out.push({ target, measured: both, met: v.speedup >= min });
  };
  for (const group of ['tutorial', 'large'] as const) {
    for (const cell of ['rnn', 'lstm', 'gru'] as const) {
      ratio('goal', cell, group, 'wasm', 'ort', 1);
    }
  }
  for (const cell of ['rnn', 'lstm', 'gru'] as const)
    ratio('floor', cell, 'large', 'wasm', 'tfjs-layers', 5);
  ratio('floor', 'rnn', 'tutorial', 'wasm', 'tfjs-layers', 4);
  ratio('floor', 'rnn', 'large', 'cpu', 'tfjs-layers', 10);
  for (const backend of ['wasm', 'cpu'] as const) {
    for (const cell of ['rnn', 'lstm', 'gru'] as const) {
      ratio('training', cell, 'train', backend, 'tfjs-layers', 3);
    }
  }
  // Long sequence: runs, and memory grows linearly (peak bytes per step about constant).
  const longRuns = results.filter((r) => r.group === 'long');
  if (longRuns.length > 0) {
    const ok = longRuns.every((r) => r.impls.rnnkit?.status === 'ok');
    out.push({
      target: `long sequence ${fmtShape(GROUPS.long.shape)}: rnnkit runs on every backend`,
      measured: longRuns
        .map(
          (r) =>
            `${r.cell} ${r.backend} ${r.impls.rnnkit?.summary ? fmtMs(r.impls.rnnkit.summary.medianMs) : (r.impls.rnnkit?.status ?? '–')}`,
        )
        .join(', '),
      met: ok,
    });
  }
  out.push(...nativeTargets(results, threads));
  const pairs = linearity(memory);
  if (pairs.length > 0) {
    const worst = Math.max(...pairs.map((p) => Math.abs(p.perStepRatio - 1)));
    const leftovers = memory.reduce((s, m) => s + Math.abs(m.tensorsLeft), 0);
    out.push({
      target: 'long sequence: peak tensor memory linear in T, no per-step leftovers',
      measured:
        `peak bytes per step at T=10,000 vs T=1,000: ${pairs.map((p) => `${p.cell} ${p.backend} ${p.perStepRatio.toFixed(2)}`).join(', ')}; ` +
        `tensors left after dispose: ${leftovers}`,
      met: worst < 0.25 && leftovers === 0,
    });
  }
  return out;
}

function linearity(memory: MemoryResult[]) {
  const out: Array<{ cell: CellKind; backend: BackendName; perStepRatio: number }> = [];
  for (const m of memory) {
    if (m.T !== 10_000) continue;
    const small = memory.find((s) => s.cell === m.cell && s.backend === m.backend && s.T === 1000);
    if (!small) continue;
    out.push({
      cell: m.cell,
      backend: m.backend,
      perStepRatio: m.peakExtraBytes / m.T / (small.peakExtraBytes / small.T),
    });
  }
  return out;
}
