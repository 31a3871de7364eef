// AssemblyScript: the recurrence kernel of @rnnkit/cell, compiled to WebAssembly with SIMD by
// scripts/build-kernel.mjs. Every argument named like a buffer is a byte offset into this module's
// memory, which the host (src/kernel.ts) lays out, grows and fills; nothing here allocates.
// Matrices are row-major float32.

/** Cell types, as the host numbers them: PyTorch's RNN_TANH, RNN_RELU, LSTM and GRU. */
const RNN_TANH = 0;
const RNN_RELU = 1;
const LSTM = 2;
const GRU = 3;

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
 * dst = b [K, N] (row-major, already K x N) packed for `sgemm` as `pack` lays out its w^T: the
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

/**
 * c [M, N] = a [M, K] x B [K, N] (+ bias [N] on every row when `bias` is not 0), B packed by
 * `pack`. Panels of MC rows; inside one, each strip of 8 columns of B times blocks of 4, 2 or 1
 * rows of a, with f32x4 accumulators; a last partial strip is done lane by lane.
 */
export function sgemm(M: i32, N: i32, K: i32, a: usize, b: usize, bias: usize, c: usize): void {
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

/** c[i..i+4, j..j+8] of sgemm, b the packed strip of columns j..j+8. */
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

/** c[i..i+2, j..j+8] of sgemm, b the packed strip of columns j..j+8. */
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

/** c[i, j..j+8] of sgemm, b the packed strip of columns j..j+8. */
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

@inline
function sigmoid(v: f32): f32 {
  return 1 / (1 + Mathf.exp(-v));
}

/**
 * e^x on four lanes (Cephes' expf: x = n ln 2 + r, a degree-6 polynomial in r, then 2^n from the
 * exponent bits), within 2 ulp of Mathf.exp for x in [-87.3, 88.7], to which x is clamped (so
 * never 0 nor Infinity); NaN stays NaN.
 */
@inline
function expv(x: v128): v128 {
  x = f32x4.min(f32x4.max(x, f32x4.splat(-87.3)), f32x4.splat(88.7));
  const n = f32x4.nearest(f32x4.mul(x, f32x4.splat(1.44269504088896341)));
  let r = f32x4.sub(x, f32x4.mul(n, f32x4.splat(0.693359375)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(-2.12194440e-4)));
  let p = f32x4.splat(1.9875691500e-4);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.3981999507e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(8.3334519073e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(4.1665795894e-2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.6666665459e-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(5.0000001201e-1));
  p = f32x4.add(f32x4.add(f32x4.mul(p, f32x4.mul(r, r)), r), f32x4.splat(1));
  // times 2^n as 2^(n >> 1) 2^(n - (n >> 1)), so n = 128 (x near 88.7) stays finite.
  const ni = i32x4.trunc_sat_f32x4_s(n);
  const n1 = i32x4.shr_s(ni, 1);
  const s1 = i32x4.shl(i32x4.add(n1, i32x4.splat(127)), 23);
  const s2 = i32x4.shl(i32x4.add(i32x4.sub(ni, n1), i32x4.splat(127)), 23);
  return f32x4.mul(f32x4.mul(p, s1), s2);
}

/** 1 / (1 + e^-x) on four lanes. */
@inline
function sigmoidv(x: v128): v128 {
  const one = f32x4.splat(1);
  return f32x4.div(one, f32x4.add(one, expv(f32x4.neg(x))));
}

/** tanh on four lanes: sign(x) (1 - e) / (1 + e), e = e^(-2|x|); within 1e-7 absolute. */
@inline
function tanhv(x: v128): v128 {
  const one = f32x4.splat(1);
  const e = expv(f32x4.mul(f32x4.abs(x), f32x4.splat(-2)));
  const t = f32x4.div(f32x4.sub(one, e), f32x4.add(one, e));
  return v128.or(t, v128.and(x, i32x4.splat(0x80000000)));
}

/** Row of step t of sequence b in a [T, B, *] buffer, or a [B, T, *] one when `batchFirst`. */
@inline
function row(batchFirst: bool, t: i32, b: i32, T: i32, B: i32): usize {
  return batchFirst ? <usize>b * <usize>T + <usize>t : <usize>t * <usize>B + <usize>b;
}

/**
 * The whole recurrence of one direction of one layer, T steps of B sequences, hidden size H, state
 * size S (the LSTM projection size P, else H), G = gates * H. Per step t (T-1 down to 0 when
 * `reverse`): hp [B, G] = h [B, S] x whhT [S, G] + bhh [G], then the gate math (LSTM i, f, g, o;
 * GRU r, z, n with n = tanh(x_n + r * (h W_hn^T + b_hn))), then for LSTM with a projection
 * h = full [B, H] x whrT [H, S]. Sequences whose `valid` [T, B] byte is 0 at t (when `valid` is
 * not 0) keep their state and output zeros. Only the sequences b0 <= b < b1 are run (their rows of
 * every buffer, nothing else is read or written), so threads sharing this memory can each run a
 * disjoint range of the batch at once.
 *
 * In: x [T, B, G] (x W_ih^T + b_ih; [B, T, G] when `batchFirst`), whhT [S, G] and whrT [H, S]
 * (or 0) packed by `pack`, bhh [G], valid [T, B] u8 (or 0). In/out: h [B, S], c [B, H] (LSTM).
 * Out: out [T, B, S] ([B, T, S] when `batchFirst`). Scratch: hp [B, G], full [B, H]
 * (projected LSTM). Saved for BPTT: gates [T, B, G] (RNN h; LSTM i, f, g, o; GRU r, z, n) and hn
 * [T, B, H] (GRU h W_hn^T + b_hn), both advancing `savedStride` (B * G and B * H floats) per step,
 * so with a stride of 0 they are [B, G] and [B, H] scratch; hIn [T, B, S] and cIn [T, B, H], the
 * state entering each step, when not 0.
 */
export function forward(
  mode: i32,
  T: i32,
  B: i32,
  H: i32,
  S: i32,
  G: i32,
  reverse: bool,
  batchFirst: bool,
  b0: i32,
  b1: i32,
  x: usize,
  whhT: usize,
  bhh: usize,
  whrT: usize,
  valid: usize,
  h: usize,
  c: usize,
  out: usize,
  hp: usize,
  full: usize,
  gates: usize,
  hn: usize,
  savedStride: bool,
  hIn: usize,
  cIn: usize,
): void {
  const bs = <usize>B * <usize>S << 2;
  const bh = <usize>B * <usize>H << 2;
  const bg = <usize>B * <usize>G << 2;
  const nb = b1 - b0;
  const rowS = <usize>S << 2;
  const rowH = <usize>H << 2;
  // This range's rows of h, hp and full; the projection's result goes to the start of its hp rows.
  const hb = h + <usize>b0 * rowS;
  const hpb = hp + (<usize>b0 * <usize>G << 2);
  const fb = full + <usize>b0 * rowH;
  for (let s = 0; s < T; s++) {
    const t = reverse ? T - 1 - s : s;
    if (hIn) memory.copy(hIn + <usize>t * bs + <usize>b0 * rowS, hb, <usize>nb * rowS);
    if (cIn) memory.copy(cIn + <usize>t * bh + <usize>b0 * rowH, c + <usize>b0 * rowH, <usize>nb * rowH);
    sgemm(nb, G, S, hb, whhT, bhh, hpb);
    const gt = savedStride ? gates + <usize>t * bg : gates;
    const nt = savedStride ? hn + <usize>t * bh : hn;
    const target = whrT ? full : h;
    for (let b = b0; b < b1; b++) {
      if (valid && !load<u8>(valid + <usize>t * <usize>B + <usize>b)) continue;
      const xo = x + (row(batchFirst, t, b, T, B) * <usize>G << 2);
      const po = hp + (<usize>b * <usize>G << 2);
      const go = gt + (<usize>b * <usize>G << 2);
      const ho = <usize>b * <usize>H << 2;
      const h4 = <usize>H << 2;
      // Four lanes at a time, then the last H % 4 one by one.
      const v4 = h4 & ~15;
      if (mode == RNN_TANH) {
        for (let j: usize = 0; j < v4; j += 16) {
          const y = tanhv(f32x4.add(v128.load(xo + j), v128.load(po + j)));
          v128.store(go + j, y);
          v128.store(h + ho + j, y);
        }
        for (let j = v4; j < h4; j += 4) {
          const y = Mathf.tanh(load<f32>(xo + j) + load<f32>(po + j));
          store<f32>(go + j, y);
          store<f32>(h + ho + j, y);
        }
      } else if (mode == RNN_RELU) {
        for (let j: usize = 0; j < h4; j += 4) {
          const y = max<f32>(load<f32>(xo + j) + load<f32>(po + j), 0);
          store<f32>(go + j, y);
          store<f32>(h + ho + j, y);
        }
      } else if (mode == LSTM) {
        for (let j: usize = 0; j < v4; j += 16) {
          const i = sigmoidv(f32x4.add(v128.load(xo + j), v128.load(po + j)));
          const f = sigmoidv(f32x4.add(v128.load(xo + h4 + j), v128.load(po + h4 + j)));
          const g = tanhv(f32x4.add(v128.load(xo + 2 * h4 + j), v128.load(po + 2 * h4 + j)));
          const o = sigmoidv(f32x4.add(v128.load(xo + 3 * h4 + j), v128.load(po + 3 * h4 + j)));
          v128.store(go + j, i);
          v128.store(go + h4 + j, f);
          v128.store(go + 2 * h4 + j, g);
          v128.store(go + 3 * h4 + j, o);
          const cj = f32x4.add(f32x4.mul(f, v128.load(c + ho + j)), f32x4.mul(i, g));
          v128.store(c + ho + j, cj);
          v128.store(target + ho + j, f32x4.mul(o, tanhv(cj)));
        }
        for (let j = v4; j < h4; j += 4) {
          const i = sigmoid(load<f32>(xo + j) + load<f32>(po + j));
          const f = sigmoid(load<f32>(xo + h4 + j) + load<f32>(po + h4 + j));
          const g = Mathf.tanh(load<f32>(xo + 2 * h4 + j) + load<f32>(po + 2 * h4 + j));
          const o = sigmoid(load<f32>(xo + 3 * h4 + j) + load<f32>(po + 3 * h4 + j));
          store<f32>(go + j, i);
          store<f32>(go + h4 + j, f);
          store<f32>(go + 2 * h4 + j, g);
          store<f32>(go + 3 * h4 + j, o);
          const cj = f * load<f32>(c + ho + j) + i * g;
          store<f32>(c + ho + j, cj);
          store<f32>(target + ho + j, o * Mathf.tanh(cj));
        }
      } else if (mode == GRU) {
        const no = nt + ho;
        for (let j: usize = 0; j < v4; j += 16) {
          const r = sigmoidv(f32x4.add(v128.load(xo + j), v128.load(po + j)));
          const z = sigmoidv(f32x4.add(v128.load(xo + h4 + j), v128.load(po + h4 + j)));
          const hnj = v128.load(po + 2 * h4 + j);
          const n = tanhv(f32x4.add(v128.load(xo + 2 * h4 + j), f32x4.mul(r, hnj)));
          v128.store(go + j, r);
          v128.store(go + h4 + j, z);
          v128.store(go + 2 * h4 + j, n);
          v128.store(no + j, hnj);
          const hj = v128.load(h + ho + j);
          v128.store(h + ho + j, f32x4.add(n, f32x4.mul(z, f32x4.sub(hj, n))));
        }
        for (let j = v4; j < h4; j += 4) {
          const r = sigmoid(load<f32>(xo + j) + load<f32>(po + j));
          const z = sigmoid(load<f32>(xo + h4 + j) + load<f32>(po + h4 + j));
          const hnj = load<f32>(po + 2 * h4 + j);
          const n = Mathf.tanh(load<f32>(xo + 2 * h4 + j) + r * hnj);
          store<f32>(go + j, r);
          store<f32>(go + h4 + j, z);
          store<f32>(go + 2 * h4 + j, n);
          store<f32>(no + j, hnj);
          store<f32>(h + ho + j, n + z * (load<f32>(h + ho + j) - n));
        }
      }
    }
    if (whrT) {
      // LSTM projection into hp (free again), then h = full W_hr^T for the sequences still running.
      sgemm(nb, S, H, fb, whrT, 0, hpb);
      for (let b = b0; b < b1; b++) {
        if (valid && !load<u8>(valid + <usize>t * <usize>B + <usize>b)) continue;
        memory.copy(h + <usize>b * rowS, hpb + <usize>(b - b0) * rowS, rowS);
      }
    }
    for (let b = b0; b < b1; b++) {
      const o = out + row(batchFirst, t, b, T, B) * rowS;
      if (valid && !load<u8>(valid + <usize>t * <usize>B + <usize>b)) memory.fill(o, 0, rowS);
      else memory.copy(o, h + <usize>b * rowS, rowS);
    }
  }
}
