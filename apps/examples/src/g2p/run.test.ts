import { loadSafetensors, safetensorsMetadata, setBackend } from '@rnnkit/ops';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../batches.js';
import { Pronouncer } from './model.js';
import { G2P_RECIPE, runG2p } from './run.js';

/** A made-up dictionary: each letter has one phoneme, "TH" is one phoneme; every 7th word has an alternate. */
function fakeDict(n: number): Record<string, string> {
  const rand = mulberry32(5);
  const letters = 'ABDEHIKLMNOSTU';
  const ph: Record<string, string> = {
    A: 'AE1',
    B: 'B',
    D: 'D',
    E: 'EH0',
    H: 'HH',
    I: 'IH1',
    K: 'K',
    L: 'L',
    M: 'M',
    N: 'N',
    O: 'OW1',
    S: 'S',
    T: 'T',
    U: 'UW0',
  };
  const dict: Record<string, string> = {};
  for (let i = 0; i < n; i++) {
    const len = 3 + Math.floor(rand() * 4);
    const word = Array.from(
      { length: len },
      () => letters[Math.floor(rand() * letters.length)],
    ).join('');
    const phones = word
      .replace(/TH/g, '_')
      .split('')
      .map((c) => (c === '_' ? 'TH' : ph[c]));
    dict[word] = phones.join(' ');
    if (i % 7 === 0) dict[`${word}(1)`] = [...phones, 'Z'].join(' ');
  }
  return dict;
}

describe('runG2p', () => {
  beforeAll(async () => {
    await setBackend('cpu');
  });

  it('trains, scores greedy and beam search, and writes model and referee files that read back', () => {
    const dict = fakeDict(400);
    const before = tf.memory().numTensors;
    let early: Uint8Array | undefined;
    const lines: string[] = [];
    const r = runG2p({
      dict,
      recipe: {
        ...G2P_RECIPE,
        hiddenSize: 16,
        embeddingDim: 8,
        batchSize: 32,
        lr: 0.01,
        epochs: 3,
        beam: 3,
      },
      seed: 3,
      referee: true,
      onReferee: (b) => {
        early = b;
      },
      onEpoch: (l) => lines.push(l),
    });
    expect(tf.memory().numTensors).toBe(before);
    const s = r.summary as any;
    const distinct = new Set(Object.keys(dict).map((k) => k.replace(/\(\d+\)$/, ''))).size;
    expect(s.trainWords + s.valWords + s.testWords).toBe(distinct);
    expect(s.trainPairs).toBeGreaterThan(s.trainWords);
    expect(s.epochLosses[2]).toBeLessThan(s.epochLosses[0]);
    expect(lines.length).toBe(3);
    for (const k of ['greedy', 'beamSearch']) {
      expect(s[k].wer).toBeGreaterThanOrEqual(0);
      expect(s[k].wer).toBeLessThanOrEqual(1);
      expect(s[k].per).toBeGreaterThanOrEqual(0);
    }
    // the referee file: before training without predictions, after with them; same weights and orders
    const meta0 = safetensorsMetadata(early!);
    const meta1 = safetensorsMetadata(r.refereeFile!);
    expect(meta0.predictions).toBeUndefined();
    expect(JSON.parse(meta1.predictions).greedy.length).toBe(s.testWords);
    const t = loadSafetensors(r.refereeFile!);
    expect(t.orders.shape).toEqual([3, s.trainPairs]);
    expect(t['train.src'].shape[0]).toBe(s.trainPairs);
    tf.dispose(Object.values(t));
    // the saved model pronounces the test words as the run did
    const p = new Pronouncer(r.modelFile);
    const ex = s.examples[0];
    const [g] = p.pronounce([ex.word]);
    expect(g.phonemes.join(' ')).toBe(ex.greedy);
    const [b] = p.pronounce([ex.word], { beam: 3, attention: true });
    expect(b.phonemes.join(' ')).toBe(ex.beam);
    expect(b.hypotheses.length).toBe(3);
    expect(b.attention!.length).toBeGreaterThan(0);
    expect(b.attention![0].length).toBe(ex.word.length);
    expect(() => p.pronounce([''])).toThrow(/word 0 is empty/);
    p.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
