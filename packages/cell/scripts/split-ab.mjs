// The kernel's column split of a small recurrence (assembly/barrier.ts) on 2 threads against one
// thread, without tfjs or the pool: this thread and one worker instantiate this checkout's kernel
// (its shared-memory build) on one memory and run `forward` as parties 0 and 1. Checks that the
// split output is bit-identical to one thread's, then times both in interleaved rounds (wall time:
// minimum and median of 25 rounds). The worker polls for each call, so this is the split's best
// case (a pool's worker may have to be woken first).
//   node --experimental-wasm-relaxed-simd scripts/split-ab.mjs [simd|relaxed]
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import {
  ARGS,
  block,
  kernelOf,
  layOutRecurrence,
  lists,
  median,
  same,
  THIS_KERNEL,
} from './kernel-files.mjs';

const build = process.argv[2] ?? 'relaxed';
const module = new WebAssembly.Module(Buffer.from(kernelOf(THIS_KERNEL)[build].shared, 'base64'));
/** The second party's argument block; the control words the worker polls (call number, done). */
const ARGS1 = ARGS + 1024;
const CALL = (ARGS + 2048) / 4;
const DONE = CALL + 16;

if (!isMainThread) {
  const memory = workerData;
  const e = new WebAssembly.Instance(module, { env: { memory } }).exports;
  const words = new Int32Array(memory.buffer);
  parentPort.postMessage('ready');
  for (let call = 0; ; ) {
    while (Atomics.load(words, CALL) === call);
    call = Atomics.load(words, CALL);
    if (call < 0) break;
    e.forward(ARGS1);
    Atomics.store(words, DONE, call);
  }
} else {
  const memory = new WebAssembly.Memory({ initial: 2000, maximum: 65536, shared: true });
  const e = new WebAssembly.Instance(module, { env: { memory } }).exports;
  const words = new Int32Array(memory.buffer);
  const worker = new Worker(new URL(import.meta.url), { workerData: memory, argv: [build] });
  await new Promise((ok) => worker.once('message', ok));
  let calls = 0;
  // mode, B, T, H: the bench's long sequences (shortened), the tutorial's step (B=2, H=256) and a
  // B=1 H=256 sequence.
  const cases = [
    ['lstm', 1, 4000, 64],
    ['gru', 1, 4000, 64],
    ['rnn_tanh', 1, 4000, 64],
    ['lstm', 2, 200, 256],
    ['gru', 1, 400, 256],
  ];
  let differences = 0;
  for (const [mode, B, T, H] of cases) {
    const extra = { sync: 256, hNext: B * H, tiles: 16 };
    const { v, reset, out } = layOutRecurrence(e, memory, mode, B, T, H, extra, ['sync']);
    const one = () => {
      reset();
      new Uint32Array(memory.buffer).set(block(lists.FORWARD_ARGS, v), ARGS / 4);
      const t0 = performance.now();
      e.forward(ARGS);
      return performance.now() - t0;
    };
    // Two parties, each with half the hidden units (as src/wasm/shares.ts cuts them).
    const chunk = Math.ceil(H / 2 / 8) * 8;
    const split = () => {
      reset();
      const s = { ...v, parties: 2, unitChunk: chunk, stateChunk: chunk };
      const party = (p) => ({ ...s, party: p, tile: v.tiles + 32 * p, blocking: p });
      new Uint32Array(memory.buffer).set(block(lists.FORWARD_ARGS, party(0)), ARGS / 4);
      new Uint32Array(memory.buffer).set(block(lists.FORWARD_ARGS, party(1)), ARGS1 / 4);
      const t0 = performance.now();
      Atomics.store(words, CALL, ++calls);
      e.forward(ARGS);
      while (Atomics.load(words, DONE) !== calls);
      return performance.now() - t0;
    };
    one();
    const expected = out();
    split();
    const identical = same(out(), expected);
    if (!identical) differences++;
    const times = { one: [], split: [] };
    for (let r = 0; r < 25; r++) {
      times.one.push(one());
      times.split.push(split());
    }
    const [o, t] = [times.one, times.split];
    console.log(
      `${build} ${mode} B ${B} T ${T} H ${H}: one thread min ${Math.min(...o).toFixed(3)} ms, ` +
        `median ${median(o).toFixed(3)}; 2 threads min ${Math.min(...t).toFixed(3)}, median ` +
        `${median(t).toFixed(3)}; one / split (medians) ${(median(o) / median(t)).toFixed(2)}x` +
        `${identical ? '' : ' OUTPUTS DIFFER'}`,
    );
  }
  Atomics.store(words, CALL, -1);
  await new Promise((ok) => worker.once('exit', ok));
  console.log(differences ? `${differences} cases differ` : 'bit-identical: every case');
  process.exitCode = differences ? 1 : 0;
}
