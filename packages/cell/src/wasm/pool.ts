import { KernelError } from '@rnnkit/ops';
import { BUILDS, type Build } from './loader.js';
import { type Started, spawner, threadMayBlock, threadsPossible } from './workers.js';

/**
 * Worker threads for the WebAssembly kernel: each worker instantiates the kernel's modules (one per
 * build, loader.ts) on the same shared memory and waits (Atomics.wait) for calls of their exports;
 * the calling thread splits a
 * product or a recurrence into disjoint row ranges, posts all but the first, runs the first itself,
 * then runs any posted share that no worker has claimed yet (a worker that is slow to wake, e.g. on
 * a busy machine, so costs no more than running on one thread) and waits for the claimed ones.
 * A share is one export of one build and one argument: the byte offset of its argument block
 * (args.ts) in the shared memory, so a call may have any number of arguments.
 */

/**
 * Exports a worker can run, by number: 1 + its place here (the worker's table lists them in this
 * order), plus PER_BUILD per build, in the order of BUILDS.
 */
export const FN = { sgemm: 1, forward: 2, projectAhead: 3 } as const;
export type Fn = keyof typeof FN;
const EXPORTS = Object.keys(FN) as Fn[];
const PER_BUILD = EXPORTS.length;

/**
 * Bytes of control per worker (a cache line): int32 sequence number of the last call posted, of
 * the last call done, of the last call that failed; the function; its argument block (a uint32
 * byte offset); who claimed the call posted last; how long (µs) the worker polls for the next call
 * before it blocks; whether it is blocked (in Atomics.wait) now.
 */
const SLOT = 64;
const SEQ = 0;
const DONE = 1;
const ERR = 2;
const FUNC = 3;
const ARG = 4;
const CLAIM = 5;
const SPIN = 6;
const ASLEEP = 7;
/** CLAIM: posted and not yet claimed; claimed by the worker; taken back by the caller. */
const OPEN = 0;
const BY_WORKER = 1;
const BY_CALLER = 2;
/** DONE while the worker starts, and when it could not start. */
const STARTING = -1;
const FAILED = -2;

// The worker, as source text so that no bundler needs to find a separate file. `start` runs once
// the module, memory and control block arrive (workerData in Node, the first message in a browser).
const WORKER = `
function start({ modules, memory, ctl, slot }) {
  const i32 = new Int32Array(ctl, slot * ${SLOT}, ${SLOT / 4});
  const fns = [null];
  try {
    for (const module of modules) {
      const k = module ? new WebAssembly.Instance(module, { env: { memory } }).exports : {};
      fns.push(${EXPORTS.map((f) => `k.${f}`).join(', ')});
    }
  } catch {
    Atomics.store(i32, ${DONE}, ${FAILED});
    Atomics.notify(i32, ${DONE});
    return;
  }
  let seq = 0;
  Atomics.store(i32, ${DONE}, 0);
  Atomics.notify(i32, ${DONE});
  const idle = () => Atomics.load(i32, ${SEQ}) === seq && Atomics.load(i32, ${CLAIM}) !== ${OPEN};
  for (;;) {
    // A call is new when its number is, or open while this worker saw its number already (it
    // tried to claim it before the caller opened it: if it sleeps through that call, the caller
    // runs it, see finish()). Polls for it a while first:
    // a call that comes soon (the next step of a decode loop, the next layer) then costs no
    // wake-up, which takes tens of microseconds, as long as a whole small call.
    const until = performance.now() + Atomics.load(i32, ${SPIN}) / 1000;
    for (let n = 1; idle() && (n % 64 !== 0 || performance.now() < until); n++);
    if (idle()) {
      Atomics.store(i32, ${ASLEEP}, 1);
      Atomics.wait(i32, ${SEQ}, seq);
      Atomics.store(i32, ${ASLEEP}, 0);
    }
    seq = Atomics.load(i32, ${SEQ});
    // The caller may have run this call itself already: only an open call is ours.
    if (Atomics.compareExchange(i32, ${CLAIM}, ${OPEN}, ${BY_WORKER}) !== ${OPEN}) continue;
    seq = Atomics.load(i32, ${SEQ});
    const fn = fns[i32[${FUNC}]];
    if (!fn) return;
    try {
      fn(i32[${ARG}] >>> 0);
    } catch {
      Atomics.store(i32, ${ERR}, seq);
    }
    Atomics.store(i32, ${DONE}, seq);
    Atomics.notify(i32, ${DONE});
  }
}
// import(), not require: Node evaluates this as a module when the process runs with --input-type=module.
if (typeof self === 'undefined') import('node:worker_threads').then((w) => start(w.workerData));
else self.onmessage = (e) => start(e.data);
`;

type Exports = Record<Fn, (args: number) => void>;
/** A build's exports and, in a worker, its module. */
type Builds<T> = Partial<Record<Build, T>>;

/** A fixed set of workers running the kernel's exports on one shared memory. */
export class ThreadPool {
  private readonly ctl: Int32Array;
  /** This (the calling) thread may block in Atomics.wait: not a browser's main thread. */
  readonly blocking: boolean;
  /** Posted shares this thread ran itself because no worker had claimed them yet. */
  stolen = 0;
  /**
   * How long (µs) a worker polls for its next call after one, and this thread for a worker's
   * share, before blocking in Atomics.wait (a browser's main thread never blocks: it polls).
   * @default 0
   */
  spinMicros = 0;

  private constructor(
    private readonly kernels: Builds<Exports>,
    private readonly workers: Started[],
    ctl: SharedArrayBuffer,
  ) {
    this.ctl = new Int32Array(ctl);
    this.blocking = threadMayBlock();
  }

  /**
   * Starts `count` workers on `modules` and `memory` (shared); resolves once every one is waiting
   * for work, or to null where threads are unavailable (no SharedArrayBuffer, not cross-origin
   * isolated, no worker API) or a worker fails to start.
   */
  static async start(
    kernels: Builds<Exports>,
    modules: Builds<WebAssembly.Module>,
    memory: WebAssembly.Memory,
    count: number,
  ): Promise<ThreadPool | null> {
    if (count < 1 || !threadsPossible()) return null;
    const ctl = new SharedArrayBuffer(count * SLOT);
    const i32 = new Int32Array(ctl);
    for (let i = 0; i < count; i++) {
      i32[i * (SLOT / 4) + DONE] = STARTING;
      // No call open yet.
      i32[i * (SLOT / 4) + CLAIM] = BY_CALLER;
    }
    const spawn = await spawner().catch(() => null);
    if (!spawn) return null;
    const workers: Started[] = [];
    try {
      for (let slot = 0; slot < count; slot++)
        workers.push(spawn(WORKER, { modules: BUILDS.map((b) => modules[b]), memory, ctl, slot }));
      const pool = new ThreadPool(kernels, workers, ctl);
      await pool.whenStarted();
      return pool;
    } catch {
      for (const w of workers) w.terminate();
      return null;
    }
  }

  /** Workers blocked in Atomics.wait now (neither running a call nor polling for one). */
  get sleeping(): number {
    let n = 0;
    for (let w = 0; w < this.workers.length; w++)
      n += Atomics.load(this.ctl, w * (SLOT / 4) + ASLEEP);
    return n;
  }

  /** Threads a call can use: the workers and the calling thread. */
  get size(): number {
    return this.workers.length + 1;
  }

  /**
   * Runs `fn` of the build whose exports are `kernel` once per argument block (byte offsets in the
   * shared memory), at once: the first on this thread, the others on workers; returns when all
   * have finished. The calls must write disjoint memory, or share their work among themselves
   * (a recurrence split by columns), and each must be correct whichever thread runs it, in any order.
   * `others`: the export the posted calls run, when not `fn` (a recurrence's projectors).
   */
  run(kernel: Exports, fn: Fn, calls: number[], others: Fn = fn): void {
    const build = BUILDS.findIndex((b) => this.kernels[b] === kernel);
    if (build < 0) throw new KernelError('rnnkit kernel: a split call of a build the workers lack');
    const posted = calls.length - 1;
    for (let w = 0; w < posted; w++) {
      const base = w * (SLOT / 4);
      this.ctl[base + FUNC] = FN[others] + PER_BUILD * build;
      this.ctl[base + ARG] = calls[w + 1]!;
      this.ctl[base + SPIN] = this.spinMicros;
      // The new sequence number first, then open: a worker that claims the call then reads the
      // number of this call. (Opening first let a worker still in its loop from the previous call
      // claim this one, read the old number, report that, and leave the caller waiting forever.)
      Atomics.add(this.ctl, base + SEQ, 1);
      Atomics.store(this.ctl, base + CLAIM, OPEN);
      Atomics.notify(this.ctl, base + SEQ);
    }
    let ok = false;
    try {
      kernel[fn](calls[0]!);
      ok = true;
    } finally {
      // Even when this thread's share failed: the workers must be done before the memory is reused.
      this.finish(kernel, others, calls, ok);
    }
  }

  /**
   * Runs here (export `fn`) the posted shares of `calls` that no worker has claimed yet (only takes
   * them when `run` is false), then waits for the claimed ones; throws if a share failed.
   */
  private finish(kernel: Exports, fn: Fn, calls: number[], run: boolean): void {
    let failed = 0;
    for (let w = 0; w < calls.length - 1; w++) {
      const base = w * (SLOT / 4);
      if (Atomics.compareExchange(this.ctl, base + CLAIM, OPEN, BY_CALLER) === OPEN) {
        this.stolen++;
        try {
          if (run) kernel[fn](calls[w + 1]!);
        } catch {
          failed++;
        }
        continue;
      }
      const seq = Atomics.load(this.ctl, base + SEQ);
      // A browser's main thread may not block: it polls (the workers' shares are as long as its
      // own); others poll for spinMicros, then block.
      const until = this.blocking ? performance.now() + this.spinMicros / 1000 : Infinity;
      for (let n = 1; ; n++) {
        const done = Atomics.load(this.ctl, base + DONE);
        if (done === seq) break;
        if (n % 64 === 0 && performance.now() > until) Atomics.wait(this.ctl, base + DONE, done);
      }
      if (Atomics.load(this.ctl, base + ERR) === seq) failed++;
    }
    if (failed > 0)
      throw new KernelError(`rnnkit kernel: ${fn} failed in ${failed} share(s) of a split call`);
  }

  /** Stops the workers (each ends its loop when it sees function 0). */
  close(): void {
    for (let w = 0; w < this.workers.length; w++) {
      const base = w * (SLOT / 4);
      this.ctl[base + FUNC] = 0;
      Atomics.add(this.ctl, base + SEQ, 1);
      Atomics.store(this.ctl, base + CLAIM, OPEN);
      Atomics.notify(this.ctl, base + SEQ);
    }
    for (const w of this.workers) w.terminate();
  }

  /** Resolves when every worker has instantiated the module (polling: no blocking wait here). */
  private async whenStarted(): Promise<void> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      let waiting = 0;
      for (let w = 0; w < this.workers.length; w++) {
        const done = Atomics.load(this.ctl, w * (SLOT / 4) + DONE);
        if (done === FAILED) throw new Error('worker failed to start');
        if (done === STARTING) waiting++;
      }
      if (waiting === 0) break;
      if (Date.now() > deadline) throw new Error('workers did not start within 10 s');
      await new Promise((r) => setTimeout(r, 5));
    }
  }
}
