/** The benchmark's cases: which recurrence, what shape, forward or one training step. */

export type { CellKind } from '@rnnkit/rnn';

import type { CellKind } from '@rnnkit/rnn';
export type Group = 'tutorial' | 'large' | 'long' | 'step' | 'train';
export type BackendName = 'cpu' | 'wasm';

export const CELLS: readonly CellKind[] = ['rnn', 'lstm', 'gru'];
export const BACKENDS: readonly BackendName[] = ['cpu', 'wasm'];

export interface Shape {
  B: number;
  T: number;
  I: number;
  H: number;
}

export interface BenchCase {
  /** e.g. "lstm.large": cell and group; what --filter matches. */
  id: string;
  cell: CellKind;
  group: Group;
  /** 'forward': one forward pass, output read back; 'train': forward + backward + Adam update. */
  mode: 'forward' | 'train';
  shape: Shape;
}

export const GROUPS: Record<Group, { mode: 'forward' | 'train'; shape: Shape; label: string }> = {
  tutorial: { mode: 'forward', shape: { B: 2, T: 10, I: 300, H: 256 }, label: 'the tutorial' },
  large: { mode: 'forward', shape: { B: 64, T: 128, I: 300, H: 256 }, label: 'large batch' },
  long: { mode: 'forward', shape: { B: 1, T: 10_000, I: 32, H: 64 }, label: 'long sequence' },
  // One step of one sequence from a zero state (a decoder's step; every implementation alike).
  step: { mode: 'forward', shape: { B: 1, T: 1, I: 256, H: 256 }, label: 'decode step' },
  train: { mode: 'train', shape: { B: 32, T: 64, I: 128, H: 128 }, label: 'training step' },
};

export const ALL_CASES: BenchCase[] = (Object.keys(GROUPS) as Group[]).flatMap((group) =>
  CELLS.map((cell) => ({
    id: `${cell}.${group}`,
    cell,
    group,
    mode: GROUPS[group].mode,
    shape: GROUPS[group].shape,
  })),
);

export function fmtShape(s: Shape): string {
  return `${s.B},${s.T},${s.I},${s.H}`;
}

/**
 * Cases whose id contains any of the patterns (all when none), in ALL_CASES order.
 * A pattern may also be a shape "B,T,I,H" or a group name.
 */
export function selectCases(patterns: string[], quick: boolean): BenchCase[] {
  const pool = quick ? ALL_CASES.filter((c) => c.group === 'tutorial') : ALL_CASES;
  if (patterns.length === 0) return pool;
  return pool.filter((c) =>
    patterns.some((p) => c.id.includes(p.toLowerCase()) || fmtShape(c.shape) === p),
  );
}
