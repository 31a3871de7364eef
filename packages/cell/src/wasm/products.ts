import type * as tf from '@tensorflow/tfjs-core';
import { argBytes, SGEMM_ARGS, writeArgs } from './args.js';
import type { KernelExports } from './loader.js';
import { Arena, packedSize, Weights } from './memory.js';
import { productShares } from './shares.js';
import { kernelThreads, runShares } from './threads.js';

/** Room in `mem` for the argument blocks of one product (one block per share). */
export const sgemmBlocks = (mem: Arena): number =>
  mem.alloc(kernelThreads() * argBytes(SGEMM_ARGS), true);

/**
 * Writes the argument blocks of c [M, N] = a [M, K] x packed b (+ bias) at `blocks` (from
 * `sgemmBlocks`), rows (or, for fewer than 8 rows, columns) split across threads when large;
 * returns them, to run with `runShares`.
 */
export function sgemmShares(
  k: KernelExports,
  blocks: number,
  M: number,
  N: number,
  K: number,
  a: number,
  b: number,
  bias: number,
  c: number,
): number[] {
  return productShares(M, N, M * N * K).map(({ r0, r1, j0, j1 }, i) => {
    const at = blocks + i * argBytes(SGEMM_ARGS);
    const args = { M: r1 - r0, N, K, a: a + r0 * K * 4, b, bias, c: c + r0 * N * 4, j0, j1 };
    writeArgs(k.memory.buffer, at, SGEMM_ARGS, args);
    return at;
  });
}

/** c [M, N] = a [M, K] x packed b (+ bias), run now (`sgemmShares`' arguments). */
export function sgemm(...args: Parameters<typeof sgemmShares>): void {
  runShares(args[0], 'sgemm', sgemmShares(...args));
}

/**
 * x [M, K] W^T + bias as [M, N] in the kernel's SIMD sgemm, W [N, K] as PyTorch stores it (packed
 * once and cached while it is an unchanged tf.Variable), bias [N] or null.
 */
export function project(
  k: KernelExports,
  x: Float32Array,
  M: number,
  K: number,
  w: tf.Tensor,
  N: number,
  bias: Float32Array | null,
): Float32Array {
  const ws = new Weights(k);
  ws.add(w, N, K);
  const mem = new Arena(k);
  const [pw] = ws.offsets(mem);
  const px = mem.put(x);
  const pb = bias ? mem.put(bias) : 0;
  const pc = mem.alloc(M * N);
  sgemm(k, sgemmBlocks(mem), M, N, K, px, pw!, pb, pc);
  return mem.f32(pc, M * N).slice();
}

/**
 * Repeated products a [M, K] x b [K, N] (b row-major, untransposed) in the kernel's sgemm, for
 * several right-hand sides packed once: `mul(i, a, M)` multiplies by the i-th, M at most `maxM`.
 * Each result is a view into the kernel's memory, valid until the next `mul` or kernel call; `mul`
 * itself may be called until the next kernel call (which reuses the memory of the packed sides).
 */
export function gemmSession(
  k: KernelExports,
  rhs: Array<{ b: Float32Array; K: number; N: number }>,
  maxM: number,
): (i: number, a: Float32Array, M: number) => Float32Array {
  const mem = new Arena(k);
  const packed = rhs.map(({ b, K, N }) => {
    const at = mem.alloc(packedSize(N, K));
    return { at, raw: mem.alloc(K * N), K, N, b };
  });
  const maxK = Math.max(...rhs.map((r) => r.K));
  const maxN = Math.max(...rhs.map((r) => r.N));
  const pa = mem.alloc(maxM * maxK);
  const pc = mem.alloc(maxM * maxN);
  const blocks = sgemmBlocks(mem);
  for (const p of packed) {
    mem.f32(p.raw, p.K * p.N).set(p.b);
    k.packT(p.N, p.K, p.raw, p.at);
  }
  return (i, a, M) => {
    const p = packed[i]!;
    mem.f32(pa, M * p.K).set(a.subarray(0, M * p.K));
    sgemm(k, blocks, M, p.N, p.K, pa, p.at, 0, pc);
    return mem.f32(pc, M * p.N);
  };
}

/**
 * a^T b as [M, N], a [R, M] and b [R, N] row-major (a sum of R outer products, e.g. BPTT's
 * dW_hh = dgates^T h over every step), in the kernel's sgemm.
 */
export function sumOuter(
  k: KernelExports,
  a: Float32Array,
  R: number,
  M: number,
  b: Float32Array,
  N: number,
): Float32Array {
  const mem = new Arena(k);
  const pa = mem.put(a.subarray(0, R * M));
  const paT = mem.alloc(M * R);
  const pb = mem.put(b.subarray(0, R * N));
  const pbP = mem.alloc(packedSize(N, R));
  const pc = mem.alloc(M * N);
  const blocks = sgemmBlocks(mem);
  k.transpose(R, M, pa, paT);
  k.packT(N, R, pb, pbP);
  sgemm(k, blocks, M, N, R, paT, pbP, 0, pc);
  return mem.f32(pc, M * N).slice();
}

/**
 * c[i] = a[i] [M, K] x b[i] for i < batch -> c [batch, M, N]; a[i] is [M, K] row-major, or [K, M]
 * (used transposed) when `transposeA`; b[i] [K, N], or [N, K] (used transposed) when `transposeB`;
 * a and b hold the batch's matrices one after another. Each a[i] to transpose is transposed and
 * each b[i] packed in the kernel, then multiplied (small products, e.g. attention's: one thread
 * each). The result is a view into the kernel's memory, valid until its next call (see
 * `kernelTensor`).
 */
export function batchGemm(
  k: KernelExports,
  a: Float32Array,
  b: Float32Array,
  batch: number,
  M: number,
  K: number,
  N: number,
  transposeB: boolean,
  transposeA = false,
): Float32Array {
  const mem = new Arena(k);
  const pa = mem.put(a.subarray(0, batch * M * K));
  const paT = transposeA ? mem.alloc(M * K) : 0;
  const pb = mem.put(b.subarray(0, batch * K * N));
  const pbP = mem.alloc(packedSize(N, K));
  const pc = mem.alloc(batch * M * N);
  const blocks = sgemmBlocks(mem);
  for (let i = 0; i < batch; i++) {
    const ai = pa + i * M * K * 4;
    if (transposeA) k.transpose(K, M, ai, paT);
    const bi = pb + i * K * N * 4;
    if (transposeB) k.pack(N, K, bi, pbP);
    else k.packT(N, K, bi, pbP);
    sgemm(k, blocks, M, N, K, transposeA ? paT : ai, pbP, 0, pc + i * M * N * 4);
  }
  return mem.f32(pc, batch * M * N);
}
