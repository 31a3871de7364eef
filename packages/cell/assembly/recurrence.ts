// AssemblyScript: the recurrence kernel of @rnnkit/cell, compiled to WebAssembly with SIMD by
// scripts/build-kernel.mjs. Its exports: `pack` and `packT` lay out a right-hand side for the
// product; `sgemm` (a product) and `forward` (a recurrence) read their arguments from a block in
// memory whose fields src/wasm/args.ts lists (assembly/args.ts, generated, gives their offsets).
// Every argument named like a buffer is a byte offset into this module's memory, which the host
// (src/wasm/) lays out, grows and fills; nothing here allocates. Matrices are row-major float32.
// One file, so that CPU profiles name its functions recurrence/sgemm, recurrence/forward, ...
import {
  FORWARD_B,
  FORWARD_G,
  FORWARD_H,
  FORWARD_S,
  FORWARD_T,
  FORWARD_b0,
  FORWARD_b1,
  FORWARD_blocking,
  FORWARD_batchFirst,
  FORWARD_bhh,
  FORWARD_c,
  FORWARD_cIn,
  FORWARD_full,
  FORWARD_gates,
  FORWARD_h,
  FORWARD_hIn,
  FORWARD_hn,
  FORWARD_hNext,
  FORWARD_hp,
  FORWARD_mode,
  FORWARD_out,
  FORWARD_parties,
  FORWARD_reverse,
  FORWARD_s0,
  FORWARD_s1,
  FORWARD_savedStride,
  FORWARD_sync,
  FORWARD_tile,
  FORWARD_u0,
  FORWARD_u1,
  FORWARD_valid,
  FORWARD_whhT,
  FORWARD_whrT,
  FORWARD_x,
  GRU,
  LSTM,
  RNN_RELU,
  RNN_TANH,
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
import { meet } from './barrier';
import { madd, sigmoid, sigmoidv, tanhv } from './math';

/** Rows of A per panel: a panel of A (MC x K) stays in cache while B's column strips stream by. */
const MC = 64;
/** Columns per strip of a packed B (see `pack`). */
const NR = 8;

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
function sgemmArgs(args: usize): void {
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
function sgemm(M: i32, N: i32, K: i32, a: usize, b: usize, bias: usize, c: usize, j0: i32, j1: i32, tile: usize): void {
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
    if (p0 < p1) strips(i0, i1, p0, p1, N, K, a, b, bias, c);
    for (let e = 0; e < 2; e++) {
      const p = e ? e1 : e0;
      if (p < 0) continue;
      const lo = max(j0, p * NR);
      const hi = min(j1, p * NR + NR);
      for (let i = i0; i < i1; i++) {
        const pbias = bias ? bias + (<usize>(p * NR) << 2) : 0;
        block(1, 2, 0, 0, NR, K, a + (<usize>i * <usize>K << 2), b + <usize>p * strip, 0, pbias, tile);
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
 * Rows i0 <= i < i1 times the whole strips p0 <= p < p1 of sgemm: each strip times blocks of 4
 * rows, then the last 2 rows times 2 strips at once and the last row times 3, with f32x4
 * accumulators.
 */
@inline
function strips(i0: i32, i1: i32, p0: i32, p1: i32, N: i32, K: i32, a: usize, b: usize, bias: usize, c: usize): void {
  const strip = <usize>K * NR << 2;
  const i4 = i0 + ((i1 - i0) & ~3);
  for (let p = p0; p < p1; p++) {
    const pb = b + <usize>p * strip;
    for (let i = i0; i < i4; i += 4) block(4, 2, i, p * NR, N, K, a, pb, 0, bias, c);
  }
  // The last rows (fewer than 4: all of them when M < 4, as in a decode step) over several
  // strips at once, so that 6 or 8 accumulators hide the latency of the multiply-adds (one
  // strip: 2 or 4 chains, each waiting for its previous addition; 1.5-1.8x slower on AMD Zen 4;
  // a last row over 2 strips instead of 3: 1.3-1.4x slower in the relaxed build). Four strips
  // for one row measured no faster than one (register pressure in V8's code).
  let i = i4;
  if (i + 2 <= i1) {
    let p = p0;
    for (; p + 2 <= p1; p += 2) block(2, 4, i, p * NR, N, K, a, b + <usize>p * strip, strip, bias, c);
    if (p < p1) block(2, 2, i, p * NR, N, K, a, b + <usize>p * strip, 0, bias, c);
    i += 2;
  }
  if (i < i1) {
    let p = p0;
    for (; p + 3 <= p1; p += 3) block(1, 6, i, p * NR, N, K, a, b + <usize>p * strip, strip, bias, c);
    for (; p + 2 <= p1; p += 2) block(1, 4, i, p * NR, N, K, a, b + <usize>p * strip, strip, bias, c);
    for (; p < p1; p++) block(1, 2, i, p * NR, N, K, a, b + <usize>p * strip, 0, bias, c);
  }
}

/**
 * c[i..i+R, j..j+4W] of sgemm: R rows of a times W vectors of 4 columns, from the packed strip of
 * columns j..j+8 at b and, when W > 2, the next (W / 2 - 1) strips, `strip` bytes apart: 4x8, 2x8,
 * 1x8 (W = 2), 2x16, 1x16 (W = 4) or 1x24 (W = 6). Inlined with constant R and W, so Binaryen
 * specialises it into a register block of R * W f32x4 accumulators q0..q7, in pairs (one strip of
 * one row): q0 q1 row 0; q2 q3 row 1 (W = 2) or row 0's second strip; q4 q5 row 2 (W = 2), row 1
 * (W = 4) or row 0's third strip; q6 q7 row 3 (W = 2) or row 1's second strip (W = 4). Every
 * element starts from its bias (or 0) and adds its K products in order, whatever block computes
 * it, so results do not depend on the block (nor on how threads split the rows).
 */
@inline
function block(
  R: i32,
  W: i32,
  i: i32,
  j: i32,
  N: i32,
  K: i32,
  a: usize,
  b: usize,
  strip: usize,
  bias: usize,
  c: usize,
): void {
  const wide = W > 2;
  const three = W > 4;
  let q0 = f32x4.splat(0);
  let q1 = q0;
  let q2 = q0;
  let q3 = q0;
  let q4 = q0;
  let q5 = q0;
  if (bias) {
    const pbias = bias + (<usize>j << 2);
    q0 = v128.load(pbias);
    q1 = v128.load(pbias, 16);
    q2 = wide ? v128.load(pbias, 32) : q0;
    q3 = wide ? v128.load(pbias, 48) : q1;
    q4 = three ? v128.load(pbias, 64) : q0;
    q5 = three ? v128.load(pbias, 80) : q1;
  }
  // Rows after the first start from the same bias.
  if (!three) {
    q4 = q0;
    q5 = q1;
  }
  let q6 = q2;
  let q7 = q3;
  const rowA = <usize>K << 2;
  let pa = a + (<usize>i * <usize>K << 2);
  let pb = b;
  const end = pa + rowA;
  while (pa < end) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    const b2 = wide ? v128.load(pb + strip) : b0;
    const b3 = wide ? v128.load(pb + strip, 16) : b1;
    const x0 = v128.load32_splat(pa);
    q0 = madd(x0, b0, q0);
    q1 = madd(x0, b1, q1);
    if (R * W > 2) {
      const x1 = wide ? x0 : v128.load32_splat(pa + rowA);
      q2 = madd(x1, b2, q2);
      q3 = madd(x1, b3, q3);
    }
    if (R * W > 4) {
      const b4 = three ? v128.load(pb + 2 * strip) : b0;
      const b5 = three ? v128.load(pb + 2 * strip, 16) : b1;
      const x2 = three ? x0 : v128.load32_splat(pa + (wide ? rowA : 2 * rowA));
      q4 = madd(x2, b4, q4);
      q5 = madd(x2, b5, q5);
      if (R * W > 6) {
        const x3 = wide ? x2 : v128.load32_splat(pa + 3 * rowA);
        q6 = madd(x3, b2, q6);
        q7 = madd(x3, b3, q7);
      }
    }
    pa += 4;
    pb += NR << 2;
  }
  const rowC = <usize>N << 2;
  const pc = c + ((<usize>i * <usize>N + <usize>j) << 2);
  v128.store(pc, q0);
  v128.store(pc, q1, 16);
  if (R * W > 2) {
    const pc1 = pc + (wide ? 32 : rowC);
    v128.store(pc1, q2);
    v128.store(pc1, q3, 16);
  }
  if (R * W > 4) {
    const pc2 = pc + (three ? 64 : wide ? rowC : 2 * rowC);
    v128.store(pc2, q4);
    v128.store(pc2, q5, 16);
    if (R * W > 6) {
      const pc3 = pc + (wide ? rowC + 32 : 3 * rowC);
      v128.store(pc3, q6);
      v128.store(pc3, q7, 16);
    }
  }
}

/**
 * One gate's activations: g[j] = tanh or sigmoid (by `tanh`, a constant where inlined) of
 * x[j] + p[j] over the h4 / 4 floats from byte offsets x, p and g; four lanes at a time, then the
 * last H % 4 one by one.
 */
@inline
function gate(tanh: bool, x: usize, p: usize, g: usize, h4: usize): void {
  const v4 = h4 & ~15;
  for (let j: usize = 0; j < v4; j += 16) {
    const s = f32x4.add(v128.load(x + j), v128.load(p + j));
    v128.store(g + j, tanh ? tanhv(s) : sigmoidv(s));
  }
  for (let j = v4; j < h4; j += 4) {
    const s = load<f32>(x + j) + load<f32>(p + j);
    store<f32>(g + j, tanh ? Mathf.tanh(s) : sigmoid(s));
  }
}

/** Row of step t of sequence b in a [T, B, *] buffer, or a [B, T, *] one when `batchFirst`. */
@inline
function row(batchFirst: bool, t: i32, b: i32, T: i32, B: i32): usize {
  return batchFirst ? <usize>b * <usize>T + <usize>t : <usize>t * <usize>B + <usize>b;
}

/**
 * The whole recurrence of one direction of one layer, its arguments read from the block at `args`
 * (FORWARD_ARGS of src/wasm/args.ts): T steps of B sequences, hidden size H, state
 * size S (the LSTM projection size P, else H), G = gates * H. Per step t (T-1 down to 0 when
 * `reverse`): hp [B, G] = h [B, S] x whhT [S, G] + bhh [G], then the gate math (LSTM i, f, g, o;
 * GRU r, z, n with n = tanh(x_n + r * (h W_hn^T + b_hn))), then for LSTM with a projection
 * h = full [B, H] x whrT [H, S]. Sequences whose `valid` [T, B] byte is 0 at t (when `valid` is
 * not 0) keep their state and output zeros.
 *
 * Threads sharing this memory split a call by rows or by columns. Rows: only the sequences
 * b0 <= b < b1 are run (their rows of every buffer, nothing else is read or written). Columns
 * (`parties` > 1 threads, each with its own `tile` of 8 floats): each runs its hidden units
 * u0 <= j < u1 (u1 = 0: H; u0 and u1 multiples of 8 or H) of every gate, their c and the state's
 * columns s0 <= j < s1 (s1 = 0: S; LSTM with a projection: its share of P, else the same as the
 * units), and all meet at `sync` (barrier.ts; `blocking`: this thread may block) at the end of
 * each step and before the projection. The state then alternates between h and hNext [B, S], so
 * that no thread writes the state that another is still reading; h holds it at the end.
 *
 * In: x [T, B, G] (x W_ih^T + b_ih; [B, T, G] when `batchFirst`), whhT [S, G] and whrT [H, S]
 * (or 0) packed by `pack`, bhh [G], valid [T, B] u8 (or 0). In/out: h [B, S], c [B, H] (LSTM).
 * Out: out [T, B, S] ([B, T, S] when `batchFirst`). Scratch: hp [B, G], full [B, H]
 * (projected LSTM). Saved for BPTT: gates [T, B, G] (RNN h; LSTM i, f, g, o; GRU r, z, n) and hn
 * [T, B, H] (GRU h W_hn^T + b_hn), both advancing `savedStride` (B * G and B * H floats) per step,
 * so with a stride of 0 they are [B, G] and [B, H] scratch; hIn [T, B, S] and cIn [T, B, H], the
 * state entering each step, when not 0.
 */
export function forward(args: usize): void {
  const mode = load<i32>(args + FORWARD_mode);
  const T = load<i32>(args + FORWARD_T);
  const B = load<i32>(args + FORWARD_B);
  const H = load<i32>(args + FORWARD_H);
  const S = load<i32>(args + FORWARD_S);
  const G = load<i32>(args + FORWARD_G);
  const reverse = load<i32>(args + FORWARD_reverse) != 0;
  const batchFirst = load<i32>(args + FORWARD_batchFirst) != 0;
  const b0 = load<i32>(args + FORWARD_b0);
  const b1 = load<i32>(args + FORWARD_b1);
  const x = <usize>load<u32>(args + FORWARD_x);
  const whhT = <usize>load<u32>(args + FORWARD_whhT);
  const bhh = <usize>load<u32>(args + FORWARD_bhh);
  const whrT = <usize>load<u32>(args + FORWARD_whrT);
  const valid = <usize>load<u32>(args + FORWARD_valid);
  const h = <usize>load<u32>(args + FORWARD_h);
  const c = <usize>load<u32>(args + FORWARD_c);
  const out = <usize>load<u32>(args + FORWARD_out);
  const hp = <usize>load<u32>(args + FORWARD_hp);
  const full = <usize>load<u32>(args + FORWARD_full);
  const gates = <usize>load<u32>(args + FORWARD_gates);
  const hn = <usize>load<u32>(args + FORWARD_hn);
  const savedStride = load<i32>(args + FORWARD_savedStride) != 0;
  const hIn = <usize>load<u32>(args + FORWARD_hIn);
  const cIn = <usize>load<u32>(args + FORWARD_cIn);
  const u0 = load<i32>(args + FORWARD_u0);
  const u1 = load<i32>(args + FORWARD_u1) || H;
  const s0 = load<i32>(args + FORWARD_s0);
  const s1 = load<i32>(args + FORWARD_s1) || S;
  const parties = load<i32>(args + FORWARD_parties);
  const sync = <usize>load<u32>(args + FORWARD_sync);
  const blocking = load<i32>(args + FORWARD_blocking) != 0;
  const tile = <usize>load<u32>(args + FORWARD_tile);
  const split = parties > 1;

  const bs = <usize>B * <usize>S << 2;
  const bh = <usize>B * <usize>H << 2;
  const bg = <usize>B * <usize>G << 2;
  const nb = b1 - b0;
  const rowS = <usize>S << 2;
  const rowH = <usize>H << 2;
  // This share's columns: bytes from the start of a row of H (units) and of S (state).
  const u = <usize>u0 << 2;
  const w = <usize>(u1 - u0) << 2;
  const su = <usize>s0 << 2;
  const sw = <usize>(s1 - s0) << 2;
  // The state this step reads and the one it writes (the same unless the columns are split).
  let cur = h;
  let nxt = split ? <usize>load<u32>(args + FORWARD_hNext) : h;
  // This range's rows of hp and full; the projection's result goes to the start of its hp rows.
  const hpb = hp + (<usize>b0 * <usize>G << 2);
  const fb = full + <usize>b0 * rowH;
  for (let s = 0; s < T; s++) {
    const t = reverse ? T - 1 - s : s;
    for (let b = b0; b < b1; b++) {
      const at = <usize>b * rowS + su;
      if (hIn) memory.copy(hIn + <usize>t * bs + at, cur + at, sw);
      if (cIn) memory.copy(cIn + <usize>t * bh + <usize>b * rowH + u, c + <usize>b * rowH + u, w);
    }
    const hb = cur + <usize>b0 * rowS;
    if (u0 == 0 && u1 == H) sgemm(nb, G, S, hb, whhT, bhh, hpb, 0, G, tile);
    else for (let g = 0; g < G; g += H) sgemm(nb, G, S, hb, whhT, bhh, hpb, g + u0, g + u1, tile);
    const gt = savedStride ? gates + <usize>t * bg : gates;
    const nt = savedStride ? hn + <usize>t * bh : hn;
    const target = whrT ? full : nxt;
    for (let b = b0; b < b1; b++) {
      if (valid && !load<u8>(valid + <usize>t * <usize>B + <usize>b)) continue;
      const xo = x + (row(batchFirst, t, b, T, B) * <usize>G << 2) + u;
      const po = hp + (<usize>b * <usize>G << 2) + u;
      const go = gt + (<usize>b * <usize>G << 2) + u;
      const ho = (<usize>b * <usize>H << 2) + u;
      const h4 = <usize>H << 2;
      // Each gate's activations in a pass of its own (gate), then the state update: a pass's
      // iterations are short and independent, so the core overlaps several of them instead of
      // waiting on one long chain of dependent steps (an activation, then the next one using it).
      // Four units at a time up to the last H % 4 (u0 is a multiple of 8), as on one thread.
      const v4 = w & ~15;
      if (mode == RNN_TANH) {
        gate(true, xo, po, go, w);
        memory.copy(nxt + ho, go, w);
      } else if (mode == RNN_RELU) {
        for (let j: usize = 0; j < w; j += 4) {
          const y = max<f32>(load<f32>(xo + j) + load<f32>(po + j), 0);
          store<f32>(go + j, y);
          store<f32>(nxt + ho + j, y);
        }
      } else if (mode == LSTM) {
        gate(false, xo, po, go, w);
        gate(false, xo + h4, po + h4, go + h4, w);
        gate(true, xo + 2 * h4, po + 2 * h4, go + 2 * h4, w);
        gate(false, xo + 3 * h4, po + 3 * h4, go + 3 * h4, w);
        for (let j: usize = 0; j < v4; j += 16) {
          const i = v128.load(go + j);
          const f = v128.load(go + h4 + j);
          const g = v128.load(go + 2 * h4 + j);
          const o = v128.load(go + 3 * h4 + j);
          const cj = madd(f, v128.load(c + ho + j), f32x4.mul(i, g));
          v128.store(c + ho + j, cj);
          v128.store(target + ho + j, f32x4.mul(o, tanhv(cj)));
        }
        for (let j = v4; j < w; j += 4) {
          const i = load<f32>(go + j);
          const f = load<f32>(go + h4 + j);
          const g = load<f32>(go + 2 * h4 + j);
          const o = load<f32>(go + 3 * h4 + j);
          const cj = f * load<f32>(c + ho + j) + i * g;
          store<f32>(c + ho + j, cj);
          store<f32>(target + ho + j, o * Mathf.tanh(cj));
        }
      } else if (mode == GRU) {
        const no = nt + ho;
        gate(false, xo, po, go, w);
        gate(false, xo + h4, po + h4, go + h4, w);
        for (let j: usize = 0; j < v4; j += 16) {
          const r = v128.load(go + j);
          const z = v128.load(go + h4 + j);
          const hnj = v128.load(po + 2 * h4 + j);
          const n = tanhv(madd(r, hnj, v128.load(xo + 2 * h4 + j)));
          v128.store(go + 2 * h4 + j, n);
          v128.store(no + j, hnj);
          const hj = v128.load(cur + ho + j);
          v128.store(nxt + ho + j, madd(z, f32x4.sub(hj, n), n));
        }
        for (let j = v4; j < w; j += 4) {
          const r = load<f32>(go + j);
          const z = load<f32>(go + h4 + j);
          const hnj = load<f32>(po + 2 * h4 + j);
          const n = Mathf.tanh(load<f32>(xo + 2 * h4 + j) + r * hnj);
          store<f32>(go + 2 * h4 + j, n);
          store<f32>(no + j, hnj);
          store<f32>(nxt + ho + j, n + z * (load<f32>(cur + ho + j) - n));
        }
      }
    }
    if (whrT) {
      // LSTM projection into hp (free again once every thread is done with its gates), then
      // h = full W_hr^T for the sequences still running.
      if (split) meet(sync, parties, blocking);
      sgemm(nb, S, H, fb, whrT, 0, hpb, s0, s1, tile);
      for (let b = b0; b < b1; b++) {
        if (valid && !load<u8>(valid + <usize>t * <usize>B + <usize>b)) continue;
        memory.copy(nxt + <usize>b * rowS + su, hpb + <usize>(b - b0) * rowS + su, sw);
      }
    }
    for (let b = b0; b < b1; b++) {
      const o = out + row(batchFirst, t, b, T, B) * rowS + su;
      const at = <usize>b * rowS + su;
      if (valid && !load<u8>(valid + <usize>t * <usize>B + <usize>b)) {
        memory.fill(o, 0, sw);
        if (split) memory.copy(nxt + at, cur + at, sw);
      } else memory.copy(o, nxt + at, sw);
    }
    if (split) {
      meet(sync, parties, blocking);
      const next = cur;
      cur = nxt;
      nxt = next;
    }
  }
  if (cur != h) {
    for (let b = b0; b < b1; b++) memory.copy(h + <usize>b * rowS + su, cur + <usize>b * rowS + su, sw);
  }
}

export { sgemmArgs as sgemm };
