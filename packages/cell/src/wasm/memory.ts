import { KernelError } from '@rnnkit/ops';
import * as tf from '@tensorflow/tfjs-core';
import { enginePolicy } from '../policy.js';
import type { KernelExports } from './loader.js';

/**
 * The kernel's memory: from BASE up, the packed weights cached across calls (an LRU of
 * tf.Variables' values), then each call's arena, laid out afresh by every call.
 */

/** Our buffers start here, above the module's own (tiny) static data. */
const BASE = 65536;
const PAGE = 65536;

/** Floats of a weight [N, K] packed by the kernel's `pack` (strips of 8 columns of its transpose). */
export const packedSize = (N: number, K: number) => Math.ceil(N / 8) * 8 * K;

/** A weight packed by `pack` and kept in the kernel's memory, below the per-call arena. */
interface PackedWeight {
  /** The tensor's dataId: immutable data (tf.Variable.assign gives the variable a new one). */
  key: object;
  N: number;
  K: number;
  /** Byte offset and byte length (LINE-aligned) */
  at: number;
  bytes: number;
}

/**
 * Every buffer starts on a cache line (64 bytes): threads that split a recurrence's columns write
 * the two sides of a chunk boundary, which then never share a line (measured: a split LSTM step
 * of hidden size 64 took up to 1.4x as long with 16-byte alignment).
 */
const LINE = 64;
/** At most this many packed weights, and this many bytes of them, stay cached. */
const CACHE_ENTRIES = 16;
const CACHE_BYTES = 64 * 1024 * 1024;
/** Least recently used first. */
let cache: PackedWeight[] = [];
/** End of the cached weights: every call's arena starts here. */
let cacheEnd = BASE;

const MiB = (bytes: number) => `${Math.ceil(bytes / 2 ** 20)} MiB`;

/**
 * Grows the memory so that it holds `end` bytes; past the kernel's limit (32-bit WebAssembly: 4 GiB,
 * or `enginePolicy.maxKernelBytes`) or when the memory cannot grow, throws a KernelError saying so.
 */
function reach(k: KernelExports, end: number): void {
  const short = end - k.memory.buffer.byteLength;
  if (short <= 0) return;
  const limit = Math.min(enginePolicy.maxKernelBytes, 2 ** 32);
  let why = `more than the kernel's limit of ${MiB(limit)}`;
  if (end <= limit) {
    try {
      k.memory.grow(Math.ceil(short / PAGE));
      return;
    } catch (e) {
      why = `more than it could grow to (${(e as Error).message}; limit ${MiB(limit)})`;
    }
  }
  throw new KernelError(
    `rnnkit kernel: the call needs at least ${MiB(end)} of WebAssembly memory (${end} bytes), ${why}; ` +
      'give it fewer or shorter sequences per call (split the batch or the time steps) or smaller layers',
  );
}

/** Bytes the kernel's memory holds now (it only grows, until `releaseKernelMemory`). */
export const memoryBytes = (k: KernelExports): number => k.memory.buffer.byteLength;

/**
 * A tensor of `values` read from the kernel's memory (a view, valid until the kernel's next call):
 * the wasm backend copies the values into its own memory as it makes the tensor (its `write`);
 * other backends keep the array they are given, so they get a copy.
 */
export function kernelTensor(values: Float32Array, shape: number[]): tf.Tensor {
  return tf.tensor(tf.getBackend() === 'wasm' ? values : values.slice(), shape);
}

/** Bumped whenever a call lays the memory out (an arena, weights packed, moved or dropped). */
let epoch = 0;

/** Changes whenever the memory's layout may have changed: what a call left there is intact while it holds. */
export const memoryEpoch = (): number => epoch;

/** Forgets every cached weight: the memory they were in is being dropped. */
export function forgetWeights(): void {
  cache = [];
  cacheEnd = BASE;
  epoch++;
}

/** Lays one call's buffers out in the kernel's memory, LINE-aligned, growing it as needed. */
export class Arena {
  private next = cacheEnd;
  constructor(private readonly k: KernelExports) {
    epoch++;
  }
  /** Reserves n floats (or bytes, with `bytes`) and returns the byte offset; 0 when n is 0. */
  alloc(n: number, bytes = false): number {
    if (n === 0) return 0;
    const at = this.next;
    this.next += Math.ceil((bytes ? n : n * 4) / LINE) * LINE;
    reach(this.k, this.next);
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
  epoch++;
  const bytes = new Uint8Array(k.memory.buffer);
  let at = BASE;
  // In address order (the cache's LRU order may differ): each entry moves down into room that is
  // free by then, never over an entry still to be moved.
  for (const e of [...kept].sort((a, b) => a.at - b.at)) {
    if (e.at !== at) bytes.copyWithin(at, e.at, e.at + e.bytes);
    e.at = at;
    at += e.bytes;
  }
  cache = kept;
  cacheEnd = at;
}

/** Packs w [N, K] (pack) at `dst`, copying it in just above `scratch`. */
export function packAt(
  k: KernelExports,
  w: tf.Tensor,
  N: number,
  K: number,
  dst: number,
  scratch: number,
) {
  reach(k, scratch + N * K * 4);
  new Float32Array(k.memory.buffer, scratch, N * K).set(w.dataSync() as Float32Array);
  k.pack(N, K, scratch, dst);
}

/**
 * The packed weights of one call, cached across calls for tf.Variables (keyed by their dataId, so
 * assigning the variable invalidates its entry); other tensors (e.g. a split half of a weight, a
 * new tensor every call) are packed into the call's arena. Offsets are read once every weight of
 * the call is resolved, since making room may move cached entries. Create it before the call's
 * Arena: the arena starts above the cache as it is then.
 */
export class Weights {
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
    const bytes = Math.ceil((packedSize(N, K) * 4) / LINE) * LINE;
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
    epoch++;
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
