// AssemblyScript: the attention of a decoder step (see recurrence.ts, the module's entry):
// `attend` scores B queries against their S keys, takes the softmax over the valid keys and
// writes each context beside its query, ready for the combine layer's product; `tanhInPlace`
// is that layer's activation.
import {
  ATTEND_B,
  ATTEND_D,
  ATTEND_Hk,
  ATTEND_Hq,
  ATTEND_S,
  ATTEND_against,
  ATTEND_both,
  ATTEND_keys,
  ATTEND_qp,
  ATTEND_query,
  ATTEND_v,
  ATTEND_valid,
  ATTEND_weights,
} from './args';
import { act, act1 } from './math';

/** Sum of the four lanes of v. */
@inline
function lanes(v: v128): f32 {
  return (
    f32x4.extract_lane(v, 0) +
    f32x4.extract_lane(v, 1) +
    (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3))
  );
}

/** a . b over n floats from byte offsets a and b. */
@inline
function dot(a: usize, b: usize, n: i32): f32 {
  const n4 = <usize>(n & ~3) << 2;
  let acc = f32x4.splat(0);
  for (let j: usize = 0; j < n4; j += 16) {
    acc = f32x4.add(acc, f32x4.mul(v128.load(a + j), v128.load(b + j)));
  }
  let sum = lanes(acc);
  for (let j = n4; j < (<usize>n << 2); j += 4) sum += load<f32>(a + j) * load<f32>(b + j);
  return sum;
}

/** v . tanh(q + r) over n floats from byte offsets v, q and r (additive attention's score). */
@inline
function additive(v: usize, q: usize, r: usize, n: i32): f32 {
  const n4 = <usize>(n & ~3) << 2;
  let acc = f32x4.splat(0);
  for (let j: usize = 0; j < n4; j += 16) {
    const t = act(true, f32x4.add(v128.load(q + j), v128.load(r + j)));
    acc = f32x4.add(acc, f32x4.mul(v128.load(v + j), t));
  }
  let sum = lanes(acc);
  for (let j = n4; j < (<usize>n << 2); j += 4) {
    sum += load<f32>(v + j) * act1(true, load<f32>(q + j) + load<f32>(r + j));
  }
  return sum;
}

/**
 * Attention of B queries, its arguments read from the block at `args` (ATTEND_ARGS of
 * src/wasm/args.ts). For each row b: scores over its S keys, query [B, Hq] . against [B, S, D]
 * (D = Hq: dot and general attention, `against` the keys or W keys), or, when `qp` is not 0,
 * v [D] . tanh(qp [B, D] + against [B, S, D]) (additive and concat attention: qp the query's
 * projection, `against` the keys'); then weights [B, S] = their softmax over the keys whose
 * `valid` [B, S] byte is not 0 (every key when `valid` is 0), exactly 0 on the others; then
 * both [B, Hk + Hq] = [context; query], context = weights x keys [B, S, Hk].
 */
export function attend(args: usize): void {
  const B = load<i32>(args + ATTEND_B);
  const S = load<i32>(args + ATTEND_S);
  const D = load<i32>(args + ATTEND_D);
  const Hq = load<i32>(args + ATTEND_Hq);
  const Hk = load<i32>(args + ATTEND_Hk);
  const query = <usize>load<u32>(args + ATTEND_query);
  const qp = <usize>load<u32>(args + ATTEND_qp);
  const v = <usize>load<u32>(args + ATTEND_v);
  const against = <usize>load<u32>(args + ATTEND_against);
  const keys = <usize>load<u32>(args + ATTEND_keys);
  const valid = <usize>load<u32>(args + ATTEND_valid);
  const weights = <usize>load<u32>(args + ATTEND_weights);
  const both = <usize>load<u32>(args + ATTEND_both);
  const rowK = <usize>Hk << 2;
  const hk4 = rowK & ~15;
  for (let b = 0; b < B; b++) {
    const q = query + (<usize>b * <usize>Hq << 2);
    const w = weights + (<usize>b * <usize>S << 2);
    const on = valid + <usize>b * <usize>S;
    let top = f32.NEGATIVE_INFINITY;
    for (let s = 0; s < S; s++) {
      if (valid && !load<u8>(on + s)) continue;
      const row = against + ((<usize>b * <usize>S + <usize>s) * <usize>D << 2);
      const score = qp ? additive(v, qp + (<usize>b * <usize>D << 2), row, D) : dot(q, row, D);
      store<f32>(w + (<usize>s << 2), score);
      top = max(top, score);
    }
    let sum: f32 = 0;
    for (let s = 0; s < S; s++) {
      const at = w + (<usize>s << 2);
      if (valid && !load<u8>(on + s)) store<f32>(at, 0);
      else {
        const e = Mathf.exp(load<f32>(at) - top);
        store<f32>(at, e);
        sum += e;
      }
    }
    const ctx = both + (<usize>b * <usize>(Hk + Hq) << 2);
    memory.fill(ctx, 0, rowK);
    for (let s = 0; s < S; s++) {
      const at = w + (<usize>s << 2);
      if (valid && !load<u8>(on + s)) continue;
      const ws = load<f32>(at) / sum;
      store<f32>(at, ws);
      const k = keys + (<usize>b * <usize>S + <usize>s) * rowK;
      const w4 = f32x4.splat(ws);
      for (let j: usize = 0; j < hk4; j += 16) {
        v128.store(ctx + j, f32x4.add(v128.load(ctx + j), f32x4.mul(w4, v128.load(k + j))));
      }
      for (let j = hk4; j < rowK; j += 4) store<f32>(ctx + j, load<f32>(ctx + j) + ws * load<f32>(k + j));
    }
    memory.copy(ctx + rowK, q, <usize>Hq << 2);
  }
}

/** x = tanh(x) over the n floats from byte offset x (the combine layer's activation). */
export function tanhInPlace(x: usize, n: i32): void {
  const n4 = <usize>(n & ~3) << 2;
  for (let j: usize = 0; j < n4; j += 16) v128.store(x + j, act(true, v128.load(x + j)));
  for (let j = n4; j < (<usize>n << 2); j += 4) store<f32>(x + j, act1(true, load<f32>(x + j)));
}
