// The kernel's recurrence split by columns (threads.ts `forwardShares`, assembly/barrier.ts): its
// shares claim chunks of every step, so they give the one-thread result bit for bit whether they
// run at once on several threads or one after another on one (a worker that comes late finds
// every chunk taken and returns).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FORWARD_ARGS, MODES, writeArgs } from './args.js';
import { KERNEL_WASM } from './kernel-wasm.js';
import { ThreadPool } from './pool.js';

type Exports = {
  memory: WebAssembly.Memory;
  sgemm(args: number): void;
  pack(N: number, K: number, w: number, dst: number): void;
  forward(args: number): void;
};

const GATES = { rnn_tanh: 1, rnn_relu: 1, lstm: 4, gru: 3 } as const;

describe('a recurrence split by columns (chunks of every step)', () => {
  let k: Exports;
  let pool: ThreadPool;

  beforeAll(async () => {
    const memory = new WebAssembly.Memory({ initial: 64, maximum: 65536, shared: true });
    const bytes = Uint8Array.from(atob(KERNEL_WASM.simd.shared), (ch) => ch.charCodeAt(0));
    const module = await WebAssembly.compile(bytes);
    k = (await WebAssembly.instantiate(module, { env: { memory } })).exports as unknown as Exports;
    pool = (await ThreadPool.start({ simd: k }, { simd: module }, memory, 1))!;
    expect(pool).not.toBeNull();
  });
  afterAll(() => pool?.close());

  /**
   * Lays out one call (B = 2 sequences, T steps, H = 20, LSTM projection P = 12 when `proj`) from
   * fixed values; returns its blocks for `parties` (0: one block on one thread) and a reader of
   * its results (out, then h and c).
   */
  function layOut(mode: (typeof MODES)[number], T: number, proj: boolean, parties: number) {
    const [B, H] = [2, 20];
    const S = proj ? 12 : H;
    const G = GATES[mode] * H;
    let at = 65536;
    const alloc = (floats: number) => {
      const p = at;
      at += Math.ceil(floats / 16) * 64 + 64;
      return p;
    };
    const f32 = (p: number, n: number) => new Float32Array(k.memory.buffer, p, n);
    const fill = (p: number, n: number, seed: number) =>
      f32(p, n).forEach((_, i, v) => {
        v[i] = Math.sin(seed + i * 0.37) * 0.5;
      });
    const packed = (N: number, K: number, seed: number) => {
      const raw = alloc(N * K);
      const dst = alloc(Math.ceil(N / 8) * 8 * K);
      fill(raw, N * K, seed);
      k.pack(N, K, raw, dst);
      return dst;
    };
    const args = {
      mode: MODES.indexOf(mode),
      T,
      B,
      H,
      S,
      G,
      reverse: 0,
      batchFirst: 0,
      b0: 0,
      b1: B,
      x: alloc(T * B * G),
      whhT: packed(G, S, 1),
      bhh: alloc(G),
      whrT: proj ? packed(S, H, 2) : 0,
      valid: 0,
      h: alloc(B * S),
      c: alloc(B * H),
      out: alloc(T * B * S),
      hp: alloc(B * G),
      full: alloc(B * H),
      gates: alloc(B * G),
      hn: alloc(B * H),
      savedStride: 0,
      hIn: 0,
      cIn: 0,
      sync: alloc(256), // control lines for up to 8 chunks (assembly/barrier.ts)
      hNext: alloc(B * S),
      stateChunk: 8,
      unitChunk: 8,
      blocking: 1,
      parties,
    };
    fill(args.x, T * B * G, 3);
    fill(args.bhh, G, 4);
    fill(args.h, B * S, 5);
    fill(args.c, B * H, 6);
    new Int32Array(k.memory.buffer, args.sync, 256).fill(0);
    const blocks = Array.from({ length: Math.max(parties, 1) }, (_, party) => {
      const block = alloc(FORWARD_ARGS.length);
      writeArgs(k.memory.buffer, block, FORWARD_ARGS, { tile: alloc(8), party }, args);
      return block;
    });
    const read = () => [
      ...f32(args.out, T * B * S),
      ...f32(args.h, B * S),
      ...(mode === 'lstm' ? f32(args.c, B * H) : []),
    ];
    return { blocks, read };
  }

  const cases = MODES.flatMap((mode) =>
    [3, 4].flatMap((T) =>
      (mode === 'lstm' ? [false, true] : [false]).map((proj) => ({ mode, T, proj })),
    ),
  );

  for (const { mode, T, proj } of cases) {
    const name = `${mode}${proj ? ' with a projection' : ''}, ${T} steps`;

    it(`gives the one-thread result when one share runs every chunk and the other comes after: ${name}`, () => {
      const one = layOut(mode, T, proj, 0);
      k.forward(one.blocks[0]!);
      const expected = one.read();
      const split = layOut(mode, T, proj, 2);
      k.forward(split.blocks[0]!);
      expect(split.read()).toEqual(expected);
      k.forward(split.blocks[1]!); // every chunk done: returns without a change
      expect(split.read()).toEqual(expected);
    });

    it(`gives the one-thread result with its shares on two threads at once: ${name}`, () => {
      const one = layOut(mode, T, proj, 0);
      k.forward(one.blocks[0]!);
      const expected = one.read();
      for (let r = 0; r < 20; r++) {
        const split = layOut(mode, T, proj, 2);
        pool.run(k, 'forward', split.blocks);
        expect(split.read()).toEqual(expected);
      }
    });
  }
});
