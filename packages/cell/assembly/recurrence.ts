// AssemblyScript: the recurrence kernel of @rnnkit/cell, compiled to WebAssembly with SIMD by
// scripts/build-kernel.mjs. Its exports: `pack` and `packT` lay out a right-hand side for the
// product; `sgemm` (a product, sgemm.ts) and `forward` (a recurrence, here) read their arguments
// from a block in memory whose fields src/wasm/args.ts lists (assembly/args.ts, generated, gives
// their offsets). Every argument named like a buffer is a byte offset into this module's memory,
// which the host (src/wasm/) lays out, grows and fills; nothing here allocates. Matrices are
// row-major float32. CPU profiles name the functions by file: recurrence/forward, sgemm/sgemm, ...
import {
  FORWARD_ahead,
  FORWARD_aheadSteps,
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
  FORWARD_party,
  FORWARD_reverse,
  FORWARD_savedStride,
  FORWARD_stateChunk,
  FORWARD_sync,
  FORWARD_tile,
  FORWARD_unitChunk,
  FORWARD_valid,
  FORWARD_whhT,
  FORWARD_whrT,
  FORWARD_x,
} from './args';
import { projected } from './ahead';
import { waitFor, finish, isDone, take } from './barrier';
import { cells, outputs } from './cells';
import { gateColumns, sgemm } from './sgemm';

export { projectAhead } from './ahead';
export { attend, tanhInPlace } from './attend';
export { pack, packT, sgemmArgs as sgemm } from './sgemm';
export { transpose } from './transpose';

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
 * (`parties` > 1 threads, this one `party`, each with its own `tile` of 8 floats, all with the
 * same `sync`): every step (and with a projection each of its two phases) is cut into chunks of
 * `unitChunk` hidden units (0: H; a multiple of 8) of every gate, with their c and, without a
 * projection, the same columns of the state, then of `stateChunk` columns of the projected state
 * (0: S); chunk c is thread c % parties's, unless another takes it while its owner is away
 * (barrier.ts; `blocking`: this thread may block while it waits for a step to end). Which thread
 * runs a chunk does not change its result.
 * The state then alternates between h and hNext [B, S], so that no thread writes the state that
 * another is still reading; h holds it at the end.
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
  const parties = load<i32>(args + FORWARD_parties);
  const split = parties > 1;
  const unitChunk = split ? load<i32>(args + FORWARD_unitChunk) || H : H;
  const stateChunk = split ? load<i32>(args + FORWARD_stateChunk) || S : S;
  const sync = <usize>load<u32>(args + FORWARD_sync);
  const blocking = load<i32>(args + FORWARD_blocking) != 0;
  const tile = <usize>load<u32>(args + FORWARD_tile);
  // The state alternates between h (even steps read it) and hNext when the columns are split, so
  // that no thread writes the state that another is still reading; one thread updates h in place.
  const hNext = split ? <usize>load<u32>(args + FORWARD_hNext) : h;

  const bs = <usize>B * <usize>S << 2;
  const bh = <usize>B * <usize>H << 2;
  const bg = <usize>B * <usize>G << 2;
  const nb = b1 - b0;
  const rowS = <usize>S << 2;
  const rowH = <usize>H << 2;
  // A step is one stage, or two with a projection: the gates (chunks of units), then h (of S).
  const phases = whrT ? 2 : 1;
  const stages = T * phases;
  // x projected by other threads meanwhile, in chunks of `aheadSteps` steps (ahead.ts).
  const ahead = !split && load<u32>(args + FORWARD_ahead) != 0;
  const aheadStages = ahead ? load<i32>(args + FORWARD_aheadSteps) * phases : 0;
  const unitChunks = (H + unitChunk - 1) / unitChunk;
  const stateChunks = (S + stateChunk - 1) / stateChunk;
  // This range's rows of hp and full; the projection's result goes to the start of its hp rows.
  const hpb = hp + (<usize>b0 * <usize>G << 2);
  const fb = full + <usize>b0 * rowH;
  // Split: each stage, this thread's own chunks first (those it can take), then every chunk in
  // order, waiting for it to be done or running it when its owner is away (barrier.ts); the next
  // stage starts once every chunk of this one is done. One thread: one chunk per stage.
  const party = split ? load<i32>(args + FORWARD_party) : 0;
  const stride = split ? parties : 1;
  let away = 0; // bit c: this thread ran chunk c, not its own, in the last stage
  for (let stage = 0; stage < stages; stage++) {
    if (ahead && stage % aheadStages == 0) projected(args, stage / aheadStages, blocking);
    const count = phases == 2 && stage & 1 ? stateChunks : unitChunks;
    let k = 0; // chunks 0 <= k < count: this thread's own pass; count <= k < 2 count: every chunk
    for (;;) {
      let chunk = -1;
      for (; chunk < 0 && k < count; k++) {
        if (k % stride == party && (!split || take(sync, k, stage))) chunk = k;
      }
      for (; chunk < 0 && split && k < 2 * count; k++) {
        const j = k - count;
        const bit = 1 << (j & 31);
        while (!isDone(sync, j, stage)) {
          if (waitFor(sync, j, stage, (away & bit) != 0, blocking)) break;
          if (take(sync, j, stage)) chunk = j;
          else away &= ~bit;
          if (chunk == j) break;
        }
        if (chunk == j) away |= bit;
        else if (j % stride != party) away &= ~bit;
      }
      if (chunk < 0) break;
      const s = stage / phases;
      const second = stage - s * phases == 1;
      const t = reverse ? T - 1 - s : s;
      const cur = s & 1 ? hNext : h;
      const nxt = s & 1 ? h : hNext;
      if (!second) {
        // This chunk's units u0 <= j < u1 of every gate: bytes from the start of a row of H.
        const u0 = chunk * unitChunk;
        const u1 = min(u0 + unitChunk, H);
        const u = <usize>u0 << 2;
        const w = <usize>(u1 - u0) << 2;
        for (let b = b0; b < b1; b++) {
          const at = <usize>b * rowS + u;
          if (hIn && !whrT) memory.copy(hIn + <usize>t * bs + at, cur + at, w);
          if (cIn) memory.copy(cIn + <usize>t * bh + <usize>b * rowH + u, c + <usize>b * rowH + u, w);
        }
        const hb = cur + <usize>b0 * rowS;
        if (u0 == 0 && u1 == H) sgemm(nb, G, S, hb, whhT, bhh, hpb, 0, G, tile);
        else if (H % 8 == 0) gateColumns(nb, G, S, hb, whhT, bhh, hpb, u0 / 8, (u1 - u0) / 8, H / 8, G / H);
        else for (let g = 0; g < G; g += H) sgemm(nb, G, S, hb, whhT, bhh, hpb, g + u0, g + u1, tile);
        cells(mode, t, B, T, H, G, b0, b1, batchFirst, valid, x, hp, savedStride ? gates + <usize>t * bg : gates, savedStride ? hn + <usize>t * bh : hn, c, cur, whrT ? full : nxt, u, w);
        if (!whrT) outputs(t, B, T, b0, b1, batchFirst, valid, out, rowS, cur, nxt, u, w);
      } else {
        // LSTM projection into hp (free again once every chunk of the gates is done), then
        // h = full W_hr^T for the sequences still running: this chunk's columns s0 <= j < s1 of S.
        const s0 = chunk * stateChunk;
        const s1 = min(s0 + stateChunk, S);
        const su = <usize>s0 << 2;
        const sw = <usize>(s1 - s0) << 2;
        if (hIn) {
          for (let b = b0; b < b1; b++) {
            const at = <usize>b * rowS + su;
            memory.copy(hIn + <usize>t * bs + at, cur + at, sw);
          }
        }
        sgemm(nb, S, H, fb, whrT, 0, hpb, s0, s1, tile);
        for (let b = b0; b < b1; b++) {
          if (valid && !load<u8>(valid + <usize>t * <usize>B + <usize>b)) continue;
          memory.copy(nxt + <usize>b * rowS + su, hpb + <usize>(b - b0) * rowS + su, sw);
        }
        outputs(t, B, T, b0, b1, batchFirst, valid, out, rowS, cur, nxt, su, sw);
      }
      if (split) finish(sync, chunk, stage);
    }
  }
  // The state ends in hNext after an odd number of steps split by columns.
  if (split && party == 0 && T & 1) {
    memory.copy(h + <usize>b0 * rowS, hNext + <usize>b0 * rowS, <usize>nb * rowS);
  }
}
