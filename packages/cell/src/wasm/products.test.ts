import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { kernelReady } from '../sequence/engine.js';
import { loadedKernel } from './kernel.js';

/** A deterministic array of n values in [-1, 1). */
const values = (n: number, seed: number) =>
  Float32Array.from({ length: n }, (_, i) => (((i + 1) * 7919 * (seed + 3)) % 2000) / 1000 - 1);

/** c [M, N] = sum over r of opA(a)[m, r] * b[r, n], in float64: the reference. */
function reference(
  M: number,
  N: number,
  R: number,
  at: (m: number, r: number) => number,
  b: Float32Array,
) {
  const c = new Float64Array(M * N);
  for (let m = 0; m < M; m++)
    for (let n = 0; n < N; n++) {
      let s = 0;
      for (let r = 0; r < R; r++) s += at(m, r) * b[r * N + n]!;
      c[m * N + n] = s;
    }
  return c;
}

const maxDiff = (x: ArrayLike<number>, y: ArrayLike<number>) => {
  let d = 0;
  for (let i = 0; i < x.length; i++) d = Math.max(d, Math.abs(x[i]! - y[i]!));
  return d;
};

describe('kernel products', () => {
  const shapes = fc.tuple(
    fc.integer({ min: 1, max: 19 }),
    fc.integer({ min: 1, max: 19 }),
    fc.integer({ min: 1, max: 19 }),
  );

  it('sumOuter: a^T b for every shape, including rows and columns that are no multiple of 4', () => {
    expect(kernelReady()).toBe(true);
    const k = loadedKernel()!;
    fc.assert(
      fc.property(shapes, ([R, M, N]) => {
        const a = values(R * M, 1);
        const b = values(R * N, 2);
        const ours = k.sumOuter(a, R, M, b, N);
        const ref = reference(M, N, R, (m, r) => a[r * M + m]!, b);
        expect(ours.length).toBe(M * N);
        expect(maxDiff(ours, ref)).toBeLessThan(1e-5);
      }),
      { numRuns: 60 },
    );
  });

  it('batchGemm: a[i] b[i] over a batch, either side transposed', () => {
    const k = loadedKernel()!;
    fc.assert(
      fc.property(
        shapes,
        fc.integer({ min: 1, max: 4 }),
        fc.boolean(),
        fc.boolean(),
        ([M, K, N], B, transposeB, transposeA) => {
          const a = values(B * M * K, 3);
          const b = values(B * K * N, 4);
          const ours = k.batchGemm(a, b, B, M, K, N, transposeB, transposeA).slice();
          for (let i = 0; i < B; i++) {
            const bi = b.subarray(i * K * N, (i + 1) * K * N);
            // b[i] as [K, N] (transposed from [N, K] when transposeB)
            const rows = transposeB
              ? Float32Array.from({ length: K * N }, (_, j) => bi[(j % N) * K + Math.floor(j / N)]!)
              : bi;
            // a[i] as [M, K] ([K, M] read transposed when transposeA)
            const at = (m: number, r: number) =>
              a[i * M * K + (transposeA ? r * M + m : m * K + r)]!;
            const ref = reference(M, N, K, at, rows);
            expect(maxDiff(ours.subarray(i * M * N, (i + 1) * M * N), ref)).toBeLessThan(1e-5);
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});
