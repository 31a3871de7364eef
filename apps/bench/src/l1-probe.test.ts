import { relaxedSimdSupported } from '@rnnkit/cell/internal';
import { describe, expect, it } from 'vitest';
import { l1Gflops } from './l1-probe.js';

describe('l1Gflops', () => {
  it("measures sgemm's inner loop on L1-resident data: a positive, finite rate", () => {
    const g = l1Gflops();
    expect(Number.isFinite(g)).toBe(true);
    expect(g).toBeGreaterThan(0.1);
  });

  it('probes the relaxed-SIMD inner loop (fused multiply-adds) where the runtime has relaxed SIMD', () => {
    if (relaxedSimdSupported()) expect(l1Gflops(true)).toBeGreaterThan(0.1);
    else expect(() => l1Gflops(true)).toThrow(WebAssembly.CompileError);
  });
});
