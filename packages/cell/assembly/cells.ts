// AssemblyScript: a recurrence step's gate math and outputs (see recurrence.ts, the module's
// entry, whose `forward` runs them for each chunk of each step).
import { GRU, LSTM, RNN_RELU, RNN_TANH } from './args';
import { act, act1, madd } from './math';

/** `gate`'s four lanes from byte j: act(x[j..] + p[j..]). */
@inline
function gate4(tanh: bool, x: usize, p: usize, j: usize): v128 {
  return act(tanh, f32x4.add(v128.load(x + j), v128.load(p + j)));
}

/**
 * One gate's activations: g[j] = tanh or sigmoid (by `tanh`, a constant where inlined) of
 * x[j] + p[j] over the h4 / 4 floats from byte offsets x, p and g; two vectors of four lanes at a
 * time (their independent chains side by side: 1.02-1.04x on a recurrence of hidden size 64),
 * then the last H % 4 one by one (each as a lane: the same values).
 */
@inline
function gate(tanh: bool, x: usize, p: usize, g: usize, h4: usize): void {
  const v4 = h4 & ~15;
  const v8 = h4 & ~31;
  for (let j: usize = 0; j < v8; j += 32) {
    const a0 = gate4(tanh, x, p, j);
    const a1 = gate4(tanh, x, p, j + 16);
    v128.store(g + j, a0);
    v128.store(g + j + 16, a1);
  }
  if (v8 < v4) v128.store(g + v8, gate4(tanh, x, p, v8));
  for (let j = v4; j < h4; j += 4) {
    store<f32>(g + j, act1(tanh, load<f32>(x + j) + load<f32>(p + j)));
  }
}

/** Row of step t of sequence b in a [T, B, *] buffer, or a [B, T, *] one when `batchFirst`. */
@inline
function row(batchFirst: bool, t: i32, b: i32, T: i32, B: i32): usize {
  return batchFirst ? <usize>b * <usize>T + <usize>t : <usize>t * <usize>B + <usize>b;
}

/**
 * The gate math of step t for the sequences b0 <= b < b1 (those `valid` at t), over the units
 * whose bytes from the start of a row of H are [u, u + w): activations from x [*, G] (row of step
 * t) and hp [B, G] into g [B, G] (and GRU's hn [B, H]), then c (LSTM) and the new state into
 * `target` [B, H] (nxt, or LSTM's full before the projection), from the state `cur` (GRU).
 */
@inline
export function cells(mode: i32, t: i32, B: i32, T: i32, H: i32, G: i32, b0: i32, b1: i32, batchFirst: bool, valid: usize, x: usize, hp: usize, gt: usize, nt: usize, c: usize, cur: usize, target: usize, u: usize, w: usize): void {
  const h4 = <usize>H << 2;
  for (let b = b0; b < b1; b++) {
    if (valid && !load<u8>(valid + <usize>t * <usize>B + <usize>b)) continue;
    const xo = x + (row(batchFirst, t, b, T, B) * <usize>G << 2) + u;
    const po = hp + (<usize>b * <usize>G << 2) + u;
    const go = gt + (<usize>b * <usize>G << 2) + u;
    const ho = (<usize>b * <usize>H << 2) + u;
    // Each gate's activations in a pass of its own (gate), then the state update: a pass's
    // iterations are short and independent, so the core overlaps several of them instead of
    // waiting on one long chain of dependent steps (an activation, then the next one using it).
    // Four units at a time up to the last H % 4 (u is a multiple of 8 floats), as on one thread.
    const v4 = w & ~15;
    if (mode == RNN_TANH) {
      gate(true, xo, po, go, w);
      memory.copy(target + ho, go, w);
    } else if (mode == RNN_RELU) {
      for (let j: usize = 0; j < w; j += 4) {
        const y = max<f32>(load<f32>(xo + j) + load<f32>(po + j), 0);
        store<f32>(go + j, y);
        store<f32>(target + ho + j, y);
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
        v128.store(target + ho + j, f32x4.mul(o, act(true, cj)));
      }
      for (let j = v4; j < w; j += 4) {
        const i = load<f32>(go + j);
        const f = load<f32>(go + h4 + j);
        const g = load<f32>(go + 2 * h4 + j);
        const o = load<f32>(go + 3 * h4 + j);
        const cj = f * load<f32>(c + ho + j) + i * g;
        store<f32>(c + ho + j, cj);
        store<f32>(target + ho + j, o * act1(true, cj));
      }
    } else if (mode == GRU) {
      const no = nt + ho;
      gate(false, xo, po, go, w);
      gate(false, xo + h4, po + h4, go + h4, w);
      for (let j: usize = 0; j < v4; j += 16) {
        const r = v128.load(go + j);
        const z = v128.load(go + h4 + j);
        const hnj = v128.load(po + 2 * h4 + j);
        const n = act(true, madd(r, hnj, v128.load(xo + 2 * h4 + j)));
        v128.store(go + 2 * h4 + j, n);
        v128.store(no + j, hnj);
        const hj = v128.load(cur + ho + j);
        v128.store(target + ho + j, madd(z, f32x4.sub(hj, n), n));
      }
      for (let j = v4; j < w; j += 4) {
        const r = load<f32>(go + j);
        const z = load<f32>(go + h4 + j);
        const hnj = load<f32>(po + 2 * h4 + j);
        const n = act1(true, load<f32>(xo + 2 * h4 + j) + r * hnj);
        store<f32>(go + 2 * h4 + j, n);
        store<f32>(no + j, hnj);
        store<f32>(target + ho + j, n + z * (load<f32>(cur + ho + j) - n));
      }
    }
  }
}

/**
 * Step t's output for the sequences b0 <= b < b1, columns [su, su + sw) bytes of a row of S: the
 * new state `nxt`, or zeros for a sequence not `valid` at t, whose state carries over (from
 * `cur` when that is another buffer).
 */
@inline
export function outputs(t: i32, B: i32, T: i32, b0: i32, b1: i32, batchFirst: bool, valid: usize, out: usize, rowS: usize, cur: usize, nxt: usize, su: usize, sw: usize): void {
  for (let b = b0; b < b1; b++) {
    const o = out + row(batchFirst, t, b, T, B) * rowS + su;
    const at = <usize>b * rowS + su;
    if (valid && !load<u8>(valid + <usize>t * <usize>B + <usize>b)) {
      memory.fill(o, 0, sw);
      if (nxt != cur) memory.copy(nxt + at, cur + at, sw);
    } else memory.copy(o, nxt + at, sw);
  }
}
