// The kernel's matrix product (AssemblyScript, SIMD): packing of the right-hand side and a blocked
// sgemm. Buffers are byte offsets into the module's memory; matrices are row-major float32.
import { SGEMM_a, SGEMM_b, SGEMM_bias, SGEMM_c, SGEMM_K, SGEMM_M, SGEMM_N } from './args';

/** Rows of A per panel: a panel of A (MC x K) stays in cache while B's column strips stream by. */
const MC = 64;
/** Columns per strip of a packed B (see `pack`). */
const NR = 8;

/**
 * dst = w [N, K] (a PyTorch weight, out x in) packed as B = w^T [K, N] for `gemm`: strips of 8
 * columns, each K rows of 8 contiguous floats (ceil(N / 8) * 8 * K floats, the last strip padded
 * with zeros), so the inner loop reads B contiguously instead of with a stride of N floats (which
 * at N = 1024 maps every row of a strip onto the same cache set).
 */
export function pack(N: i32, K: i32, w: usize, dst: usize): void {
  const strips = (N + NR - 1) / NR;
  for (let p = 0; p < strips; p++) {
    for (let k = 0; k < K; k++) {
      for (let jj = 0; jj < NR; jj++) {
        const j = p * NR + jj;
        const v: f32 = j < N ? load<f32>(w + ((<usize>j * <usize>K + <usize>k) << 2)) : 0;
        store<f32>(dst + (((<usize>p * <usize>K + <usize>k) * NR + <usize>jj) << 2), v);
      }
    }
  }
}

/**
 * dst = b [K, N] (row-major, already K x N) packed for `gemm` as `pack` lays out its w^T: the
 * same strips of 8 columns, for products with an untransposed right-hand side (BPTT's dgates W_hh).
 */
export function packT(N: i32, K: i32, b: usize, dst: usize): void {
  const strips = (N + NR - 1) / NR;
  for (let p = 0; p < strips; p++) {
    for (let k = 0; k < K; k++) {
      for (let jj = 0; jj < NR; jj++) {
        const j = p * NR + jj;
        const v: f32 = j < N ? load<f32>(b + ((<usize>k * <usize>N + <usize>j) << 2)) : 0;
        store<f32>(dst + (((<usize>p * <usize>K + <usize>k) * NR + <usize>jj) << 2), v);
      }
    }
  }
}

/** `gemm` with its arguments read from the block at `args` (SGEMM_ARGS of src/wasm/args.ts). */
export function sgemm(args: usize): void {
  gemm(
    load<i32>(args + SGEMM_M),
    load<i32>(args + SGEMM_N),
    load<i32>(args + SGEMM_K),
    load<u32>(args + SGEMM_a),
    load<u32>(args + SGEMM_b),
    load<u32>(args + SGEMM_bias),
    load<u32>(args + SGEMM_c),
  );
}

/**
 * c [M, N] = a [M, K] x B [K, N] (+ bias [N] on every row when `bias` is not 0), B packed by
 * `pack`. Panels of MC rows; inside one, each strip of 8 columns of B times blocks of 4, 2 or 1
 * rows of a, with f32x4 accumulators; a last partial strip is done lane by lane.
 */
export function gemm(M: i32, N: i32, K: i32, a: usize, b: usize, bias: usize, c: usize): void {
  const full = N / NR;
  for (let i0 = 0; i0 < M; i0 += MC) {
    const i1 = min(i0 + MC, M);
    for (let p = 0; p < full; p++) {
      const pb = b + (<usize>p * <usize>K * NR << 2);
      let i = i0;
      for (; i + 4 <= i1; i += 4) block4x8(i, p * NR, N, K, a, pb, bias, c);
      for (; i + 2 <= i1; i += 2) block2x8(i, p * NR, N, K, a, pb, bias, c);
      if (i < i1) block1x8(i, p * NR, N, K, a, pb, bias, c);
    }
    if (full * NR < N) {
      const pb = b + (<usize>full * <usize>K * NR << 2);
      for (let i = i0; i < i1; i++) {
        for (let j = full * NR; j < N; j++) {
          let acc: f32 = bias ? load<f32>(bias + (<usize>j << 2)) : 0;
          const pa = a + (<usize>i * <usize>K << 2);
          const lane = pb + (<usize>(j - full * NR) << 2);
          for (let k = 0; k < K; k++) {
            acc += load<f32>(pa + (<usize>k << 2)) * load<f32>(lane + (<usize>k * NR << 2));
          }
          store<f32>(c + ((<usize>i * <usize>N + <usize>j) << 2), acc);
        }
      }
    }
  }
}

/** c[i..i+4, j..j+8] of gemm, b the packed strip of columns j..j+8. */
@inline
function block4x8(i: i32, j: i32, N: i32, K: i32, a: usize, b: usize, bias: usize, c: usize): void {
  let c00 = f32x4.splat(0);
  let c01 = f32x4.splat(0);
  if (bias) {
    c00 = v128.load(bias + (<usize>j << 2));
    c01 = v128.load(bias + (<usize>j << 2), 16);
  }
  let c10 = c00;
  let c11 = c01;
  let c20 = c00;
  let c21 = c01;
  let c30 = c00;
  let c31 = c01;
  const rowA = <usize>K << 2;
  const rowC = <usize>N << 2;
  let pa = a + (<usize>i * <usize>K << 2);
  let pb = b;
  const end = pa + rowA;
  while (pa < end) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    let x = v128.load32_splat(pa);
    c00 = f32x4.add(c00, f32x4.mul(x, b0));
    c01 = f32x4.add(c01, f32x4.mul(x, b1));
    x = v128.load32_splat(pa + rowA);
    c10 = f32x4.add(c10, f32x4.mul(x, b0));
    c11 = f32x4.add(c11, f32x4.mul(x, b1));
    x = v128.load32_splat(pa + 2 * rowA);
    c20 = f32x4.add(c20, f32x4.mul(x, b0));
    c21 = f32x4.add(c21, f32x4.mul(x, b1));
    x = v128.load32_splat(pa + 3 * rowA);
    c30 = f32x4.add(c30, f32x4.mul(x, b0));
    c31 = f32x4.add(c31, f32x4.mul(x, b1));
    pa += 4;
    pb += NR << 2;
  }
  const pc = c + ((<usize>i * <usize>N + <usize>j) << 2);
  v128.store(pc, c00);
  v128.store(pc, c01, 16);
  v128.store(pc + rowC, c10);
  v128.store(pc + rowC, c11, 16);
  v128.store(pc + 2 * rowC, c20);
  v128.store(pc + 2 * rowC, c21, 16);
  v128.store(pc + 3 * rowC, c30);
  v128.store(pc + 3 * rowC, c31, 16);
}

/** c[i..i+2, j..j+8] of gemm, b the packed strip of columns j..j+8. */
@inline
function block2x8(i: i32, j: i32, N: i32, K: i32, a: usize, b: usize, bias: usize, c: usize): void {
  let c00 = f32x4.splat(0);
  let c01 = f32x4.splat(0);
  if (bias) {
    c00 = v128.load(bias + (<usize>j << 2));
    c01 = v128.load(bias + (<usize>j << 2), 16);
  }
  let c10 = c00;
  let c11 = c01;
  const rowA = <usize>K << 2;
  let pa = a + (<usize>i * <usize>K << 2);
  let pb = b;
  const end = pa + rowA;
  while (pa < end) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    let x = v128.load32_splat(pa);
    c00 = f32x4.add(c00, f32x4.mul(x, b0));
    c01 = f32x4.add(c01, f32x4.mul(x, b1));
    x = v128.load32_splat(pa + rowA);
    c10 = f32x4.add(c10, f32x4.mul(x, b0));
    c11 = f32x4.add(c11, f32x4.mul(x, b1));
    pa += 4;
    pb += NR << 2;
  }
  const pc = c + ((<usize>i * <usize>N + <usize>j) << 2);
  const rowC = <usize>N << 2;
  v128.store(pc, c00);
  v128.store(pc, c01, 16);
  v128.store(pc + rowC, c10);
  v128.store(pc + rowC, c11, 16);
}

/** c[i, j..j+8] of gemm, b the packed strip of columns j..j+8. */
@inline
function block1x8(i: i32, j: i32, N: i32, K: i32, a: usize, b: usize, bias: usize, c: usize): void {
  let c0 = f32x4.splat(0);
  let c1 = f32x4.splat(0);
  if (bias) {
    c0 = v128.load(bias + (<usize>j << 2));
    c1 = v128.load(bias + (<usize>j << 2), 16);
  }
  let pa = a + (<usize>i * <usize>K << 2);
  let pb = b;
  const end = pa + (<usize>K << 2);
  while (pa < end) {
    const x = v128.load32_splat(pa);
    c0 = f32x4.add(c0, f32x4.mul(x, v128.load(pb)));
    c1 = f32x4.add(c1, f32x4.mul(x, v128.load(pb, 16)));
    pa += 4;
    pb += NR << 2;
  }
  const pc = c + ((<usize>i * <usize>N + <usize>j) << 2);
  v128.store(pc, c0);
  v128.store(pc, c1, 16);
}

