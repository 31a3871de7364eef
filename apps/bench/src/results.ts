/** What a case's run records: the implementations, their results, and the speedups. */
import type { BackendName, BenchCase, CellKind } from './cases.js';
import type { Summary } from './stats.js';

export const IMPLS = [
  'rnnkit',
  'rnnkit-1-thread',
  'rnnkit-plain-simd',
  'tfjs-layers',
  'naive',
  'ort',
  'ort-node',
  'ort-node-1-thread',
  'torch',
  'tfjs-layers-stock-gru',
] as const;
export type ImplName = (typeof IMPLS)[number];

/** Outputs must agree with rnnkit's to this (max abs difference; for training, the first loss). */
export const TOLERANCE = 1e-4;

export interface ImplResult {
  /**
   * ok: checked equal, timed. mismatch: output differs from rnnkit's, not timed.
   * different: a different function by design (stock tfjs-layers GRU), timed for reference.
   * skipped / error: not run (reason says why).
   */
  status: 'ok' | 'mismatch' | 'different' | 'skipped' | 'error';
  reason?: string;
  /** Timed by its first (cold) call alone: too slow to repeat. */
  cold?: boolean;
  maxAbsDiff?: number;
  /** Warm-up calls (ms); the first one also produced the checked output. */
  warmupMs?: number[];
  /** Calls per timed sample: each sample times this many consecutive calls. */
  batch?: number;
  /** Per-call time of each sample (ms): the sample's total time / batch. */
  samplesMs?: number[];
  summary?: Summary;
  /** Their median / rnnkit's median (rnnkit is faster when > 1). */
  speedup?: number;
  /** Tensors left behind over all timed calls (0 when nothing leaks). */
  leakedTensors?: number;
}

export interface CaseResult {
  id: string;
  cell: CellKind;
  group: BenchCase['group'];
  mode: BenchCase['mode'];
  shape: BenchCase['shape'];
  backend: BackendName;
  impls: Partial<Record<ImplName, ImplResult>>;
}

/** Fills in speedups (their median / rnnkit's) where both were timed. */
export function addSpeedups(r: CaseResult, ortFrom?: CaseResult): void {
  // ONNX Runtime does not depend on tfjs's backend: one pass times it, every pass shows it.
  for (const name of ['ort', 'ort-node', 'ort-node-1-thread', 'torch'] as const) {
    const theirs = ortFrom?.impls[name];
    if (ortFrom !== r && theirs && !r.impls[name]) r.impls[name] = { ...theirs };
  }
  const ours = r.impls.rnnkit?.summary?.medianMs;
  for (const [name, v] of Object.entries(r.impls)) {
    if (name === 'rnnkit' || !v) continue;
    if (ours && v.summary) v.speedup = v.summary.medianMs / ours;
    else delete v.speedup;
  }
}
