import { describe, expect, it } from 'vitest';
import { GROUPS, type Group } from './cases.js';
import { buildsTable, nativeTable, nativeTargets } from './report-native.js';
import type { CaseResult, ImplName, ImplResult } from './results.js';

/** A timed result with median `ms`. */
const timed = (ms: number): ImplResult => ({
  status: 'ok',
  summary: { medianMs: ms, minMs: ms, maxMs: ms, q1Ms: ms, q3Ms: ms, reps: 3 },
});
const result = (
  cell: CaseResult['cell'],
  group: Group,
  impls: Partial<Record<ImplName, number>>,
): CaseResult => ({
  id: `${cell}.${group}`,
  cell,
  group,
  mode: GROUPS[group].mode,
  shape: GROUPS[group].shape,
  backend: 'wasm',
  impls: Object.fromEntries(Object.entries(impls).map(([k, ms]) => [k, timed(ms!)])),
});

describe('issue 18 tables and targets', () => {
  const runs = [
    result('lstm', 'large', {
      rnnkit: 100,
      'rnnkit-1-thread': 180,
      'ort-node': 60,
      'ort-node-1-thread': 72,
      'rnnkit-plain-simd': 120,
    }),
    result('lstm', 'step', {
      rnnkit: 0.2,
      'rnnkit-1-thread': 0.2,
      'ort-node': 0.3,
      'ort-node-1-thread': 0.25,
    }),
    result('gru', 'train', { rnnkit: 10, torch: 25 }),
  ];

  it('puts onnxruntime-node beside rnnkit on the same threads, and on one thread', () => {
    const t = nativeTable(runs, 2)!;
    expect(t).toContain(
      '| LSTM large batch | 64,128,300,256 | wasm | 100 ms | 60.0 ms | 0.60× | 180 ms | 72.0 ms | 0.40× |',
    );
    expect(t).toContain(
      '| LSTM decode step | 1,1,256,256 | wasm | 0.200 ms | 0.300 ms | 1.50× | 0.200 ms | 0.250 ms | 1.25× |',
    );
    expect(nativeTable([runs[2]!], 2)).toBeNull();
  });

  it('compares the relaxed-SIMD build with the plain one where both ran', () => {
    expect(buildsTable(runs, 2)).toContain(
      '| LSTM large batch | 64,128,300,256 | wasm | 100 ms | 120 ms | 1.20× |',
    );
    expect(buildsTable([runs[1]!], 2)).toBeNull();
  });

  it('judges thread for thread: every pair must reach the floor', () => {
    expect(nativeTargets(runs, 2)).toEqual([
      {
        target: 'vs onnxruntime-node: LSTM 64,128,300,256, ≥ 0.5',
        measured: '0.60× on 2, 0.40× on 1 thread',
        met: false,
      },
      {
        target: 'vs onnxruntime-node: LSTM 1,1,256,256, ≥ 0.5',
        measured: '1.50× on 2, 1.25× on 1 thread',
        met: true,
      },
      {
        target: 'vs onnxruntime-node, LSTM decode step: LSTM 1,1,256,256, ≥ 1',
        measured: '1.50× on 2, 1.25× on 1 thread',
        met: true,
      },
      {
        target: 'training step vs PyTorch: GRU 32,64,128,128, ≥ 2',
        measured: '2.50× on 2',
        met: true,
      },
    ]);
  });
});
