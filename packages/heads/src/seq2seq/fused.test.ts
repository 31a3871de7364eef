// Seq2Seq.step's fused inference (fused.ts) against the op-by-op step (the engine's JS path,
// enginePolicy.kernel = false): every attention mode and cell, input feeding, padded memory,
// several steps carrying the state; the tensors a step makes; the decoders; the cases it leaves
// to the op-by-op path (dropout in training mode, a disposed memory).
import { ENGINE_DEFAULTS, enginePolicy, stepLayouts } from '@rnnkit/cell/internal';
import { DisposedError, manualSeed } from '@rnnkit/ops';
import { expectNoLeak, maxAbsDiff, seeded } from '@rnnkit/vitest-config/helpers';
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, it } from 'vitest';
import { beamSearch, greedyDecode } from './decode/index.js';
import type { Seq2SeqOptions } from './options.js';
import { Seq2Seq } from './seq2seq.js';
import type { Seq2SeqState } from './state.js';

const base: Seq2SeqOptions = {
  srcVocab: 9,
  tgtVocab: 11,
  embeddingDim: 5,
  hiddenSize: 6,
  cell: 'gru',
  attention: 'general',
};
const source = () =>
  tf.tensor2d(
    [
      [3, 4, 5, 6],
      [7, 8, 0, 0],
      [2, 2, 3, 0],
    ],
    undefined,
    'int32',
  );
const LENGTHS = [4, 2, 3];

/** Every tensor a step result holds except the shared memory. */
const own = (r: { logits: tf.Tensor; attention?: tf.Tensor; state: Seq2SeqState }) =>
  [r.logits, r.attention, r.state.h, r.state.c, r.state.feed].filter((t) => t !== undefined);

/** Runs fn on the engine's JS path (no kernel: the op-by-op step). */
function withoutKernel<T>(fn: () => T): T {
  enginePolicy.kernel = false;
  try {
    return fn();
  } finally {
    enginePolicy.kernel = true;
  }
}

describe('Seq2Seq.step, fused', () => {
  afterEach(() => Object.assign(enginePolicy, ENGINE_DEFAULTS));

  const variants: Array<Partial<Seq2SeqOptions>> = [
    { cell: 'gru', bidirectionalEncoder: true },
    { cell: 'lstm', attention: 'dot', numLayers: 2 },
    { cell: 'lstm', attention: 'concat', inputFeeding: true, bidirectionalEncoder: true },
    { cell: 'gru', attention: 'additive', inputFeeding: true, numLayers: 2 },
    { cell: 'rnn', attention: 'none', bidirectionalEncoder: true },
  ];
  // B 3, and B 1 (one padded word: dot and general attention run as kernel products)
  const batches = [
    { rows: [0, 1, 2], padded: 6 },
    { rows: [1], padded: 2 },
  ];
  for (const v of variants) {
    for (const { rows, padded } of batches) {
      it(`equals the op-by-op step over 4 steps carrying the state, B ${rows.length}: ${JSON.stringify(v)}`, () => {
        const m = seeded(3, () => new Seq2Seq({ ...base, ...v }));
        m.eval();
        const all = source();
        const src = tf.gather(all, rows);
        all.dispose();
        const init = m.encode(
          src,
          rows.map((r) => LENGTHS[r]!),
        );
        let [fused, plain] = [init, init];
        for (const tokens of [
          [1, 1, 1],
          [4, 9, 2],
          [10, 0, 5],
          [3, 3, 7],
        ]) {
          const ids = tf.tensor1d(
            rows.map((r) => tokens[r]!),
            'int32',
          );
          const a = m.step(ids, fused);
          const b = withoutKernel(() => m.step(ids, plain));
          const [got, want] = [own(a), own(b)];
          expect(got.map((t) => t.shape)).toEqual(want.map((t) => t.shape));
          for (const [i, t] of got.entries()) expect(maxAbsDiff(t, want[i]!)).toBeLessThan(1e-5);
          if (a.attention) {
            expect(Array.from(a.attention.dataSync()).slice(padded, padded + 2)).toEqual([0, 0]);
          }
          expect(a.state.memory).toBe(init.memory);
          for (const s of [fused, plain]) if (s !== init) tf.dispose([s.h, s.c, s.feed]);
          tf.dispose([ids, a.logits, a.attention, b.logits, b.attention]);
          [fused, plain] = [a.state, b.state];
        }
        tf.dispose([src, ...Object.values(init.memory), init.h, init.c, init.feed]);
        tf.dispose([fused.h, fused.c, fused.feed, plain.h, plain.c, plain.feed]);
        m.dispose();
      });
    }
  }

  it("makes only its results' tensors and leaves none behind", () => {
    const m = new Seq2Seq({ ...base, cell: 'lstm', inputFeeding: true });
    const src = source();
    const state = m.encode(src, LENGTHS);
    const ids = tf.tensor1d([1, 2, 3], 'int32');
    expectNoLeak(() => {
      const before = tf.scalar(0);
      const r = m.step(ids, state);
      const after = tf.scalar(0);
      // tensor ids count every tensor made in between: logits, h, c, feed, attention
      expect(after.id - before.id - 1).toBe(5);
      tf.dispose([before, after, ...own(r)]);
    });
    tf.dispose([src, ids, ...Object.values(state.memory), state.h, state.c, state.feed]);
    m.dispose();
  });

  for (const v of [{ cell: 'gru' }, { cell: 'lstm', numLayers: 2 }] as const) {
    it(`gives h and c bit-identical to the decoder's differentiable forward: ${v.cell}`, () => {
      const m = seeded(5, () => new Seq2Seq({ ...base, ...v }));
      m.eval();
      const src = source();
      const init = m.encode(src, LENGTHS);
      const ids = tf.tensor1d([4, 9, 2], 'int32');
      const r = m.step(ids, init);
      // the same step through the decoder's forward, recorded for a gradient
      const layers = (s: tf.Tensor) => tf.transpose(s, [1, 0, 2]);
      const [h0, c0] = [layers(init.h), init.c && layers(init.c)];
      const emb = tf.expandDims(tf.gather(m.tgtEmbedding.weight, ids), 1);
      let want: number[][] = [];
      tf.grad((e: tf.Tensor) => {
        const [, final] = m.decoder.forward(e, c0 ? [h0, c0] : h0);
        const states = Array.isArray(final) ? final : [final];
        want = states.map((s) => Array.from(layers(s).dataSync()));
        return tf.sum(states[0]!);
      })(emb).dispose();
      expect(Array.from(r.state.h.dataSync())).toEqual(want[0]);
      if (c0) expect(Array.from(r.state.c!.dataSync())).toEqual(want[1]);
      tf.dispose([...own(r), ids, emb, h0, c0, src, ...Object.values(init.memory), init.h, init.c]);
      m.dispose();
    });
  }

  it("lays a decode's step out once, and again after other kernel calls, with the same results", () => {
    const m = seeded(6, () => new Seq2Seq({ ...base, cell: 'lstm', attention: 'additive' }));
    m.eval();
    const src = source();
    const init = m.encode(src, LENGTHS);
    const steps = (n: number) => {
      const out: number[][] = [];
      let s = init;
      for (let i = 0; i < n; i++) {
        const ids = tf.tensor1d([1 + i, 2, 3], 'int32');
        const r = m.step(ids, s);
        out.push(Array.from(r.logits.dataSync()), Array.from(r.state.h.dataSync()));
        if (s !== init) tf.dispose([s.h, s.c]);
        tf.dispose([ids, r.logits, r.attention]);
        s = r.state;
      }
      tf.dispose([s.h, s.c]);
      return out;
    };
    const before = stepLayouts();
    const first = steps(4);
    expect(stepLayouts()).toBe(before + 1);
    // another source encoded in between (kernel calls of its own): laid out anew
    const other = m.encode(src, [1, 1, 1]);
    expect(steps(4)).toEqual(first);
    expect(stepLayouts()).toBe(before + 2);
    tf.dispose([src, ...Object.values(init.memory), init.h, init.c]);
    tf.dispose([...Object.values(other.memory), other.h, other.c]);
    m.dispose();
  });

  it('greedy decoding and beam search give the op-by-op path tokens', () => {
    const m = seeded(4, () => new Seq2Seq({ ...base, bidirectionalEncoder: true }));
    const src = source();
    const init = m.encode(src, LENGTHS);
    const opts = { maxLength: 6, bos: 1, eos: 2 };
    for (const decode of [
      () => greedyDecode(m, init, opts),
      () => beamSearch(m, init, { ...opts, beamSize: 3 }),
    ]) {
      const [a, b] = [decode(), withoutKernel(decode)];
      expect(a.tokens).toEqual(b.tokens);
      for (const [i, s] of a.scores.entries()) expect(s).toBeCloseTo(b.scores[i]!, 4);
    }
    tf.dispose([src, ...Object.values(init.memory), init.h]);
    m.dispose();
  });

  it('leaves training-mode dropout to the op-by-op path', () => {
    const m = new Seq2Seq({ ...base, dropout: 0.5 });
    const src = source();
    const state = m.encode(src, LENGTHS);
    const ids = tf.tensor1d([1, 2, 3], 'int32');
    const logits = (seed: number) => {
      manualSeed(seed);
      const r = m.step(ids, state);
      tf.dispose(own(r).slice(1));
      return r.logits;
    };
    const [a, b] = [logits(1), logits(2)];
    expect(maxAbsDiff(a, b)).toBeGreaterThan(0); // different dropout masks
    tf.dispose([a, b, src, ids, ...Object.values(state.memory), state.h]);
    m.dispose();
  });

  it('a disposed memory fails as on the op-by-op path, and the model stays usable', () => {
    const m = new Seq2Seq(base);
    const src = source();
    const state = m.encode(src, LENGTHS);
    const ids = tf.tensor1d([1, 2, 3], 'int32');
    tf.dispose(own(m.step(ids, state))); // memory read (and kept) once
    const keys = state.memory.keys;
    keys.dispose();
    const before = tf.memory().numTensors;
    expect(() => m.step(ids, state)).toThrow(DisposedError);
    expect(tf.memory().numTensors).toBe(before);
    const fresh = m.encode(src, LENGTHS);
    const r = m.step(ids, fresh);
    expect(r.logits.shape).toEqual([3, 11]);
    tf.dispose([...own(r), src, ids, ...Object.values(state.memory), state.h]);
    tf.dispose([...Object.values(fresh.memory), fresh.h]);
    m.dispose();
  });
});
