import { manualSeed } from '@rnnkit/ops';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { CharLanguageModel, createClassifier } from './models.js';
import { prepare } from './run.js';
import { namegenItems, nameItems, RECIPES } from './tasks.js';
import {
  bitsPerChar,
  fitClassifier,
  fitLanguageModel,
  lmLogProbs,
  unigramBitsPerChar,
} from './train.js';

const FEMALE = ['anna', 'maria', 'emma', 'sophia', 'olivia', 'julia', 'linda', 'laura', 'sarah'];
const MALE = ['john', 'peter', 'mark', 'robert', 'frank', 'david', 'james', 'brian', 'victor'];

describe('training on a small slice', () => {
  it('a few classifier epochs lower the loss and leave no tensors behind', () => {
    const { items } = nameItems(FEMALE, MALE);
    const recipe = { ...RECIPES.names, embeddingDim: 8, hiddenSize: 16, batchSize: 6, lr: 0.02 };
    const { ids, splits } = prepare('names', items, recipe);
    const all = [...ids.train, ...ids.val, ...ids.test];
    const labels = [...splits.train, ...splits.val, ...splits.test].map((i) => i.label);
    manualSeed(3);
    const model = createClassifier({
      kind: 'classifier',
      cell: 'gru',
      vocabSize: 30,
      embeddingDim: 8,
      hiddenSize: 16,
      numClasses: 2,
    });
    const before = tf.memory().numTensors;
    const r = fitClassifier(model, { ids: all, labels }, { ...recipe, epochs: 6, seed: 1 });
    expect(tf.memory().numTensors).toBe(before);
    expect(r.epochLosses[5]).toBeLessThan(r.epochLosses[0]);
    expect(r.orders).toHaveLength(6);
    model.dispose();
  });

  it('a few language-model epochs lower the loss and the bits per character', () => {
    const items = namegenItems(FEMALE, MALE);
    const recipe = { ...RECIPES.namegen, embeddingDim: 8, hiddenSize: 16, batchSize: 6, lr: 0.02 };
    const { ids, vocab } = prepare('namegen', items, recipe);
    const all = [...ids.train, ...ids.val, ...ids.test];
    manualSeed(3);
    const lm = new CharLanguageModel({
      kind: 'lm',
      cell: 'lstm',
      vocabSize: vocab.size,
      embeddingDim: 8,
      hiddenSize: 16,
    });
    const bpc0 = bitsPerChar(lmLogProbs(lm, all));
    const r = fitLanguageModel(lm, all, { ...recipe, epochs: 5, seed: 1 });
    const bpc1 = bitsPerChar(lmLogProbs(lm, all));
    expect(r.epochLosses[4]).toBeLessThan(r.epochLosses[0]);
    expect(bpc1).toBeLessThan(bpc0);
    // the unigram baseline is a proper code length: between 0 and log2(symbols)
    const symbols = vocab.tokens.map((_, i) => i).filter((i) => i > 1 && vocab.tokens[i] !== '<s>');
    const uni = unigramBitsPerChar(all, all, symbols);
    expect(uni).toBeGreaterThan(0);
    expect(uni).toBeLessThan(Math.log2(symbols.length));
    lm.dispose();
  });
});
