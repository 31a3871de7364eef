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

/**
 * c [M, N] = a [M, K] x b [K, N] (+ bias [N] on every row when `bias` is not 0). Panels of MC rows;
 * inside one, strips of 8 columns of b times blocks of 4 rows of a, with 8 f32x4 accumulators.
 */
export function sgemm(M: i32, N: i32, K: i32, a: usize, b: usize, bias: usize, c: usize): void {
  for (let i0 = 0; i0 < M; i0 += MC) {
    const i1 = min(i0 + MC, M);
    let j = 0;
    for (; j + 8 <= N; j += 8) {
      let i = i0;
      for (; i + 4 <= i1; i += 4) block4x8(i, j, N, K, a, b, bias, c);
      for (; i < i1; i++) block1x8(i, j, N, K, a, b, bias, c);
    }
    for (; j + 4 <= N; j += 4) for (let i = i0; i < i1; i++) block1x4(i, j, N, K, a, b, bias, c);
    for (; j < N; j++) for (let i = i0; i < i1; i++) block1x1(i, j, N, K, a, b, bias, c);
  }
}

/** c[i..i+4, j..j+8] of sgemm. */
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
  const rowB = <usize>N << 2;
  let pa = a + (<usize>i * <usize>K << 2);
  let pb = b + (<usize>j << 2);
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
    pb += rowB;
  }
  const pc = c + ((<usize>i * <usize>N + <usize>j) << 2);
  v128.store(pc, c00);
  v128.store(pc, c01, 16);
  v128.store(pc + rowB, c10);
  v128.store(pc + rowB, c11, 16);
  v128.store(pc + 2 * rowB, c20);
  v128.store(pc + 2 * rowB, c21, 16);
  v128.store(pc + 3 * rowB, c30);
  v128.store(pc + 3 * rowB, c31, 16);
}

/** c[i, j..j+8] of sgemm. */
@inline
function block1x8(i: i32, j: i32, N: i32, K: i32, a: usize, b: usize, bias: usize, c: usize): void {
  let c0 = f32x4.splat(0);
  let c1 = f32x4.splat(0);
  if (bias) {
    c0 = v128.load(bias + (<usize>j << 2));
    c1 = v128.load(bias + (<usize>j << 2), 16);
  }
  const rowB = <usize>N << 2;
  let pa = a + (<usize>i * <usize>K << 2);
  let pb = b + (<usize>j << 2);
  const end = pa + (<usize>K << 2);
  while (pa < end) {
    const x = v128.load32_splat(pa);
    c0 = f32x4.add(c0, f32x4.mul(x, v128.load(pb)));
    c1 = f32x4.add(c1, f32x4.mul(x, v128.load(pb, 16)));
    pa += 4;
    pb += rowB;
  }
  const pc = c + ((<usize>i * <usize>N + <usize>j) << 2);
  v128.store(pc, c0);
  v128.store(pc, c1, 16);
}

/** c[i, j..j+4] of sgemm. */
function block1x4(i: i32, j: i32, N: i32, K: i32, a: usize, b: usize, bias: usize, c: usize): void {
  let c0 = bias ? v128.load(bias + (<usize>j << 2)) : f32x4.splat(0);
  const rowB = <usize>N << 2;
  let pa = a + (<usize>i * <usize>K << 2);
  let pb = b + (<usize>j << 2);
  const end = pa + (<usize>K << 2);
  while (pa < end) {
    c0 = f32x4.add(c0, f32x4.mul(v128.load32_splat(pa), v128.load(pb)));
    pa += 4;
    pb += rowB;
  }
  v128.store(c + ((<usize>i * <usize>N + <usize>j) << 2), c0);
}

/** c[i, j] of sgemm. */
function block1x1(i: i32, j: i32, N: i32, K: i32, a: usize, b: usize, bias: usize, c: usize): void {
  let acc: f32 = bias ? load<f32>(bias + (<usize>j << 2)) : 0;
  for (let k = 0; k < K; k++) {
    acc += load<f32>(a + ((<usize>i * <usize>K + <usize>k) << 2)) *
      load<f32>(b + ((<usize>k * <usize>N + <usize>j) << 2));
  }
  store<f32>(c + ((<usize>i * <usize>N + <usize>j) << 2), acc);
}

/** dst [cols, rows] = src [rows, cols] transposed. */
export function transpose(rows: i32, cols: i32, src: usize, dst: usize): void {
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < cols; k++) {
      store<f32>(
        dst + ((<usize>k * <usize>rows + <usize>r) << 2),
        load<f32>(src + ((<usize>r * <usize>cols + <usize>k) << 2)),
      );
    }
  }
}

@inline
function sigmoid(v: f32): f32 {
  return 1 / (1 + Mathf.exp(-v));
}

/**
 * The whole recurrence of one direction of one layer, T steps of B sequences, hidden size H, state
 * size S (the LSTM projection size P, else H), G = gates * H. Per step t (T-1 down to 0 when
 * `reverse`): hp [B, G] = h [B, S] x whhT [S, G] + bhh [G], then the gate math (LSTM i, f, g, o;
 * GRU r, z, n with n = tanh(x_n + r * (h W_hn^T + b_hn))), then for LSTM with a projection
 * h = full [B, H] x whrT [H, S]. Sequences whose `valid` [T, B] byte is 0 at t (when `valid` is
 * not 0) keep their state and output zeros.
 *
 * In: x [T, B, G] (x W_ih^T + b_ih), whhT [S, G], bhh [G], whrT [H, S] (or 0), valid [T, B] u8
 * (or 0). In/out: h [B, S], c [B, H] (LSTM). Out: out [T, B, S]. Scratch: hp [B, G], full [B, H]
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
  memory.fill(out, 0, <usize>T * bs);
  for (let s = 0; s < T; s++) {
    const t = reverse ? T - 1 - s : s;
    if (hIn) memory.copy(hIn + <usize>t * bs, h, bs);
    if (cIn) memory.copy(cIn + <usize>t * bh, c, bh);
    sgemm(B, G, S, h, whhT, bhh, hp);
    const gt = savedStride ? gates + <usize>t * bg : gates;
    const nt = savedStride ? hn + <usize>t * bh : hn;
    const target = whrT ? full : h;
    for (let b = 0; b < B; b++) {
      if (valid && !load<u8>(valid + <usize>t * <usize>B + <usize>b)) continue;
      const xo = x + ((<usize>t * <usize>B + <usize>b) * <usize>G << 2);
      const po = hp + (<usize>b * <usize>G << 2);
      const go = gt + (<usize>b * <usize>G << 2);
      const ho = <usize>b * <usize>H << 2;
      if (mode == RNN_TANH) {
        for (let j: usize = 0; j < (<usize>H << 2); j += 4) {
          const y = Mathf.tanh(load<f32>(xo + j) + load<f32>(po + j));
          store<f32>(go + j, y);
          store<f32>(h + ho + j, y);
        }
      } else if (mode == RNN_RELU) {
        for (let j: usize = 0; j < (<usize>H << 2); j += 4) {
          const y = max<f32>(load<f32>(xo + j) + load<f32>(po + j), 0);
          store<f32>(go + j, y);
          store<f32>(h + ho + j, y);
        }
      } else if (mode == LSTM) {
        const h4 = <usize>H << 2;
        for (let j: usize = 0; j < h4; j += 4) {
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
        const h4 = <usize>H << 2;
        const no = nt + ho;
        for (let j: usize = 0; j < h4; j += 4) {
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
      sgemm(B, S, H, full, whrT, 0, hp);
      for (let b = 0; b < B; b++) {
        if (valid && !load<u8>(valid + <usize>t * <usize>B + <usize>b)) continue;
        memory.copy(h + <usize>b * (<usize>S << 2), hp + <usize>b * (<usize>S << 2), <usize>S << 2);
      }
    }
    for (let b = 0; b < B; b++) {
      if (valid && !load<u8>(valid + <usize>t * <usize>B + <usize>b)) continue;
      const row = <usize>S << 2;
      memory.copy(out + <usize>t * bs + <usize>b * row, h + <usize>b * row, row);
    }
  }
}
