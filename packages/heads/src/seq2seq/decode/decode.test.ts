import { disposeState, trainedSeq2Seq } from '@rnnkit/golden';
import { expectParity, fixture } from '@rnnkit/vitest-config/helpers';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { Seq2Seq } from '../seq2seq.js';
import { beamSearch } from './beam.js';
import { greedyDecode } from './greedy.js';
import { draw, sample } from './sample.js';
import type { StepModel } from './step-model.js';

/** The fixture's trained model (reverses digit strings), its sources and the Python decodes. */
function trained() {
  const f = fixture('seq2seq', 'decode_reverse_lstm');
  const { m, decodes, bos, eos, encode } = trainedSeq2Seq(f, { Seq2Seq });
  const free = () => {
    tf.dispose(Object.values(f.t));
    m.dispose();
  };
  return { m, decodes, bos, eos, init: encode, free };
}

/** A language model as a StepModel: state [B, H] in an array, logits = W tanh(h + E[token]). */
class TinyLM implements StepModel<tf.Tensor[]> {
  readonly emb = tf.randomNormal([7, 5], 0, 1, 'float32', 3);
  readonly out = tf.randomNormal([5, 7], 0, 2, 'float32', 4);
  step(tokens: tf.Tensor1D, state: tf.Tensor[]) {
    return tf.tidy(() => {
      const h = tf.tanh(tf.add(state[0], tf.gather(this.emb, tokens)));
      return { logits: tf.matMul(h, this.out), state: [h] };
    });
  }
  dispose() {
    tf.dispose([this.emb, this.out]);
  }
}

describe('decoding a trained Seq2Seq (the same decoders written in Python, tooling/golden)', () => {
  it('greedyDecode and beamSearch give the reference tokens and scores', () => {
    // every run of the fixture: tokens equal, scores within 5e-5 (tooling/golden checks/decode.mjs)
    expectParity('seq2seq', 'decode_reverse_lstm', { Seq2Seq, greedyDecode, beamSearch });
    const { m, decodes, bos, eos, init, free } = trained();
    const state = init();
    const before = tf.memory().numTensors;
    const g = greedyDecode(m, state, { maxLength: decodes.greedy.maxLength, bos, eos });
    let differs = 0;
    for (const name of ['beam3', 'beam4_lp0', 'beam2_short']) {
      const b = beamSearch(m, state, { ...decodes[name], bos, eos });
      expect(b.hypotheses.every((h) => h.length === decodes[name].beamSize)).toBe(true);
      differs += b.tokens.filter((t, i) => t.join() !== g.tokens[i].join()).length;
    }
    expect(differs).toBeGreaterThan(0); // the fixture has rows where beam search finds better
    expect(tf.memory().numTensors).toBe(before); // init stays, every later state is gone
    disposeState(state);
    free();
  });

  it("each source alone (B 1: attention in the kernel's products) gives Python's greedy decode", () => {
    const f = fixture('seq2seq', 'decode_reverse_lstm');
    const { m, decodes, bos, eos, rows, scores } = trainedSeq2Seq(f, { Seq2Seq });
    const src = f.t['input.src']!;
    const lengths = Array.from(f.t['input.lengths']!.dataSync());
    const [want, wantScores] = [rows('greedy'), scores('greedy')];
    lengths.forEach((n, b) => {
      const row = tf.slice(src, [b, 0], [1, -1]);
      const state = m.encode(row, [n]);
      const g = greedyDecode(m, state, { maxLength: decodes.greedy.maxLength, bos, eos });
      expect(g.tokens[0]).toEqual(want[b]);
      expect(Math.abs(g.scores[0]! - wantScores[b]!)).toBeLessThan(5e-5);
      disposeState(state);
      row.dispose();
    });
    tf.dispose(Object.values(f.t));
    m.dispose();
  });

  it('beam size 1 is greedy decoding (tokens, and scores with lengthPenalty 0)', () => {
    const { m, bos, eos, init, free } = trained();
    const state = init();
    for (const maxLength of [1, 3, 10]) {
      const g = greedyDecode(m, state, { maxLength, bos, eos });
      const b = beamSearch(m, state, { beamSize: 1, maxLength, bos, eos, lengthPenalty: 0 });
      expect(b.tokens).toEqual(g.tokens);
      b.scores.forEach((s, i) => {
        expect(s).toBeCloseTo(g.scores[i], 5);
      });
    }
    disposeState(state);
    free();
  });

  it('beam search ranks hypotheses by logProb / length^lengthPenalty', () => {
    const { m, bos, eos, init, free } = trained();
    const state = init();
    const b = beamSearch(m, state, { beamSize: 4, maxLength: 10, bos, eos, lengthPenalty: 0.6 });
    for (const row of b.hypotheses) {
      for (const h of row) {
        const n = h.tokens.length + (h.tokens.length < 10 ? 1 : 0);
        expect(h.score).toBeCloseTo(h.logProb / n ** 0.6, 6);
      }
      for (let i = 1; i < row.length; i++)
        expect(row[i - 1].score).toBeGreaterThanOrEqual(row[i].score);
    }
    disposeState(state);
    free();
  });

  it('sampling: seeded runs repeat, topK 1 and a tiny temperature are greedy, scores are model log-probs', () => {
    const { m, bos, eos, init, free } = trained();
    const state = init();
    const g = greedyDecode(m, state, { maxLength: 10, bos, eos });
    const a = sample(m, state, { maxLength: 10, bos, eos, seed: 7, temperature: 2 });
    const b = sample(m, state, { maxLength: 10, bos, eos, seed: 7, temperature: 2 });
    expect(a).toEqual(b);
    expect(a.tokens).not.toEqual(g.tokens); // hot sampling strays from greedy on 12 rows
    for (const opts of [{ topK: 1 }, { temperature: 1e-4 }, { topP: 1e-6 }]) {
      const s = sample(m, state, { maxLength: 10, bos, eos, seed: 1, ...opts });
      expect(s.tokens).toEqual(g.tokens);
      s.scores.forEach((v, i) => {
        expect(v).toBeCloseTo(g.scores[i], 5);
      });
    }
    disposeState(state);
    free();
  });

  it('draw follows the tempered, filtered distribution', () => {
    const logp = [Math.log(0.5), Math.log(0.3), Math.log(0.15), Math.log(0.05)];
    const freq = (t: number, k: number, p: number) => {
      const n = [0, 0, 0, 0];
      for (let i = 0; i < 2000; i++) n[draw(logp, t, k, p, (i + 0.5) / 2000)]++;
      return n.map((c) => c / 2000);
    };
    expect(freq(1, 4, 1)).toEqual([0.5, 0.3, 0.15, 0.05]);
    expect(freq(1, 2, 1)).toEqual([0.625, 0.375, 0, 0]);
    expect(freq(1, 4, 0.7)).toEqual([0.625, 0.375, 0, 0]); // 0.5 < 0.7 <= 0.8: two tokens
    const hot = freq(2, 4, 1);
    const z = [0.5, 0.3, 0.15, 0.05].map(Math.sqrt);
    const sum = z.reduce((x, y) => x + y, 0);
    hot.forEach((f, i) => {
      expect(f).toBeCloseTo(z[i] / sum, 2);
    });
  });

  it('works on any StepModel: a language model whose state is an array', () => {
    const lm = new TinyLM();
    const h0 = [tf.zeros([3, 5])];
    const before = tf.memory().numTensors;
    const g = greedyDecode(lm, h0, { maxLength: 6, bos: 0, eos: 6 });
    const b = beamSearch(lm, h0, { beamSize: 3, maxLength: 6, bos: 0, eos: 6 });
    const s = sample(lm, h0, { maxLength: 6, bos: 0, eos: 6, seed: 2 });
    expect(g.tokens.length).toBe(3);
    expect(b.tokens.length).toBe(3);
    expect(s.tokens.every((t) => t.length <= 6 && t.every((v) => v >= 0 && v < 7))).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(h0);
    lm.dispose();
  });

  it('rejects bad options naming the argument, leaks nothing and leaves the model usable', () => {
    const { m, bos, eos, init, free } = trained();
    const state = init();
    const before = tf.memory().numTensors;
    const o = { maxLength: 5, bos, eos };
    expect(() => beamSearch(m, state, { ...o, beamSize: 0 })).toThrow(
      /^beamSearch\(\{ beamSize \}\): expected a positive integer, got 0$/,
    );
    expect(() => beamSearch(m, state, { ...o, beamSize: 2.5 })).toThrow(/beamSize/);
    expect(() => greedyDecode(m, state, { ...o, maxLength: 0 })).toThrow(
      /greedyDecode\(\{ maxLength \}\): expected a positive integer, got 0/,
    );
    expect(() => sample(m, state, { ...o, bos: 10 })).toThrow(
      /sample\(\{ bos \}\): expected a token id in \[0, 9\] \(the model's vocabulary\), got 10/,
    );
    expect(() => greedyDecode(m, state, { ...o, eos: -1 })).toThrow(/greedyDecode\(\{ eos \}\)/);
    expect(() => sample(m, state, { ...o, temperature: 0 })).toThrow(/sample\(\{ temperature \}\)/);
    expect(() => sample(m, state, { ...o, topK: 0 })).toThrow(/sample\(\{ topK \}\)/);
    expect(() => sample(m, state, { ...o, topP: 1.5 })).toThrow(/sample\(\{ topP \}\)/);
    expect(() => beamSearch(m, state, { ...o, beamSize: 2, lengthPenalty: Number.NaN })).toThrow(
      /lengthPenalty/,
    );
    expect(() => greedyDecode(m, {} as never, o)).toThrow(
      /greedyDecode\(init\): expected a state holding/,
    );
    expect(() => greedyDecode({} as never, state, o)).toThrow(
      /greedyDecode\(model\): expected a StepModel/,
    );
    expect(() => greedyDecode(m, state, { ...o, max_length: 3 } as never)).toThrow(
      /unknown option/,
    );
    // eos outside the vocabulary of a model that does not announce one: caught at the first step
    const lm = new TinyLM();
    const h0 = [tf.zeros([2, 5])];
    const lmBefore = tf.memory().numTensors;
    expect(() => greedyDecode(lm, h0, { maxLength: 3, bos: 0, eos: 7 })).toThrow(
      /greedyDecode\(\{ eos \}\): expected a token id in \[0, 6\]/,
    );
    expect(() => beamSearch(lm, h0, { maxLength: 3, bos: 0, eos: 9, beamSize: 2 })).toThrow(
      /beamSearch\(\{ eos \}\)/,
    );
    expect(tf.memory().numTensors).toBe(lmBefore);
    tf.dispose(h0);
    lm.dispose();
    expect(tf.memory().numTensors).toBe(before);
    const ok = beamSearch(m, state, { ...o, beamSize: 2 });
    expect(ok.tokens.length).toBe(12);
    disposeState(state);
    free();
  });

  it('a model that throws mid-decoding leaves no tensors behind', () => {
    const lm = new TinyLM();
    let calls = 0;
    const flaky: StepModel<tf.Tensor[]> = {
      step: (t, s) => {
        if (++calls === 3) throw new Error('boom');
        const r = lm.step(t, s);
        // eos (6) never wins, so every row is still decoding at the third step
        const logits = tf.tidy(() =>
          tf.sub(
            r.logits,
            tf.mul(tf.oneHot(tf.fill([t.shape[0]], 6, 'int32') as tf.Tensor1D, 7), 100),
          ),
        );
        r.logits.dispose();
        return { logits, state: r.state };
      },
    };
    const h0 = [tf.zeros([2, 5])];
    const before = tf.memory().numTensors;
    expect(() => beamSearch(flaky, h0, { maxLength: 6, bos: 0, eos: 6, beamSize: 3 })).toThrow(
      'boom',
    );
    calls = 0;
    expect(() => greedyDecode(flaky, h0, { maxLength: 6, bos: 0, eos: 6 })).toThrow('boom');
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(h0);
    lm.dispose();
  });
});
