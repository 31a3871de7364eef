import * as tf from '@tensorflow/tfjs-core';
import { RECURRENCE_WASM, RECURRENCE_WASM_SHARED } from './kernel/recurrence-wasm.js';
import { hardwareThreads, ThreadPool, threadsPossible } from './threads.js';
import type { CellMode } from './weights.js';

/** The WebAssembly exports of assembly/recurrence.ts; pointers are byte offsets into `memory`. */
interface KernelExports {
  memory: WebAssembly.Memory;
  sgemm(M: number, N: number, K: number, a: number, b: number, bias: number, c: number): void;
  pack(N: number, K: number, w: number, dst: number): void;
  packT(N: number, K: number, b: number, dst: number): void;
  /**
   * forward(mode, T, B, H, S, G, reverse, batchFirst, b0, b1, x, whhT, bhh, whrT, valid, h, c,
   * out, hp, full, gates, hn, savedStride, hIn, cIn), as in assembly/recurrence.ts
   */
  forward(...args: number[]): void;
}

const MODES: Record<CellMode, number> = { rnn_tanh: 0, rnn_relu: 1, lstm: 2, gru: 3 };
/** Our buffers start here, above the module's own (tiny) static data. */
const BASE = 65536;
const PAGE = 65536;

/** Floats of a weight [N, K] packed by the kernel's `pack` (strips of 8 columns of its transpose). */
const packedSize = (N: number, K: number) => Math.ceil(N / 8) * 8 * K;

let kernel: KernelExports | null = null;
let loading: Promise<boolean> | null = null;
let enabled = true;
/** The shared-memory module and its memory, when threads are possible here. */
let sharedKernel: { module: WebAssembly.Module; memory: WebAssembly.Memory } | null = null;

/**
 * Compiles and instantiates the WebAssembly SIMD recurrence kernel (asynchronously, so it also
 * works on a browser's main thread). Resolves true once the kernel is in use, false where
 * WebAssembly or its SIMD is unavailable: the cells then keep their plain JS path. Started when
 * this module loads; await it to be sure the kernel runs from the first forward on. Idempotent.
 * Where threads are possible (Node; a cross-origin isolated page) the kernel's memory is shared,
 * so that worker threads can join in (see `setKernelThreads`).
 */
export function initKernel(): Promise<boolean> {
  loading ??= (async () => {
    const decode = (b64: string) => Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
    if (threadsPossible()) {
      try {
        const memory = new WebAssembly.Memory({ initial: 2, maximum: 65536, shared: true });
        const module = await WebAssembly.compile(decode(RECURRENCE_WASM_SHARED));
        const instance = await WebAssembly.instantiate(module, { env: { memory } });
        kernel = instance.exports as unknown as KernelExports;
        sharedKernel = { module, memory };
        return true;
      } catch {
        // No shared memory after all: the single-threaded module below.
      }
    }
    try {
      const module = await WebAssembly.compile(decode(RECURRENCE_WASM));
      const instance = await WebAssembly.instantiate(module, {});
      kernel = instance.exports as unknown as KernelExports;
      return true;
    } catch {
      return false;
    }
  })();
  return loading;
}

void initKernel();

/** True when the recurrent forward and input projection run in the WebAssembly kernel. */
export function kernelReady(): boolean {
  return enabled && kernel !== null;
}

/** Turns the kernel off (the plain JS path runs) or back on; for comparisons and tests. */
export function setKernelEnabled(on: boolean): void {
  enabled = on;
}

/** Threads asked for (null: the default, this machine's threads up to MAX_THREADS). */
let wanted: number | null = null;
let pool: ThreadPool | null = null;
let starting: Promise<void> | null = null;
const MAX_THREADS = 4;
/**
 * Multiply-adds each thread's share must reach (2 M: about 40 µs of work on one core, against the
 * tens of microseconds that waking a worker costs).
 */
const MIN_WORK = 1 << 21;
let minWork = MIN_WORK;

/**
 * Sets how many threads the kernel may use for one large call (`n` >= 1; omitted: this machine's
 * threads, at most 4) and starts the worker threads it needs; resolves to the number of threads
 * in use, 1 where threads are unavailable (no SharedArrayBuffer, a page that is not cross-origin
 * isolated, no kernel). Without a call, workers start on the first call large enough to gain.
 * Results do not depend on the number of threads: every row is computed the same way.
 */
export async function setKernelThreads(n?: number): Promise<number> {
  if (n !== undefined && !(Number.isInteger(n) && n >= 1))
    throw new RangeError(
      `setKernelThreads(n): expected an integer >= 1, got ${typeof n === 'number' ? n : typeof n}`,
    );
  wanted = n ?? null;
  await startPool();
  return kernelThreads();
}

/** Threads a large kernel call uses now: 1 until the workers have started. */
export function kernelThreads(): number {
  return pool ? Math.min(pool.size, wanted ?? MAX_THREADS) : 1;
}

/** Starts (or restarts, to grow it) the pool for the threads wanted. */
function startPool(): Promise<void> {
  const prev = starting ?? Promise.resolve();
  starting = (async () => {
    await prev;
    if (!(await initKernel()) || !sharedKernel) return;
    try {
      const count = Math.min(wanted ?? Math.min(await hardwareThreads(), MAX_THREADS), 64) - 1;
      if (pool && pool.size - 1 >= count) return;
      pool?.close();
      pool = null;
      const { module, memory } = sharedKernel;
      pool = await ThreadPool.start(kernel!, module, memory, count);
    } catch {
      // No threads here after all (e.g. a runtime that forbids workers): one thread, as before.
      pool = null;
    }
  })();
  return starting;
}

/** For tests: the work (multiply-adds) each thread's share must reach; omitted: the default. */
export function setMinParallelWork(macs = MIN_WORK): void {
  minWork = macs;
}

/**
 * Splits rows [0, M) into one range per thread for a call of `work` multiply-adds: ranges of a
 * multiple of 4 rows (the sgemm's blocks), none under `minWork`; one range when small. Starts the
 * workers (for later calls) the first time a call is large enough.
 */
function ranges(M: number, work: number): Array<[number, number]> {
  if (work < 2 * minWork || M < 8) return [[0, M]];
  if (!pool) {
    if (!starting) void startPool();
    return [[0, M]];
  }
  const n = Math.min(kernelThreads(), Math.floor(work / minWork), Math.floor(M / 4));
  if (n < 2) return [[0, M]];
  const step = Math.ceil(M / n / 4) * 4;
  const out: Array<[number, number]> = [];
  for (let r0 = 0; r0 < M; r0 += step) out.push([r0, Math.min(r0 + step, M)]);
  return out;
}

/** c [M, N] = a [M, K] x packed b (+ bias), rows split across threads when large. */
function gemm(
  k: KernelExports,
  M: number,
  N: number,
  K: number,
  a: number,
  b: number,
  bias: number,
  c: number,
) {
  const rs = ranges(M, M * N * K);
  if (rs.length === 1) return k.sgemm(M, N, K, a, b, bias, c);
  pool!.run(
    'sgemm',
    rs.map(([r0, r1]) => [r1 - r0, N, K, a + r0 * K * 4, b, bias, c + r0 * N * 4]),
  );
}

/** Lays buffers out in the kernel's memory, 16-byte aligned, growing it as needed. */
class Arena {
  private next: number;
  constructor(private readonly k: KernelExports) {
    this.next = cacheEnd;
  }
  /** Reserves n floats (or bytes, with `bytes`) and returns the byte offset; 0 when n is 0. */
  alloc(n: number, bytes = false): number {
    if (n === 0) return 0;
    const at = this.next;
    this.next += Math.ceil((bytes ? n : n * 4) / 16) * 16;
    const short = this.next - this.k.memory.buffer.byteLength;
    if (short > 0) this.k.memory.grow(Math.ceil(short / PAGE));
    return at;
  }
  /** Copies `data` in at a fresh offset and returns it. */
  put(data: Float32Array): number {
    const at = this.alloc(data.length);
    this.f32(at, data.length).set(data);
    return at;
  }
  /** A view of n floats at `at` (valid until the memory next grows). */
  f32(at: number, n: number): Float32Array {
    return new Float32Array(this.k.memory.buffer, at, n);
  }
}

/** A weight packed by `pack` and kept in the kernel's memory, below the per-call arena. */
interface PackedWeight {
  /** The tensor's dataId: immutable data (tf.Variable.assign gives the variable a new one). */
  key: object;
  N: number;
  K: number;
  /** Byte offset and byte length (16-byte aligned) */
  at: number;
  bytes: number;
}

/** At most this many packed weights, and this many bytes of them, stay cached. */
const CACHE_ENTRIES = 16;
const CACHE_BYTES = 64 * 1024 * 1024;
/** Least recently used first. */
let cache: PackedWeight[] = [];
/** End of the cached weights: every call's arena starts here. */
let cacheEnd = BASE;

type Engine = { state?: { tensorInfo?: WeakMap<object, unknown> } };
/**
 * True while tfjs still holds the data of `dataId` (a disposed tensor's data never comes back).
 * Reads tfjs-core's engine state; where that is missing, stale entries just age out of the LRU.
 */
const alive = (dataId: object) =>
  (tf.engine() as unknown as Engine).state?.tensorInfo?.has(dataId) ?? true;

/** Drops the entries `drop` says so and moves the rest down, so cached weights stay contiguous. */
function compact(k: KernelExports, drop: (e: PackedWeight, i: number) => boolean): void {
  const kept = cache.filter((e, i) => !drop(e, i));
  if (kept.length === cache.length) return;
  const bytes = new Uint8Array(k.memory.buffer);
  let at = BASE;
  for (const e of kept) {
    if (e.at !== at) bytes.copyWithin(at, e.at, e.at + e.bytes);
    e.at = at;
    at += e.bytes;
  }
  cache = kept;
  cacheEnd = at;
}

/** Packs w [N, K] (pack) at `dst`, copying it in just above `scratch`. */
function packAt(
  k: KernelExports,
  w: tf.Tensor,
  N: number,
  K: number,
  dst: number,
  scratch: number,
) {
  const need = scratch + N * K * 4 - k.memory.buffer.byteLength;
  if (need > 0) k.memory.grow(Math.ceil(need / PAGE));
  new Float32Array(k.memory.buffer, scratch, N * K).set(w.dataSync() as Float32Array);
  k.pack(N, K, scratch, dst);
}

/**
 * The packed weights of one call, cached across calls for tf.Variables (keyed by their dataId, so
 * assigning the variable invalidates its entry); other tensors (e.g. a split half of a weight, a
 * new tensor every call) are packed into the call's arena. Offsets are read once every weight of
 * the call is resolved, since making room may move cached entries.
 */
class Weights {
  private readonly entries: Array<PackedWeight | { w: tf.Tensor; N: number; K: number }> = [];
  constructor(private readonly k: KernelExports) {
    // Entries of disposed or reassigned tensors can never hit again: free them first.
    compact(k, (e) => !alive(e.key));
  }
  /** Resolves w [N, K]; returns its index for `offsets`. */
  add(w: tf.Tensor, N: number, K: number): number {
    this.entries.push(w instanceof tf.Variable ? this.cached(w, N, K) : { w, N, K });
    return this.entries.length - 1;
  }
  private cached(w: tf.Tensor, N: number, K: number): PackedWeight {
    const key = w.dataId as object;
    const hit = cache.findIndex((e) => e.key === key && e.N === N && e.K === K);
    if (hit >= 0) {
      const [e] = cache.splice(hit, 1);
      cache.push(e!);
      return e!;
    }
    const bytes = Math.ceil((packedSize(N, K) * 4) / 16) * 16;
    // Evict the least recently used entries not needed by this call, to stay within bounds.
    const mine = new Set(this.entries);
    let total = cache.reduce((n, e) => n + e.bytes, 0) + bytes;
    let count = cache.length + 1;
    compact(this.k, (e) => {
      if (mine.has(e) || (count <= CACHE_ENTRIES && total <= CACHE_BYTES)) return false;
      count--;
      total -= e.bytes;
      return true;
    });
    const e: PackedWeight = { key, N, K, at: cacheEnd, bytes };
    packAt(this.k, w, N, K, e.at, e.at + bytes);
    cache.push(e);
    cacheEnd += bytes;
    return e;
  }
  /** Byte offsets of the packed weights, in the order added; uncached ones packed into `mem`. */
  offsets(mem: Arena): number[] {
    return this.entries.map((e) => {
      if ('at' in e) return e.at;
      const at = mem.alloc(packedSize(e.N, e.K));
      packAt(this.k, e.w, e.N, e.K, at, mem.alloc(e.N * e.K));
      return at;
    });
  }
}

/**
 * x [M, K] W^T + bias as [M, N] in the kernel's SIMD sgemm, W [N, K] as PyTorch stores it (packed
 * once and cached while it is an unchanged tf.Variable), bias [N] or null. Call only when
 * `kernelReady()`.
 */
export function kernelProject(
  x: Float32Array,
  M: number,
  K: number,
  w: tf.Tensor,
  N: number,
  bias: Float32Array | null,
): Float32Array {
  const k = kernel!;
  const ws = new Weights(k);
  ws.add(w, N, K);
  const mem = new Arena(k);
  const [pw] = ws.offsets(mem);
  const px = mem.put(x);
  const pb = bias ? mem.put(bias) : 0;
  const pc = mem.alloc(M * N);
  gemm(k, M, N, K, px, pw!, pb, pc);
  return mem.f32(pc, M * N).slice();
}

/**
 * Repeated products a [M, K] x b [K, N] (b row-major, untransposed) in the kernel's sgemm, for
 * several right-hand sides packed once: `mul(i, a, M)` multiplies by the i-th, M at most `maxM`.
 * Its result is a view into the kernel's memory, valid until the next `mul` or kernel call; the
 * whole session is, until the next kernel call. Call only when `kernelReady()`.
 */
export function kernelGemm(
  rhs: Array<{ b: Float32Array; K: number; N: number }>,
  maxM: number,
): (i: number, a: Float32Array, M: number) => Float32Array {
  const k = kernel!;
  const mem = new Arena(k);
  const packed = rhs.map(({ b, K, N }) => {
    const at = mem.alloc(packedSize(N, K));
    return { at, raw: mem.alloc(K * N), K, N, b };
  });
  const maxK = Math.max(...rhs.map((r) => r.K));
  const maxN = Math.max(...rhs.map((r) => r.N));
  const pa = mem.alloc(maxM * maxK);
  const pc = mem.alloc(maxM * maxN);
  for (const p of packed) {
    mem.f32(p.raw, p.K * p.N).set(p.b);
    k.packT(p.N, p.K, p.raw, p.at);
  }
  return (i, a, M) => {
    const p = packed[i]!;
    mem.f32(pa, M * p.K).set(a.subarray(0, M * p.K));
    gemm(k, M, p.N, p.K, pa, p.at, 0, pc);
    return mem.f32(pc, M * p.N);
  };
}

/**
 * a^T b as [M, N], a [R, M] and b [R, N] row-major (a sum of R outer products, e.g. BPTT's
 * dW_hh = dgates^T h over every step), in the kernel's sgemm. Call only when `kernelReady()`.
 */
export function kernelSumOuter(
  a: Float32Array,
  R: number,
  M: number,
  b: Float32Array,
  N: number,
): Float32Array {
  const k = kernel!;
  const mem = new Arena(k);
  const paT = mem.alloc(M * R);
  const pb = mem.put(b.subarray(0, R * N));
  const pbP = mem.alloc(packedSize(N, R));
  const pc = mem.alloc(M * N);
  const aT = mem.f32(paT, M * R);
  // Transposed in blocks of rows, so reads and writes both stay within a few cache lines.
  const BLK = 16;
  for (let r0 = 0; r0 < R; r0 += BLK) {
    const r1 = Math.min(r0 + BLK, R);
    for (let m = 0; m < M; m++) {
      const row = m * R;
      for (let r = r0; r < r1; r++) aT[row + r] = a[r * M + m]!;
    }
  }
  k.packT(N, R, pb, pbP);
  gemm(k, M, N, R, paT, pbP, 0, pc);
  return mem.f32(pc, M * N).slice();
}

/**
 * Sizes of one recurrence call: T steps, B sequences, H hidden, G = gates * H, S = P (the LSTM
 * projection) or H.
 */
export interface Run {
  mode: CellMode;
  T: number;
  B: number;
  H: number;
  G: number;
  S: number;
  reverse: boolean;
  /** [T, B], 1 while t < length; null when every sequence runs all T steps */
  valid: Uint8Array | null;
}

/** Host arrays of one recurrence call in the kernel (shapes as in recurrence.ts). */
export interface KernelInputs extends Run {
  /** x and the outputs are [B, T, *] instead of [T, B, *] (inference only: not with `save`) */
  batchFirst?: boolean;
  /** [T, B, G] x W_ih^T + b_ih; or the input [T, B, I] when `project` is given */
  x: Float32Array;
  /** Projects x in the kernel first: W_ih [G, I] and b_ih [G] (or null) */
  project?: { I: number; wih: tf.Tensor; bih: Float32Array | null };
  /** [G, S] */
  whh: tf.Tensor;
  /** [G] or null */
  bhh: Float32Array | null;
  /** [S, H] (LSTM projection) or null */
  whr: tf.Tensor | null;
  /** [B, S] */
  h0: Float32Array;
  /** [B, H] (LSTM) or null */
  c0: Float32Array | null;
}

/** What the forward keeps for BPTT (kernel or JS), in host memory, indexed by time step t. */
export interface Saved {
  /** [T, B, G] activations: RNN h; LSTM i, f, g, o; GRU r, z, n */
  gates: Float32Array;
  /** [T, B, S] state entering each step */
  hIn: Float32Array;
  /** [T, B, H] LSTM cell state entering each step */
  cIn: Float32Array | null;
  /** [T, B, H] GRU h W_hn^T + b_hn, before r scales it */
  hn: Float32Array | null;
}

/**
 * Runs the whole recurrence in the kernel. Returns the packed output [T*B*S + B*S (+ B*H)]:
 * outputs [T, B, S] ([B, T, S] with `batchFirst`), final h [B, S], final c [B, H]; and, with
 * `save`, the per-step activations and states for BPTT. Call only when `kernelReady()`.
 */
export function kernelRecurrence(
  a: KernelInputs,
  save: boolean,
): { packed: Float32Array; saved: Saved | null } {
  const { T, B, H, G, S } = a;
  const k = kernel!;
  const lstm = a.mode === 'lstm';
  const gru = a.mode === 'gru';
  const p = a.project;
  const ws = new Weights(k);
  const iWih = p ? ws.add(p.wih, G, p.I) : -1;
  const iWhh = ws.add(a.whh, G, S);
  const iWhr = a.whr ? ws.add(a.whr, S, H) : -1;
  const mem = new Arena(k);
  const offsets = ws.offsets(mem);
  const pwT = offsets[iWhh]!;
  const pwrT = iWhr >= 0 ? offsets[iWhr]! : 0;
  let px: number;
  if (p) {
    px = mem.alloc(T * B * G);
    const pIn = mem.put(a.x);
    const pbi = p.bih ? mem.put(p.bih) : 0;
    gemm(k, T * B, G, p.I, pIn, offsets[iWih]!, pbi, px);
  } else {
    px = mem.put(a.x);
  }
  const pb = a.bhh ? mem.put(a.bhh) : mem.alloc(G);
  if (!a.bhh) mem.f32(pb, G).fill(0);
  let pValid = 0;
  if (a.valid) {
    pValid = mem.alloc(T * B, true);
    new Uint8Array(k.memory.buffer, pValid, T * B).set(a.valid);
  }
  // Packed output, as one block: outputs, then h, then c.
  const packedLength = T * B * S + B * S + (lstm ? B * H : 0);
  const pOut = mem.alloc(packedLength);
  const ph = pOut + T * B * S * 4;
  const pc = lstm ? ph + B * S * 4 : 0;
  mem.f32(ph, B * S).set(a.h0);
  if (pc) mem.f32(pc, B * H).set(a.c0!);
  const php = mem.alloc(B * G);
  const pFull = a.whr ? mem.alloc(B * H) : 0;
  const pGates = mem.alloc(save ? T * B * G : B * G);
  const pHn = gru ? mem.alloc(save ? T * B * H : B * H) : 0;
  const pHIn = save ? mem.alloc(T * B * S) : 0;
  const pCIn = save && lstm ? mem.alloc(T * B * H) : 0;
  const args = (b0: number, b1: number) => [
    MODES[a.mode],
    T,
    B,
    H,
    S,
    G,
    Number(a.reverse),
    Number(a.batchFirst ?? false),
    b0,
    b1,
    px,
    pwT,
    pb,
    pwrT,
    pValid,
    ph,
    pc,
    pOut,
    php,
    pFull,
    pGates,
    pHn,
    Number(save),
    pHIn,
    pCIn,
  ];
  // Sequences are independent: each thread runs a range of the batch through every step.
  const rs = ranges(B, T * B * G * S);
  if (rs.length === 1) k.forward(...args(0, B));
  else
    pool!.run(
      'forward',
      rs.map(([b0, b1]) => args(b0, b1)),
    );
  const packed = mem.f32(pOut, packedLength).slice();
  const saved = save
    ? {
        gates: mem.f32(pGates, T * B * G).slice(),
        hIn: mem.f32(pHIn, T * B * S).slice(),
        cIn: pCIn ? mem.f32(pCIn, T * B * H).slice() : null,
        hn: pHn ? mem.f32(pHn, T * B * H).slice() : null,
      }
    : null;
  return { packed, saved };
}
