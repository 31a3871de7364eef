import { crossEntropy, ShapeError, trainStep } from '@rnnkit/ops';
import { expectNoLeak, maxAbsDiff, seeded, values } from '@rnnkit/vitest-config/helpers';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it, vi } from 'vitest';
import type { Seq2SeqOptions } from './options.js';
import { Seq2Seq } from './seq2seq.js';

const base: Seq2SeqOptions = {
  srcVocab: 9,
  tgtVocab: 11,
  embeddingDim: 5,
  hiddenSize: 4,
  cell: 'lstm',
  attention: 'general',
};
const src = () =>
  tf.tensor2d(
    [
      [3, 4, 5, 6],
      [7, 8, 0, 0],
    ],
    undefined,
    'int32',
  );
const tgt = () =>
  tf.tensor2d(
    [
      [1, 4, 5, 6, 2],
      [1, 9, 3, 2, 0],
    ],
    undefined,
    'int32',
  );

describe('Seq2Seq', () => {
  const variants: Array<Partial<Seq2SeqOptions>> = [
    { cell: 'lstm', bidirectionalEncoder: true, numLayers: 2 },
    { cell: 'gru', attention: 'additive', inputFeeding: true },
    { cell: 'rnn', attention: 'dot' },
    { cell: 'gru', attention: 'none', bidirectionalEncoder: true },
    { cell: 'lstm', attention: 'concat', inputFeeding: true, bidirectionalEncoder: true },
  ];
  for (const v of variants) {
    it(`step() after encode() gives forward()'s logits step by step: ${JSON.stringify(v)}`, () => {
      const m = seeded(1, () => new Seq2Seq({ ...base, ...v }));
      const [s, t] = [src(), tgt()];
      const logits = expectNoLeak(() => m.forward(s, [4, 2], t), 1);
      expect(logits.shape).toEqual([2, 5, 11]);
      let state = m.encode(s, [4, 2]);
      const cols = tf.unstack(t, 1);
      for (let i = 0; i < 5; i++) {
        const r = m.step(cols[i], state);
        const want = tf.squeeze(tf.slice(logits, [0, i, 0], [-1, 1, -1]), [1]);
        expect(maxAbsDiff(r.logits, want)).toBeLessThan(1e-5);
        if (v.attention === 'none') expect(r.attention).toBeUndefined();
        else {
          expect(r.attention!.shape).toEqual([2, 4]);
          expect(values(r.attention!).slice(6)).toEqual([0, 0]); // row 1 has 2 valid keys
        }
        tf.dispose([r.logits, r.attention, want, state.h, state.c, state.feed]);
        state = r.state;
      }
      tf.dispose([
        s,
        t,
        logits,
        ...cols,
        ...Object.values(state.memory),
        state.h,
        state.c,
        state.feed,
      ]);
      m.dispose();
    });
  }

  it('without input feeding runs the decoder once for the whole target; with it once per step', () => {
    for (const inputFeeding of [false, true]) {
      const m = new Seq2Seq({ ...base, inputFeeding });
      const spy = vi.spyOn(m.decoder, 'forward');
      const [s, t] = [src(), tgt()];
      tf.dispose(m.forward(s, [4, 2], t));
      expect(spy).toHaveBeenCalledTimes(inputFeeding ? 5 : 1);
      tf.dispose([s, t]);
      m.dispose();
    }
  });

  it('has the documented keys and shapes (bridge for a bidirectional LSTM encoder)', () => {
    const m = new Seq2Seq({ ...base, bidirectionalEncoder: true, inputFeeding: true });
    const shapes = Object.fromEntries(m.namedParameters().map(([k, p]) => [k, p.shape]));
    expect(shapes['src_embedding.weight']).toEqual([9, 5]);
    expect(shapes['encoder.weight_ih_l0_reverse']).toEqual([16, 5]);
    expect(shapes['bridge_h.weight']).toEqual([4, 8]);
    expect(shapes['bridge_c.weight']).toEqual([4, 8]);
    expect(shapes['decoder.weight_ih_l0']).toEqual([16, 9]);
    expect(shapes['attention.linear.weight']).toEqual([4, 8]);
    expect(shapes['combine.weight']).toEqual([4, 12]);
    expect(shapes['out.weight']).toEqual([11, 4]);
    expect(m.vocabSize).toBe(11);
    m.dispose();
  });

  it('learns to copy a sequence with trainStep (loss falls by half), dropout on', () => {
    const m = seeded(2, () => new Seq2Seq({ ...base, cell: 'gru', hiddenSize: 16, dropout: 0.1 }));
    const s = tf.tensor2d(
      [
        [3, 4, 5, 6],
        [6, 5, 8, 0],
        [7, 3, 0, 0],
      ],
      undefined,
      'int32',
    );
    const tin = tf.tensor2d(
      [
        [1, 3, 4, 5, 6],
        [1, 6, 5, 8, 0],
        [1, 7, 3, 0, 0],
      ],
      undefined,
      'int32',
    );
    const tout = tf.tensor2d(
      [
        [3, 4, 5, 6, 2],
        [6, 5, 8, 2, 0],
        [7, 3, 2, 0, 0],
      ],
      undefined,
      'int32',
    );
    const opt = tf.train.adam(0.02);
    const loss = () => crossEntropy(m.forward(s, [4, 3, 2], tin), tout, { ignoreIndex: 0 });
    const first = trainStep(m, loss, opt).loss;
    const before = tf.memory().numTensors;
    let last = first;
    for (let i = 0; i < 60; i++) last = trainStep(m, loss, opt).loss;
    expect(tf.memory().numTensors).toBe(before);
    expect(last).toBeLessThan(first / 2);
    tf.dispose([s, tin, tout]);
    opt.dispose();
    m.dispose();
  });

  it('rejects sizes that do not fit, bad ids, empty sources and bad states, naming the argument; stays usable', () => {
    expect(() => new Seq2Seq({ ...base, attention: 'dot', bidirectionalEncoder: true })).toThrow(
      /Seq2Seq\(\{ attention: 'dot' \}\): dot attention needs keys of the decoder's size 4, but a bidirectional encoder gives 8/,
    );
    expect(() => new Seq2Seq({ ...base, attention: 'none', inputFeeding: true })).toThrow(
      /Seq2Seq\(\{ inputFeeding \}\): input feeding passes the attentional state on, so it needs attention/,
    );
    expect(() => new Seq2Seq({ ...base, cell: 'transformer' as never })).toThrow(
      /Seq2Seq\(\{ cell \}\)/,
    );
    expect(() => new Seq2Seq({ ...base, tgt_vocab: 3 } as never)).toThrow(
      /unknown option "tgt_vocab"/,
    );
    const m = new Seq2Seq(base);
    const [s, t] = [src(), tgt()];
    const before = tf.memory().numTensors;
    expect(() => m.encode(s, [4, 0])).toThrow(
      /Seq2Seq\.encode\(srcLengths\): expected integers in \[1, 4\] \(the sequence length\), got 0 at index 1/,
    );
    expect(() => m.encode(s, undefined as never)).toThrow(
      /Seq2Seq\.encode\(srcLengths\): expected 2 lengths/,
    );
    expect(() => m.encode([[1, 9]], [2])).toThrow(/Seq2Seq\.encode\(src\): .*9/);
    expect(() => m.encode(tf.zeros([2, 0], 'int32'), [1, 1])).toThrow(
      /Seq2Seq\.encode\(src\): expected token ids \[B, S\] with S >= 1 \(an empty source has nothing to attend to\), got \[2,0\]/,
    );
    expect(() => m.forward(s, [4, 2], tf.tensor2d([[1, 11]], undefined, 'int32'))).toThrow(
      /Seq2Seq\.forward\(tgtIn\)/,
    );
    expect(() => m.forward(s, [4, 2], tf.tensor2d([[1, 3]], undefined, 'int32'))).toThrow(
      /Seq2Seq\.forward\(tgtIn\): expected token ids \[2, T >= 1\] \(B from src\), got \[1,2\]/,
    );
    const state = m.encode(s, [4, 2]);
    const kept = tf.memory().numTensors;
    expect(() => m.step([1, 20], state)).toThrow(/Seq2Seq\.step\(tokens\)/);
    expect(() => m.step([1, 2, 3], state)).toThrow(
      /Seq2Seq\.step\(tokens\): expected token ids \[2\] \(B from the state\), got \[3\]/,
    );
    expect(() => m.step([1, 2], { h: state.h } as never)).toThrow(
      /Seq2Seq\.step\(state\): expected a state from encode\(\) or step\(\)/,
    );
    const other = new Seq2Seq({ ...base, hiddenSize: 6 });
    const foreign = other.encode(s, [4, 2]);
    expect(() => m.step([1, 2], foreign)).toThrow(ShapeError);
    expect(() => m.step([1, 2], foreign)).toThrow(
      /Seq2Seq\.step\(state\)\.h: expected shape \[\*,1,4\], got \[2,1,6\]/,
    );
    // a state step() or encode() returned is checked again once changed
    const { h } = state;
    state.h = foreign.h;
    expect(() => m.step([1, 2], state)).toThrow(
      /Seq2Seq\.step\(state\)\.h: expected shape \[\*,1,4\], got \[2,1,6\]/,
    );
    state.h = h;
    const { memory } = state;
    state.memory = null as never;
    expect(() => m.step([1, 2], state)).toThrow(
      /Seq2Seq\.step\(state\): expected a state from encode\(\) or step\(\)/,
    );
    state.memory = memory;
    tf.dispose([foreign.h, foreign.c, ...Object.values(foreign.memory)]);
    other.dispose();
    expect(tf.memory().numTensors).toBe(kept);
    // still usable
    const r = m.step([1, 1], state);
    expect(r.logits.shape).toEqual([2, 11]);
    tf.dispose([
      r.logits,
      r.attention,
      r.state.h,
      r.state.c,
      state.h,
      state.c,
      ...Object.values(state.memory),
    ]);
    expect(tf.memory().numTensors).toBe(before + 3); // the empty source and the two tgtIn made inline
    tf.dispose([s, t]);
    m.dispose();
  });
});
