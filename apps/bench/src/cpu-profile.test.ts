import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { type CpuProfile, frameWhere, selfTimes } from './cpu-profile.js';

const frame = (functionName: string, url = '') => ({
  functionName,
  url,
  scriptId: '0',
  lineNumber: 0,
  columnNumber: 0,
});

/**
 * root ─┬─ (program) 2 ─ (garbage collector) 3 ─ (idle) 4
 *       ├─ main 5 ─ rnnkitProfiledCalls 6 ─┬─ recurrence/sgemm 7 (wasm)
 *       │                                  ├─ $forward 8 (wasm, no module name)
 *       │                                  └─ helper 9 ─ recurrence/sgemm 10 (another node, same function)
 *       └─ post 11 (node:inspector) ─ dispatch 12
 */
const wasm = 'wasm://wasm/d7842e82';
const synthetic: CpuProfile = {
  nodes: [
    { id: 1, callFrame: frame('(root)'), children: [2, 3, 4, 5, 11] },
    { id: 2, callFrame: frame('(program)') },
    { id: 3, callFrame: frame('(garbage collector)') },
    { id: 4, callFrame: frame('(idle)') },
    { id: 5, callFrame: frame('main', 'file:///nowhere/app/main.js'), children: [6] },
    {
      id: 6,
      callFrame: frame('rnnkitProfiledCalls', 'file:///nowhere/app/main.js'),
      children: [7, 8, 9],
    },
    { id: 7, callFrame: frame('recurrence/sgemm', wasm) },
    { id: 8, callFrame: frame('$forward', wasm) },
    { id: 9, callFrame: frame('helper', 'file:///nowhere/app/main.js'), children: [10] },
    { id: 10, callFrame: frame('recurrence/sgemm', wasm) },
    { id: 11, callFrame: frame('post', 'node:inspector'), children: [12] },
    { id: 12, callFrame: frame('dispatch') },
  ],
  startTime: 1000,
  // Samples at 1010, 1110, 1210, ... (µs): each lasts until the next, the last until endTime.
  samples: [12, 7, 7, 10, 8, 9, 3, 2, 4, 6, 7, 12],
  timeDeltas: [10, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100],
  endTime: 1010 + 11 * 100 + 40,
};

describe('selfTimes', () => {
  it('sums self time per function within the marked calls, plus GC and (program)', () => {
    const r = selfTimes(synthetic, { within: 'rnnkitProfiledCalls' });
    const byName = Object.fromEntries(r.functions.map((f) => [`${f.name} @${f.where}`, f]));
    // sgemm: 4 samples of node 7 or 10 (one function), 100 µs each.
    expect(byName['sgemm @recurrence.wasm']).toMatchObject({ selfUs: 400, samples: 4 });
    expect(byName['forward @wasm']).toMatchObject({ selfUs: 100, samples: 1 });
    expect(byName['helper @main.js']).toMatchObject({ selfUs: 100, samples: 1 });
    expect(byName['rnnkitProfiledCalls @main.js']).toMatchObject({ selfUs: 100, samples: 1 });
    expect(byName['(garbage collector) @']).toMatchObject({ selfUs: 100 });
    expect(byName['(program) @']).toMatchObject({ selfUs: 100 });
    // Outside the calls (the profiler's own post/dispatch) and (idle) are left out.
    expect(Object.keys(byName).some((k) => /dispatch|idle|post/.test(k))).toBe(false);
    expect(r.samples).toBe(9);
    expect(r.totalUs).toBe(900);
    expect(r.functions.reduce((s, f) => s + f.selfUs, 0)).toBe(r.totalUs);
    expect(r.functions[0]!.name).toBe('sgemm');
  });

  it('without a marker, counts every sample but (idle); the last lasts until endTime', () => {
    const r = selfTimes(synthetic);
    const dispatch = r.functions.find((f) => f.name === 'dispatch')!;
    expect(dispatch).toMatchObject({ where: '', samples: 2, selfUs: 100 + 40 });
    expect(r.samples).toBe(11);
    expect(r.totalUs).toBe(10 * 100 + 40);
  });

  it('takes a custom `where`, and survives samples of unknown nodes and a profile without samples', () => {
    const r = selfTimes(
      { ...synthetic, samples: [7, 99, 7], timeDeltas: [0, 50, 50], endTime: 1150 },
      { where: () => 'x' },
    );
    expect(r.functions).toEqual([{ name: 'sgemm', where: 'x', selfUs: 100, samples: 2 }]);
    expect(selfTimes({ ...synthetic, samples: undefined, timeDeltas: undefined })).toEqual({
      totalUs: 0,
      samples: 0,
      functions: [],
    });
  });
});

describe('frameWhere', () => {
  it("names a file's package, a wasm module, a Node built-in", () => {
    expect(frameWhere(frame('main', import.meta.url))).toBe('@rnnkit/bench');
    const core = pathToFileURL(createRequire(import.meta.url).resolve('@tensorflow/tfjs-core'));
    expect(frameWhere(frame('Engine.runKernel', core.href))).toBe('tfjs-core');
    expect(frameWhere(frame('recurrence/forward', 'wasm://wasm/abc'))).toBe('recurrence.wasm');
    expect(frameWhere(frame('sgemm/sgemm', 'wasm://wasm/abc'))).toBe('recurrence.wasm');
    expect(frameWhere(frame('$func12', 'wasm://wasm/abc'))).toBe('wasm');
    expect(frameWhere(frame('post', 'node:inspector'))).toBe('node:inspector');
    expect(frameWhere(frame('(garbage collector)'))).toBe('');
  });
});
