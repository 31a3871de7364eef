import { describe, expect, it } from 'vitest';
import { type ProfileResult, profileMarkdown } from './profile.js';

describe('profileMarkdown', () => {
  const functions = [
    { name: 'sgemm', where: 'recurrence.wasm', selfMs: 40, share: 0.8 },
    { name: 'forward', where: 'recurrence.wasm', selfMs: 5, share: 0.1 },
    { name: '(garbage collector)', where: '', selfMs: 2, share: 0.04 },
    { name: 'a', where: 'tfjs-core', selfMs: 2, share: 0.04 },
    { name: 'b', where: 'tfjs-core', selfMs: 1, share: 0.02 },
  ];
  const p: ProfileResult = {
    id: 'rnn.large',
    backend: 'wasm',
    shape: { B: 64, T: 128, I: 300, H: 256 },
    threads: 2,
    wallMs: 30,
    wall1Ms: 48,
    calls: 40,
    profiledMs: 50,
    intervalUs: 100,
    samples: 11_000,
    sampledMs: 50,
    functions,
    bound: {
      projectionMacs: 128 * 64 * 300 * 256,
      recurrenceMacs: 128 * 64 * 256 * 256,
      G: 256,
      sgemmMs: 40,
      gflops: (2 * 128 * 64 * 556 * 256) / 40e6,
      l1Gflops: 80,
    },
  };

  it('tabulates the top functions, groups the tail, and states the bound', () => {
    const md = profileMarkdown(p, 3);
    expect(md).toContain('### rnnkit rnn.large (64,128,300,256) on wasm: where the time goes');
    expect(md).toContain(
      '30.0 ms with up to 2 kernel threads (the default here), 48.0 ms on 1 thread',
    );
    expect(md).toContain('Profiled on 1 thread: 40 calls, 50.0 ms each');
    expect(md).toMatch(/^\| sgemm \(recurrence\.wasm\) \| 40\.0 \| 80\.0% \|$/m);
    expect(md).toMatch(/^\| \(garbage collector\) \| 2\.00 \| 4\.0% \|$/m);
    expect(md).toMatch(/^\| 2 other functions \| 3\.00 \| 6\.0% \|$/m);
    expect(md).not.toMatch(/^\| a \(tfjs-core\)/m);
    expect(md).toContain('1.17 G multiply-adds per call');
    expect(md).toContain('G = H), 2.33 GFLOP');
    expect(md).toContain('**58.3 GFLOP/s**, 72.9% of the 80.0 GFLOP/s');
  });

  it('says so when sgemm was never sampled', () => {
    expect(profileMarkdown({ ...p, bound: null })).toContain('no sample in the kernel');
  });
});
