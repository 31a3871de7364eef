// AssemblyScript: the kernel's matrix product (see recurrence.ts, the module's entry). `pack` and
// `packT` lay out a right-hand side; `sgemm` computes columns of a product, for the module's export
// (`sgemmArgs`, reading an argument block) and for the recurrence's per-step products.
import {
  SGEMM_a,
  SGEMM_b,
  SGEMM_bias,
  SGEMM_c,
  SGEMM_K,
  SGEMM_M,
  SGEMM_N,
  SGEMM_j0,
  SGEMM_j1,
} from './args';
import { block, NR } from './block';

/** Rows of A per panel: a panel of A (MC x K) stays in cache while B's column strips stream by. */
const MC = 64;

/**
 * dst = w [N, K] (a PyTorch weight, out x in) packed as B = w^T [K, N] for `sgemm`: strips of 8
 * columns, each K rows of 8 contiguous floats (ceil(N / 8) * 8 * K floats, the last strip padded
 * with zeros), so the inner loop reads B contiguously instead of with a stride of N floats (which
 * at N = 1024 maps every row of a strip onto the same cache set).
 */
export function pack(N: i32, K: i32, w: usize, dst: usize): void {
  packStrips(N, K, w, K, 1, dst);
}

/**
 * dst = b [K, N] (row-major, already K x N) packed for `sgemm` as `pack` lays out its w^T: the
 * same strips of 8 columns, for products with an untransposed right-hand side (BPTT's dgates W_hh).
 */
export function packT(N: i32, K: i32, b: usize, dst: usize): void {
  packStrips(N, K, b, 1, N, dst);
}

/** The strips of `pack` from B [K, N] at `src`, whose element (k, j) is at float j * sj + k * sk. */
@inline
function packStrips(N: i32, K: i32, src: usize, sj: i32, sk: i32, dst: usize): void {
  const strips = (N + NR - 1) / NR;
  for (let p = 0; p < strips; p++) {
    for (let k = 0; k < K; k++) {
      for (let jj = 0; jj < NR; jj++) {
        const j = p * NR + jj;
        const at = <usize>j * <usize>sj + <usize>k * <usize>sk;
        const v: f32 = j < N ? load<f32>(src + (at << 2)) : 0;
        store<f32>(dst + (((<usize>p * <usize>K + <usize>k) * NR + <usize>jj) << 2), v);
      }
    }
  }
}

/**
 * `sgemm` with its arguments read from the block at `args` (SGEMM_ARGS of src/wasm/args.ts): the
 * module's export `sgemm`. Columns j0 <= j < j1 only (j1 = 0: N; j0 and j1 multiples of 8 or N).
 */
export function sgemmArgs(args: usize): void {
  const N = load<i32>(args + SGEMM_N);
  const j1 = load<i32>(args + SGEMM_j1);
  sgemm(
    load<i32>(args + SGEMM_M),
    N,
    load<i32>(args + SGEMM_K),
    load<u32>(args + SGEMM_a),
    load<u32>(args + SGEMM_b),
    load<u32>(args + SGEMM_bias),
    load<u32>(args + SGEMM_c),
    load<i32>(args + SGEMM_j0),
    j1 ? j1 : N,
    0,
  );
}

/**
 * Columns j0 <= j < j1 of c [M, N] = a [M, K] x B [K, N] (+ bias [N] on every row when `bias` is
 * not 0), B packed by `pack`. Panels of MC rows; inside one, the strips of 8 columns of B that lie
 * in [j0, j1) (see `strips`); a strip that [j0, j1) cuts is computed whole into `tile` (8 floats)
 * row by row and only its columns in range stored (so j0 and j1 need not be multiples of 8 when
 * `tile` is given); the columns of a last partial strip are done lane by lane. Every element is
 * computed as when [j0, j1) = [0, N), so threads may split the columns.
 */
export function sgemm(M: i32, N: i32, K: i32, a: usize, b: usize, bias: usize, c: usize, j0: i32, j1: i32, tile: usize): void {
  const full = N / NR;
  const strip = <usize>K * NR << 2;
  const p0 = (j0 + NR - 1) / NR;
  const p1 = min(j1 / NR, full);
  // Strips cut by the range: the first's (when it starts inside one), the last's (when it ends
  // inside one and that one is not the same).
  const e0 = j0 % NR != 0 && j0 / NR < full ? j0 / NR : -1;
  const e1 = j1 % NR != 0 && j1 / NR < full && j1 / NR != e0 && j1 / NR >= p0 ? j1 / NR : -1;
  for (let i0 = 0; i0 < M; i0 += MC) {
    const i1 = min(i0 + MC, M);
    if (p0 < p1) strips(false, i0, i1, p0, 0, 0, p1 - p0, N, K, a, b, bias, c);
    for (let e = 0; e < 2; e++) {
      const p = e ? e1 : e0;
      if (p < 0) continue;
      const lo = max(j0, p * NR);
      const hi = min(j1, p * NR + NR);
      for (let i = i0; i < i1; i++) {
        const pbias = bias ? bias + (<usize>(p * NR) << 2) : 0;
        block(1, 2, 0, 0, 0, 0, NR, K, a + (<usize>i * <usize>K << 2), b + <usize>p * strip, strip, pbias, tile);
        const at = c + ((<usize>i * <usize>N + <usize>lo) << 2);
        memory.copy(at, tile + (<usize>(lo - p * NR) << 2), <usize>(hi - lo) << 2);
      }
    }
    if (j1 > full * NR) {
      const pb = b + (<usize>full * <usize>K * NR << 2);
      for (let i = i0; i < i1; i++) {
        for (let j = max(j0, full * NR); j < j1; j++) {
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

/**
 * Columns of c [M, N] = a [M, K] x B [K, N] (+ bias) for a chunk of the gates' hidden units: of
 * each of the `gates` blocks of `gap` strips, the `run` strips from strip `first` (a recurrence
 * step's chunk of units, in every gate at once, so that its register blocks span gates instead of
 * stopping at each gate's last strip). Rows 0 <= i < M (M <= MC).
 */
export function gateColumns(M: i32, N: i32, K: i32, a: usize, b: usize, bias: usize, c: usize, first: i32, run: i32, gap: i32, gates: i32): void {
  strips(true, 0, M, first, run, gap, run * gates, N, K, a, b, bias, c);
}

/**
 * The position after `pos` in `strips`' walk: a position is a strip's index << 16 | its place in
 * its run (`gathered`: runs of `run` strips, one every `gap`; else one run, place 0).
 */
@inline
function after(gathered: bool, pos: i32, run: i32, gap: i32): i32 {
  if (!gathered) return pos + 0x10000;
  const o = pos & 0xffff;
  return o + 1 == run ? pos - o + ((gap - run + 1) << 16) : pos + 0x10001;
}

/** Columns from strip p to the strip at `pos`, the k-th after p (k strips when not `gathered`). */
@inline
function columns(gathered: bool, pos: i32, p: i32, k: i32): i32 {
  return (gathered ? (pos >> 16) - p : k) * NR;
}

/**
 * Rows i0 <= i < i1 times `count` whole strips of sgemm from strip `first`: consecutive ones, or
 * when `gathered` (a compile-time constant) runs of `run` strips, one run every `gap` strips.
 * Each strip times blocks of 4 rows, then the last 2 rows times 2 strips at once and the last row
 * times 3, with f32x4 accumulators.
 */
@inline
function strips(gathered: bool, i0: i32, i1: i32, first: i32, run: i32, gap: i32, count: i32, N: i32, K: i32, a: usize, b: usize, bias: usize, c: usize): void {
  const strip = <usize>K * NR << 2;
  const i4 = i0 + ((i1 - i0) & ~3);
  let pos = first << 16;
  for (let q = 0; q < count; q++) {
    const p = pos >> 16;
    const pb = b + <usize>p * strip;
    for (let i = i0; i < i4; i += 4) block(4, 2, i, p * NR, 0, 0, N, K, a, pb, strip, bias, c);
    pos = after(gathered, pos, run, gap);
  }
  // The last rows (fewer than 4: all of them when M < 4, as in a decode step) over several
  // strips at once, so that 6 or 8 accumulators hide the latency of the multiply-adds (one
  // strip: 2 or 4 chains, each waiting for its previous addition; 1.5-1.8x slower on AMD Zen 4;
  // a last row over 2 strips instead of 3: 1.3-1.4x slower in the relaxed build). Four strips
  // for one row measured no faster than one (register pressure in V8's code). The strips of a
  // block need not be adjacent: d1 and d2 are the second's and third's columns from the first's.
  let i = i4;
  if (i + 2 <= i1) {
    pos = first << 16;
    let q = 0;
    for (; q + 2 <= count; q += 2) {
      const p = pos >> 16;
      const pos1 = after(gathered, pos, run, gap);
      block(2, 4, i, p * NR, columns(gathered, pos1, p, 1), 0, N, K, a, b + <usize>p * strip, strip, bias, c);
      pos = after(gathered, pos1, run, gap);
    }
    const p = pos >> 16;
    if (q < count) block(2, 2, i, p * NR, 0, 0, N, K, a, b + <usize>p * strip, strip, bias, c);
    i += 2;
  }
  if (i < i1) {
    pos = first << 16;
    let q = 0;
    for (; q + 3 <= count; q += 3) {
      const p = pos >> 16;
      const pos1 = after(gathered, pos, run, gap);
      const pos2 = after(gathered, pos1, run, gap);
      const d1 = columns(gathered, pos1, p, 1);
      block(1, 6, i, p * NR, d1, columns(gathered, pos2, p, 2), N, K, a, b + <usize>p * strip, strip, bias, c);
      pos = after(gathered, pos2, run, gap);
    }
    if (q + 2 <= count) {
      const p = pos >> 16;
      const pos1 = after(gathered, pos, run, gap);
      block(1, 4, i, p * NR, columns(gathered, pos1, p, 1), 0, N, K, a, b + <usize>p * strip, strip, bias, c);
      pos = after(gathered, pos1, run, gap);
      q += 2;
    }
    const p = pos >> 16;
    if (q < count) block(1, 2, i, p * NR, 0, 0, N, K, a, b + <usize>p * strip, strip, bias, c);
  }
}
