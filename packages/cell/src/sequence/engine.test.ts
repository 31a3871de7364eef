import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

describe('engine', () => {
  it('setBackend resolves with the kernel loaded and its threads started (no initKernel)', () => {
    // A fresh process, the built packages, both kernel builds to compile (relaxed SIMD on): what
    // a user's `await setBackend('wasm')` followed by a loop that never awaits sees.
    const dist = (f: string) => JSON.stringify(new URL(`../../dist/${f}`, import.meta.url).href);
    const script = `import { availableParallelism } from 'node:os';
      const { setBackend } = await import('@rnnkit/ops');
      const { kernelThreads } = await import(${dist('index.js')});
      const { kernelBuild } = await import(${dist('internal.js')});
      await setBackend('wasm');
      console.log(JSON.stringify({ build: kernelBuild(), threads: kernelThreads(),
        hw: Math.min(availableParallelism(), 4) }));`;
    const args = ['--experimental-wasm-relaxed-simd', '--input-type=module', '-e', script];
    const r = spawnSync(process.execPath, args, {
      encoding: 'utf8',
      cwd: new URL('../..', import.meta.url).pathname,
    });
    expect(r.status, r.stderr).toBe(0);
    const { build, threads, hw } = JSON.parse(r.stdout);
    expect(build).toBe('relaxed');
    expect(threads).toBe(hw);
  });
});
