// A/B of two builds of the kernel in one process: are their outputs bit-identical (sgemm and
// forward, both SIMD builds, shapes that reach every register block and the scalar tails), and,
// with --time, which is faster (CPU time of this process, so that other jobs on a shared machine
// do not count; medians of interleaved rounds).
//   node --experimental-wasm-relaxed-simd scripts/kernel-ab.mjs BEFORE.ts [AFTER.ts] [--time]
// BEFORE.ts and AFTER.ts are src/wasm/kernel-wasm.ts files as scripts/build-kernel.mjs writes them
// (AFTER.ts: this checkout's); build the other commit in a worktree of its own and copy its file.
import {
  ARGS,
  BASE,
  block,
  kernelOf,
  layOutRecurrence,
  lists,
  median,
  random,
  reseed,
  same,
  THIS_KERNEL,
} from './kernel-files.mjs';

const args = process.argv.slice(2).filter((a) => a !== '--time');
const timing = process.argv.includes('--time');
if (args.length < 1) throw new Error('usage: kernel-ab.mjs BEFORE.ts [AFTER.ts] [--time]');
const files = [args[0], args[1] ?? THIS_KERNEL];

/** CPU time of this process in ms. */
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

function instantiate(kernel, build) {
  const memory = new WebAssembly.Memory({ initial: 2000, maximum: 65536 });
  const module = new WebAssembly.Module(Buffer.from(kernel[build].plain, 'base64'));
  return { e: new WebAssembly.Instance(module, { env: { memory } }).exports, memory };
}

/** c [M, N] = a [M, K] x w^T (+ bias) `reps` times: output bits and CPU ms per call. */
function sgemm(k, M, N, K, bias, reps = 1) {
  const f = new Float32Array(k.memory.buffer);
  const a = BASE;
  const w = a + M * K * 4 + 64;
  const packed = w + N * K * 4 + 64;
  const b = packed + Math.ceil(N / 8) * 8 * K * 4 + 64;
  const c = b + N * 4 + 64;
  reseed(7 + M * 31 + N * 7 + K);
  for (let i = 0; i < M * K; i++) f[a / 4 + i] = random();
  for (let i = 0; i < N * K; i++) f[w / 4 + i] = random();
  for (let i = 0; i < N; i++) f[b / 4 + i] = random();
  k.e.pack(N, K, w, packed);
  const values = { M, N, K, a, b: packed, bias: bias ? b : 0, c };
  new Uint32Array(k.memory.buffer).set(block(lists.SGEMM_ARGS, values), ARGS / 4);
  const t0 = cpu();
  for (let r = 0; r < reps; r++) k.e.sgemm(ARGS);
  const ms = (cpu() - t0) / reps;
  return { out: new Uint32Array(k.memory.buffer, c, M * N).slice(), ms };
}

/** One recurrence of `mode` (a MODES name) from h = 0.1: output bits and CPU ms per call. */
function forward(k, mode, B, T, H, reps = 1) {
  const { v, reset, out } = layOutRecurrence(k.e, k.memory, mode, B, T, H);
  let ms = 0;
  for (let r = 0; r < reps; r++) {
    reset();
    new Uint32Array(k.memory.buffer).set(block(lists.FORWARD_ARGS, v), ARGS / 4);
    const t0 = cpu();
    k.e.forward(ARGS);
    ms += cpu() - t0;
  }
  const bits = out();
  if (new Float32Array(bits.buffer).some(Number.isNaN)) {
    throw new Error(`kernel-ab: NaN in forward ${mode} ${B},${T},${H}`);
  }
  return { out: bits, ms: ms / reps };
}

/** "a,b,c d,e,f" -> [[a, b, c], [d, e, f]] */
const shapes = (text) => text.split(' ').map((s) => s.split(',').map(Number));
// M, N, K: every block (4x8, 2x16, 2x8, 1x24, 1x16, 1x8), partial strips, K = 1, panels over 64 rows.
const products = shapes('1,8,5 1,256,64 1,1024,256 2,1024,300 3,20,7 4,16,3 5,30,11 7,1000,33');
products.push(...shapes('64,768,300 65,13,9 128,1024,256 9,24,1'));
const recurrences = shapes('1,50,64 2,10,256 3,5,37 8,6,20');
// [what, ...shape]: sgemm M, N, K; forward mode, B, T, H. The bench's shapes (64,128,300,256 and
// 1,10000,32,64; the tutorial 2,10,300,256), shortened in time.
const timed = [
  ['sgemm', 8192, 768, 300],
  ['sgemm', 64, 768, 256],
  ['sgemm', 20, 1024, 300],
  ['sgemm', 2, 1024, 256],
  ['sgemm', 1, 1024, 256],
  ['sgemm', 1, 192, 64],
  ['forward', 'gru', 64, 16, 256],
  ['forward', 'lstm', 64, 16, 256],
  ['forward', 'lstm', 2, 10, 256],
  ['forward', 'gru', 1, 2000, 64],
  ['forward', 'lstm', 1, 2000, 64],
  ['forward', 'rnn_tanh', 1, 2000, 64],
];

const kernels = files.map(kernelOf);
let differences = 0;
for (const build of ['simd', 'relaxed']) {
  const [a, b] = kernels.map((k) => instantiate(k, build));
  for (const [M, N, K] of products)
    for (const bias of [0, 1])
      if (!same(sgemm(a, M, N, K, bias).out, sgemm(b, M, N, K, bias).out)) {
        differences++;
        console.log(`differ: ${build} sgemm ${M},${N},${K} bias ${bias}`);
      }
  for (const mode of lists.MODES)
    for (const [B, T, H] of recurrences)
      if (!same(forward(a, mode, B, T, H).out, forward(b, mode, B, T, H).out)) {
        differences++;
        console.log(`differ: ${build} forward ${mode} ${B},${T},${H}`);
      }
  if (!timing) continue;
  for (const [what, ...shape] of timed) {
    const ms = [[], []];
    for (let round = 0; round < 7; round++)
      for (const [i, k] of [a, b].entries()) {
        if (what === 'sgemm') {
          const [M, N, K] = shape;
          ms[i].push(sgemm(k, M, N, K, 1, Math.max(1, Math.round(1e8 / (M * N * K)))).ms);
        } else ms[i].push(forward(k, ...shape, 3).ms);
      }
    const [before, after] = ms.map(median);
    const flop = what === 'sgemm' ? 2 * shape[0] * shape[1] * shape[2] : 0;
    const rate = (t) => (flop ? ` (${(flop / t / 1e6).toFixed(1)} GFLOP/s)` : '');
    console.log(
      `${build} ${what} ${shape.join(',')}: before ${before.toFixed(3)} ms${rate(before)}, ` +
        `after ${after.toFixed(3)} ms${rate(after)}, before / after ${(before / after).toFixed(2)}x`,
    );
  }
}
console.log(differences ? `${differences} cases differ` : 'bit-identical: every case, both builds');
process.exitCode = differences ? 1 : 0;
