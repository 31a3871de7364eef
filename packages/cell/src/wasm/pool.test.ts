import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SGEMM_ARGS, writeArgs } from './args.js';
import { KERNEL_WASM } from './kernel-wasm.js';
import { ThreadPool } from './pool.js';
import { threadsPossible } from './workers.js';

type Exports = {
  memory: WebAssembly.Memory;
  sgemm(args: number): void;
  pack(N: number, K: number, w: number, dst: number): void;
  forward(args: number): void;
  projectAhead(args: number): void;
};

describe('ThreadPool (the kernel on worker threads)', () => {
  let k: Exports;
  let pool: ThreadPool;
  const M = 37;
  const N = 24;
  const K = 19;
  // a [M, K], w [N, K], its packed copy, c [M, N], argument blocks: at fixed offsets above the
  // module's data.
  const at = { a: 65536, w: 65536 * 2, packed: 65536 * 3, c: 65536 * 4, args: 65536 * 5 };
  /** Argument blocks written so far: each call's shares get fresh ones (64 in turn). */
  let blocks = 0;
  /** Writes an sgemm argument block; returns its offset. */
  const block = (M: number, a: number, c: number, j0 = 0, j1 = 0) => {
    const ptr = at.args + (blocks++ % 64) * 64;
    writeArgs(k.memory.buffer, ptr, SGEMM_ARGS, { M, N, K, a, b: at.packed, bias: 0, c, j0, j1 });
    return ptr;
  };

  beforeAll(async () => {
    expect(threadsPossible()).toBe(true); // Node
    const memory = new WebAssembly.Memory({ initial: 8, maximum: 65536, shared: true });
    const bytes = Uint8Array.from(atob(KERNEL_WASM.simd.shared), (ch) => ch.charCodeAt(0));
    const module = await WebAssembly.compile(bytes);
    k = (await WebAssembly.instantiate(module, { env: { memory } })).exports as unknown as Exports;
    const started = await ThreadPool.start({ simd: k }, { simd: module }, memory, 2);
    expect(started).not.toBeNull();
    pool = started!;
    const f32 = (off: number, n: number) => new Float32Array(memory.buffer, off, n);
    f32(at.a, M * K).forEach((_, i, v) => {
      v[i] = Math.sin(i * 0.37);
    });
    f32(at.w, N * K).forEach((_, i, v) => {
      v[i] = Math.cos(i * 0.11);
    });
    k.pack(N, K, at.w, at.packed);
  });
  afterAll(() => pool?.close());

  const result = () => new Float32Array(k.memory.buffer, at.c, M * N).slice();
  /** The sgemm argument block for rows [r0, r1). */
  const rows = (r0: number, r1: number) => block(r1 - r0, at.a + r0 * K * 4, at.c + r0 * N * 4);

  it('has the calling thread and its workers', () => {
    expect(pool.size).toBe(3);
  });

  it('runs row ranges on three threads with the same result as one call', () => {
    k.sgemm(rows(0, M));
    const one = result();
    new Float32Array(k.memory.buffer, at.c, M * N).fill(Number.NaN);
    pool.run(k, 'sgemm', [rows(0, 12), rows(12, 24), rows(24, M)]);
    expect(result()).toEqual(one);
    // and against a plain JS product
    const a = new Float32Array(k.memory.buffer, at.a, M * K);
    const w = new Float32Array(k.memory.buffer, at.w, N * K);
    let worst = 0;
    for (let i = 0; i < M; i++)
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let q = 0; q < K; q++) s += a[i * K + q]! * w[j * K + q]!;
        worst = Math.max(worst, Math.abs(s - one[i * N + j]!));
      }
    expect(worst).toBeLessThan(1e-5);
  });

  it('runs column ranges (strips of 8) on three threads with the same result as one call', () => {
    // 1, 2, 3 and 5 rows: every register block of the last rows (1x24, 1x16, 1x8, 2x16, 2x8, 4x8).
    for (const m of [1, 2, 3, 5]) {
      k.sgemm(rows(0, m));
      const one = result().subarray(0, m * N);
      new Float32Array(k.memory.buffer, at.c, M * N).fill(Number.NaN);
      pool.run(k, 'sgemm', [
        block(m, at.a, at.c, 0, 8),
        block(m, at.a, at.c, 8, 16),
        block(m, at.a, at.c, 16, N),
      ]);
      expect(result().subarray(0, m * N), `${m} rows`).toEqual(one);
    }
  });

  it('computes a row the same, bit for bit, whichever block (4, 2 or 1 rows) it falls in', () => {
    k.sgemm(rows(0, M));
    const one = result();
    new Float32Array(k.memory.buffer, at.c, M * N).fill(Number.NaN);
    // Calls of 2, 1 and 3 rows in turn: blocks of 2 rows, of 1, of 2 then 1.
    for (let r = 0, n = 0; r < M; r += [2, 1, 3][n++ % 3]!)
      k.sgemm(rows(r, Math.min(r + [2, 1, 3][n % 3]!, M)));
    expect(result()).toEqual(one);
  });

  it('refuses exports of a build its workers did not instantiate', () => {
    expect(() => pool.run({ ...k }, 'sgemm', [rows(0, 12), rows(12, M)])).toThrow(
      'rnnkit kernel: a split call of a build the workers lack',
    );
  });

  it('throws when a worker traps, and runs the next call normally', () => {
    const outOfBounds = block(M, 0x7fff_fff0, at.c);
    expect(() => pool.run(k, 'sgemm', [rows(0, 12), outOfBounds])).toThrow(
      'rnnkit kernel: sgemm failed in 1 share(s) of a split call',
    );
    k.sgemm(rows(0, M));
    const one = result();
    pool.run(k, 'sgemm', [rows(0, 20), rows(20, M)]);
    expect(result()).toEqual(one);
  });

  it('throws when the calling thread traps, and runs the next call normally', () => {
    const outOfBounds = block(M, 0x7fff_fff0, at.c);
    expect(() => pool.run(k, 'sgemm', [outOfBounds, rows(0, M)])).toThrow(/out of bounds/);
    k.sgemm(rows(0, M));
    const one = result();
    new Float32Array(k.memory.buffer, at.c, M * N).fill(0);
    pool.run(k, 'sgemm', [rows(0, 12), rows(12, 24), rows(24, M)]);
    expect(result()).toEqual(one);
  });

  it('runs a share itself when its worker has not claimed it yet, with the same result', () => {
    k.sgemm(rows(0, M));
    const one = result();
    // Shares far shorter than a worker's wake-up: the caller finishes its own and takes the rest.
    const before = pool.stolen;
    for (let i = 0; i < 200; i++) {
      new Float32Array(k.memory.buffer, at.c, M * N).fill(Number.NaN);
      pool.run(k, 'sgemm', [rows(0, 4), rows(4, 8), rows(8, M)]);
      expect(result()).toEqual(one);
    }
    expect(pool.stolen - before).toBeGreaterThan(0);
  });

  it('has its workers poll for spinMicros after a call, then block; a call after that runs normally', async () => {
    k.sgemm(rows(0, M));
    const one = result();
    const until = async (test: () => boolean) => {
      for (const t0 = Date.now(); !test(); ) {
        if (Date.now() - t0 > 5000) throw new Error('timed out');
        await new Promise((r) => setTimeout(r, 1));
      }
    };
    pool.spinMicros = 0;
    pool.run(k, 'sgemm', [rows(0, 12), rows(12, 24), rows(24, M)]);
    await until(() => pool.sleeping === 2);
    // A call wakes both workers (whether they run their shares or this thread takes them back);
    // each then polls for 100 ms before it blocks again.
    pool.spinMicros = 100_000;
    pool.run(k, 'sgemm', [rows(0, 12), rows(12, 24), rows(24, M)]);
    expect(result()).toEqual(one);
    await until(() => pool.sleeping === 0);
    const awake = performance.now();
    await until(() => pool.sleeping === 2);
    expect(performance.now() - awake).toBeGreaterThanOrEqual(50);
    pool.spinMicros = 0;
    new Float32Array(k.memory.buffer, at.c, M * N).fill(Number.NaN);
    pool.run(k, 'sgemm', [rows(0, 12), rows(12, 24), rows(24, M)]);
    expect(result()).toEqual(one);
  });

  it('never deadlocks over a million back-to-back split calls (a worker late for one call and the next)', () => {
    // Tiny shares: the caller posts the next call while a worker may still be in its loop from the
    // previous one; the worker must report the call it actually claimed.
    for (let i = 0; i < 1_000_000; i++) pool.run(k, 'sgemm', [rows(0, 4), rows(4, 8), rows(8, M)]);
    k.sgemm(rows(0, M));
    const one = result();
    new Float32Array(k.memory.buffer, at.c, M * N).fill(Number.NaN);
    pool.run(k, 'sgemm', [rows(0, 4), rows(4, 8), rows(8, M)]);
    expect(result()).toEqual(one);
  });
});
