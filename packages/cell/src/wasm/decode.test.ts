// A decoder step laid out in the kernel (decode.ts, assembly/attend.ts) against its parts: each
// layer's states bit-identical to the layer's own inference, attention (every scorer, padded keys
// exactly 0), combine and output against plain loops; a layout kept while nothing else runs in
// the kernel, and the same results on several threads.
import { randn, seeded } from '@rnnkit/vitest-config/helpers';
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, it } from 'vitest';
import { ENGINE_DEFAULTS, enginePolicy } from '../policy.js';
import { hostData, layerCall, stackInference } from '../sequence/infer.js';
import { type CellMode, createRecurrentWeights, type RecurrentWeights } from '../weights.js';
import type { AttendInputs, DecodePlan } from './decode.js';
import { loadedKernel } from './kernel.js';
import { kernelThreads, setKernelThreads } from './threads.js';

afterEach(async () => {
  Object.assign(enginePolicy, ENGINE_DEFAULTS);
  await setKernelThreads();
});

const [B, E, H, S, Hk, A, V] = [3, 5, 12, 4, 10, 7, 9];
/** Valid keys per row: the last rows padded */
const LENGTHS = [4, 2, 3];

const variable = (shape: number[], seed: number) => tf.variable(randn(shape, seed));
const values = (t: tf.Tensor) => Array.from(t.dataSync());
const maxDiff = (a: number[], b: number[]) => Math.max(...a.map((y, i) => Math.abs(y - b[i]!)));

interface Model {
  layers: RecurrentWeights[];
  combine: tf.Variable;
  out: tf.Variable;
  bias: tf.Variable;
  wq: tf.Variable;
  v: tf.Variable;
}

function model(mode: CellMode, L: number): Model {
  const layers = Array.from({ length: L }, (_, l) =>
    seeded(10 + l, () =>
      createRecurrentWeights((_, v) => tf.variable(v), '', mode, l ? H : E, H, true),
    ),
  );
  return {
    layers,
    combine: variable([H, Hk + H], 1),
    out: variable([V, H], 2),
    bias: variable([V], 3),
    wq: variable([A, H], 4),
    v: variable([A], 5),
  };
}

const disposeModel = (m: Model) =>
  tf.dispose([
    ...m.layers.flatMap((w) => [w.wih, w.whh, w.bih, w.bhh].filter((t) => t !== null)),
    m.combine,
    m.out,
    m.bias,
    m.wq,
    m.v,
  ]);

/** The memory: keys [B, S, Hk] (zero past each length), rows scored [B, S, D], valid [B, S]. */
function memory(D: number) {
  const keys = randn([B, S, Hk], 6).dataSync() as Float32Array;
  const valid = new Uint8Array(B * S);
  LENGTHS.forEach((n, b) => {
    valid.fill(1, b * S, b * S + n);
    keys.fill(0, (b * S + n) * Hk, (b + 1) * S * Hk);
  });
  return { keys, against: randn([B, S, D], 7).dataSync() as Float32Array, valid };
}

function layOut(m: Model, scorer: 'dot' | 'additive' | null): DecodePlan {
  const D = scorer === 'additive' ? A : H;
  const mem = memory(D);
  const attention: AttendInputs | null = scorer && {
    S,
    Hk,
    D,
    ...mem,
    query: scorer === 'additive' ? { w: m.wq, v: hostData(m.v) } : null,
  };
  const layers = m.layers.map((w, l) => {
    const I = l ? H : E;
    const run = { T: 1, B, I, batchFirst: true, reverse: false, valid: null };
    return layerCall(w, new Float32Array(B * I), run, null, null);
  });
  const combine = scorer ? m.combine : null;
  return loadedKernel()!.decodeStep({
    layers,
    attention,
    combine,
    out: m.out,
    outBias: hostData(m.bias),
  });
}

/** x [B, E] and states [B, L, H] (c for LSTM) of a step. */
const inputs = (L: number, seed: number) => ({
  x: randn([B, E], seed).dataSync() as Float32Array,
  h: randn([B, L, H], seed + 1).dataSync() as Float32Array,
  c: randn([B, L, H], seed + 2).dataSync() as Float32Array,
});

/** Runs a step; returns copies of its results. */
function run(plan: DecodePlan, lstm: boolean, x: Float32Array, h: Float32Array, c: Float32Array) {
  plan.views.input.set(x);
  plan.run(h, lstm ? c : null);
  const v = plan.views;
  return {
    logits: Array.from(v.logits),
    h: v.h.map((s) => Array.from(s)),
    c: lstm ? v.c.map((s) => Array.from(s!)) : null,
    weights: v.weights && Array.from(v.weights),
    hidden: Array.from(v.hidden),
  };
}

/** rows [R, K] x w [N, K]^T (+ bias) */
function linear(rows: number[], w: number[], N: number, bias: number[] | null): number[] {
  const K = w.length / N;
  const R = rows.length / K;
  const out: number[] = [];
  for (let r = 0; r < R; r++)
    for (let n = 0; n < N; n++) {
      let s = bias ? bias[n]! : 0;
      for (let k = 0; k < K; k++) s += rows[r * K + k]! * w[n * K + k]!;
      out.push(s);
    }
  return out;
}

describe('a decoder step in the kernel', () => {
  const cases: Array<{ mode: CellMode; L: number; scorer: 'dot' | 'additive' | null }> = [
    { mode: 'gru', L: 1, scorer: 'dot' },
    { mode: 'lstm', L: 2, scorer: 'additive' },
    { mode: 'rnn_tanh', L: 2, scorer: null },
  ];
  for (const { mode, L, scorer } of cases) {
    it(`equals its parts: ${mode}, ${L} layer(s), attention ${scorer ?? 'none'}`, () => {
      const m = model(mode, L);
      const lstm = mode === 'lstm';
      const plan = layOut(m, scorer);
      const { x, h, c } = inputs(L, 20);
      const got = run(plan, lstm, x, h, c);
      // each layer: bit-identical to the layer's inference on the layer below's output
      const toLayers = (s: Float32Array) =>
        tf.tidy(() => tf.transpose(tf.tensor3d(s, [B, L, H]), [1, 0, 2]));
      const [h0, c0] = [toLayers(h), toLayers(c)];
      let below: tf.Tensor = tf.tensor3d(x, [B, 1, E]);
      m.layers.forEach((w, l) => {
        const state = [tf.slice(h0, [l, 0, 0], [1, B, H]), tf.slice(c0, [l, 0, 0], [1, B, H])];
        const r = stackInference([[w]], below, true, lstm ? state : [state[0]!], null)!;
        expect(values(r.finals[0]!), `h of layer ${l}`).toEqual(got.h[l]);
        if (lstm) expect(values(r.finals[1]!), `c of layer ${l}`).toEqual(got.c![l]);
        tf.dispose([below, ...state, ...r.finals]);
        below = r.output;
      });
      tf.dispose([below, h0, c0]);
      const top = got.h[L - 1]!;
      let hidden = top;
      if (scorer) {
        const D = scorer === 'additive' ? A : H;
        const { keys, against, valid } = memory(D);
        const qp = scorer === 'additive' ? linear(top, values(m.wq), A, null) : null;
        const v = values(m.v);
        const both: number[] = [];
        for (let b = 0; b < B; b++) {
          const score = (s: number) => {
            let sum = 0;
            for (let d = 0; d < D; d++) {
              const r = against[(b * S + s) * D + d]!;
              sum += qp ? v[d]! * Math.tanh(qp[b * A + d]! + r) : top[b * H + d]! * r;
            }
            return sum;
          };
          const on = Array.from({ length: S }, (_, s) => valid[b * S + s] === 1);
          const e = on.map((ok, s) => (ok ? Math.exp(score(s)) : 0));
          const total = e.reduce((p, q) => p + q, 0);
          const w = got.weights!.slice(b * S, (b + 1) * S);
          expect(w.slice(LENGTHS[b])).toEqual(new Array(S - LENGTHS[b]!).fill(0));
          expect(
            maxDiff(
              w,
              e.map((y) => y / total),
            ),
          ).toBeLessThan(1e-6);
          for (let j = 0; j < Hk; j++) {
            let ctx = 0;
            for (let s = 0; s < S; s++) ctx += (e[s]! / total) * keys[(b * S + s) * Hk + j]!;
            both.push(ctx);
          }
          both.push(...top.slice(b * H, (b + 1) * H));
        }
        hidden = linear(both, values(m.combine), H, null).map(Math.tanh);
      } else expect(got.weights).toBeNull();
      expect(maxDiff(got.hidden, hidden)).toBeLessThan(1e-5);
      const logits = linear(hidden, values(m.out), V, values(m.bias));
      expect(maxDiff(got.logits, logits)).toBeLessThan(1e-5);
      disposeModel(m);
    });
  }

  it('keeps its layout while no other kernel call lays one out, with the same results', () => {
    const m = model('gru', 2);
    const plan = layOut(m, 'dot');
    const steps = [inputs(2, 30), inputs(2, 40)];
    const first = steps.map((s) => run(plan, false, s.x, s.h, s.c));
    expect(plan.holds()).toBe(true);
    // The same steps again, in the other order: nothing left over from the step before.
    expect(run(plan, false, steps[1]!.x, steps[1]!.h, steps[1]!.c)).toEqual(first[1]);
    expect(run(plan, false, steps[0]!.x, steps[0]!.h, steps[0]!.c)).toEqual(first[0]);
    expect(first[0]).not.toEqual(first[1]);
    loadedKernel()!.project(new Float32Array(E), 1, E, m.layers[0]!.wih, 3 * H, null);
    expect(plan.holds()).toBe(false);
    const fresh = layOut(m, 'dot');
    expect(run(fresh, false, steps[0]!.x, steps[0]!.h, steps[0]!.c)).toEqual(first[0]);
    enginePolicy.minParallelWork = 1;
    expect(fresh.holds()).toBe(false);
    disposeModel(m);
  });

  it('gives the same results with its products and recurrences split across threads', async () => {
    const m = model('lstm', 2);
    const { x, h, c } = inputs(2, 50);
    await setKernelThreads(1);
    const one = run(layOut(m, 'additive'), true, x, h, c);
    await setKernelThreads(2);
    expect(kernelThreads()).toBe(2);
    Object.assign(enginePolicy, { minParallelWork: 1, minStepWork: 1 });
    // Hidden units split in chunks: the plan runs again (its chunks' control block reset each run).
    const plan = layOut(m, 'additive');
    expect(run(plan, true, x, h, c)).toEqual(one);
    expect(plan.holds()).toBe(true);
    expect(run(plan, true, x, h, c)).toEqual(one);
    disposeModel(m);
  });
});
