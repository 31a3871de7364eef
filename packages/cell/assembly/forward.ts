// The kernel's recurrence (AssemblyScript, SIMD): one direction of one layer over every step.
// Buffers are byte offsets into the module's memory, which the host (src/wasm/) lays out, grows
// and fills; nothing here allocates. Matrices are row-major float32.
import {
  FORWARD_B,
  FORWARD_G,
  FORWARD_H,
  FORWARD_S,
  FORWARD_T,
  FORWARD_b0,
  FORWARD_b1,
  FORWARD_batchFirst,
  FORWARD_bhh,
  FORWARD_c,
  FORWARD_cIn,
  FORWARD_full,
  FORWARD_gates,
  FORWARD_h,
  FORWARD_hIn,
  FORWARD_hn,
  FORWARD_hp,
  FORWARD_mode,
  FORWARD_out,
  FORWARD_reverse,
  FORWARD_savedStride,
  FORWARD_valid,
  FORWARD_whhT,
  FORWARD_whrT,
  FORWARD_x,
  GRU,
  LSTM,
  RNN_RELU,
  RNN_TANH,
} from './args';
import { sigmoid, sigmoidv, tanhv } from './math';
import { gemm } from './sgemm';

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
    gemm(nb, G, S, hb, whhT, bhh, hpb);
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
      gemm(nb, S, H, fb, whrT, 0, hpb);
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
