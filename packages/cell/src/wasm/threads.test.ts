// The kernel's recurrence shared among threads (shares.ts `forwardShares`): split by columns
// (assembly/barrier.ts), its shares claim chunks of every step; or on one thread with its input
// projected ahead by others (assembly/ahead.ts), its shares claim chunks of the projection. Either
// way they give the one-thread result bit for bit whether they run at once on several threads or
// one after another on one (a share that comes late finds every chunk taken and returns).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FORWARD_ARGS, MODES, SGEMM_ARGS, writeArgs } from './args.js';
import { KERNEL_WASM } from './kernel-wasm.js';
import { ThreadPool } from './pool.js';

type Exports = {
  memory: WebAssembly.Memory;
  sgemm(args: number): void;
  pack(N: number, K: number, w: number, dst: number): void;
  forward(args: number): void;
  projectAhead(args: number): void;
};

const GATES = { rnn_tanh: 1, rnn_relu: 1, lstm: 4, gru: 3 } as const;

interface Call {
  mode: (typeof MODES)[number];
  T: number;
  /** Sequences @default 2 */
  B?: number;
  /** An LSTM projection P = 12 */
  proj?: boolean;
  /** Threads splitting the columns (0: one block on one thread) */
  parties?: number;
  /** Steps per chunk of the input projection run ahead (0: x comes projected) */
  ahead?: number;
  reverse?: boolean;
  batchFirst?: boolean;
  /** Sequence b runs T - b steps */
  ragged?: boolean;
  /** The threads poll while they wait, as a browser's main thread must (else they may nap) */
  spin?: boolean;
}

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
 * Lays out one call (H = 20, I = 9) from fixed values; returns its blocks (one per party, or the
 * recurrence's and a projector's with `ahead`), with `ahead` the block of its whole input
 * projection and the recurrence's block without projectors (`plain`), and a reader of its results
 * (out, then h and c).
 */
function layOut(c: Call) {
  const { mode, T, B = 2, parties = 0, ahead = 0 } = c;
  const [H, I] = [20, 9];
  const S = c.proj ? 12 : H;
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
  const chunks = ahead ? Math.ceil(T / ahead) : 8;
  const syncBytes = 128 * chunks;
  const args = {
    mode: MODES.indexOf(mode),
    T,
    B,
    H,
    S,
    G,
    reverse: Number(c.reverse ?? false),
    batchFirst: Number(c.batchFirst ?? false),
    b0: 0,
    b1: B,
    x: alloc(T * B * G),
    whhT: packed(G, S, 1),
    bhh: alloc(G),
    whrT: c.proj ? packed(S, H, 2) : 0,
    valid: c.ragged ? alloc(T * B) : 0,
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
    sync: alloc(syncBytes / 4), // two control lines per chunk (assembly/barrier.ts)
    syncBytes,
    hNext: alloc(B * S),
    stateChunk: 8,
    unitChunk: 8,
    blocking: c.spin ? 0 : 1,
    parties,
    ahead: 0,
    aheadSteps: ahead,
  };
  if (ahead) {
    // x = input [T, B, I] (or [B, T, I]) W_ih^T + b_ih, projected ahead.
    const input = alloc(T * B * I);
    fill(input, T * B * I, 7);
    const bias = alloc(G);
    fill(bias, G, 8);
    f32(args.x, T * B * G).fill(Number.NaN); // what an earlier call left there: not read
    args.ahead = alloc(SGEMM_ARGS.length);
    const product = {
      M: T * B,
      N: G,
      K: I,
      a: input,
      b: packed(G, I, 9),
      bias,
      c: args.x,
      j0: 0,
      j1: 0,
    };
    writeArgs(k.memory.buffer, args.ahead, SGEMM_ARGS, product);
  } else fill(args.x, T * B * G, 3);
  fill(args.bhh, G, 4);
  fill(args.h, B * S, 5);
  fill(args.c, B * H, 6);
  if (c.ragged)
    new Uint8Array(k.memory.buffer, args.valid, T * B).forEach((_, i, v) => {
      v[i] = Math.floor(i / B) < T - (i % B) ? 1 : 0;
    });
  new Int32Array(k.memory.buffer, args.sync, syncBytes / 4).fill(0);
  const blocks = Array.from({ length: Math.max(parties, ahead ? 2 : 1) }, (_, party) => {
    const block = alloc(FORWARD_ARGS.length);
    writeArgs(k.memory.buffer, block, FORWARD_ARGS, { tile: alloc(8), party }, args);
    return block;
  });
  // The recurrence alone, on x as the projection leaves it.
  const plain = alloc(FORWARD_ARGS.length);
  writeArgs(k.memory.buffer, plain, FORWARD_ARGS, { tile: alloc(8), party: 0, ahead: 0 }, args);
  const read = () => [
    ...f32(args.out, T * B * S),
    ...f32(args.h, B * S),
    ...(mode === 'lstm' ? f32(args.c, B * H) : []),
  ];
  return { blocks, projection: args.ahead, plain, read };
}

describe('a recurrence split by columns (chunks of every step)', () => {
  const cases = MODES.flatMap((mode) =>
    [3, 4].flatMap((T) =>
      (mode === 'lstm' ? [false, true] : [false]).map((proj) => ({ mode, T, proj })),
    ),
  );

  for (const c of cases) {
    const name = `${c.mode}${c.proj ? ' with a projection' : ''}, ${c.T} steps`;

    it(`gives the one-thread result when one share runs every chunk and the other comes after: ${name}`, () => {
      const one = layOut(c);
      k.forward(one.blocks[0]!);
      const expected = one.read();
      const split = layOut({ ...c, parties: 2 });
      k.forward(split.blocks[0]!);
      expect(split.read()).toEqual(expected);
      k.forward(split.blocks[1]!); // every chunk done: returns without a change
      expect(split.read()).toEqual(expected);
    });

    it(`gives the one-thread result with its shares on two threads at once: ${name}`, () => {
      const one = layOut(c);
      k.forward(one.blocks[0]!);
      const expected = one.read();
      for (let r = 0; r < 20; r++) {
        const split = layOut({ ...c, parties: 2 });
        pool.run(k, 'forward', split.blocks);
        expect(split.read()).toEqual(expected);
      }
    });
  }
});

describe('a recurrence with its input projected ahead (chunks of steps)', () => {
  // 5 chunks of 16 steps, the last of 6; sequences time-major and batch-first, forward and
  // reverse, ragged.
  const cases: Call[] = MODES.flatMap((mode) =>
    (mode === 'lstm' ? [false, true] : [false]).flatMap((proj) =>
      [false, true].flatMap((reverse) =>
        [
          { B: 1, batchFirst: false },
          { B: 3, batchFirst: true },
          { B: 3, batchFirst: false },
        ].map((s) => ({ mode, T: 70, proj, reverse, ragged: s.B > 1, ...s })),
      ),
    ),
  );

  for (const c of cases) {
    const name = `${c.mode}${c.proj ? ' with a projection' : ''}, B ${c.B}${c.batchFirst ? ' batch-first' : ''}${c.reverse ? ', reverse' : ''}`;
    /** The one-thread result: the whole projection, then the recurrence. */
    const expected = () => {
      const one = layOut({ ...c, ahead: 16 });
      k.sgemm(one.projection);
      k.forward(one.plain);
      return one.read();
    };

    it(`gives the one-thread result when the recurrence runs every chunk, or the projector all before it: ${name}`, () => {
      const want = expected();
      const alone = layOut({ ...c, ahead: 16 });
      k.forward(alone.blocks[0]!);
      expect(alone.read()).toEqual(want);
      k.projectAhead(alone.blocks[1]!); // every chunk taken: returns without a change
      expect(alone.read()).toEqual(want);
      const first = layOut({ ...c, ahead: 16 });
      k.projectAhead(first.blocks[1]!);
      k.forward(first.blocks[0]!);
      expect(first.read()).toEqual(want);
    });

    it(`gives the one-thread result with the projector on another thread at once (waits napping or polling): ${name}`, () => {
      const want = expected();
      for (let r = 0; r < 20; r++) {
        const call = layOut({ ...c, ahead: 16, spin: r % 2 === 1 });
        pool.run(k, 'forward', call.blocks, 'projectAhead');
        expect(call.read()).toEqual(want);
      }
    });
  }
});
