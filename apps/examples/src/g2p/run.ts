// One G2P run: split CMUdict, train a Seq2Seq, decode the test words greedily and with beam
// search, score them, and write the model and PyTorch referee files. Browser-safe.
import { Seq2Seq, type Seq2SeqOptions } from '@rnnkit/heads';
import { getBackend, manualSeed, saveSafetensors } from '@rnnkit/ops';
import type { CellKind } from '@rnnkit/rnn';
import * as tf from '@tensorflow/tfjs-core';
import { epochOrders, padIds } from '../batches.js';
import { type RunHooks, round } from '../run.js';
import type { Split } from '../split.js';
import { G2pVocab, type G2pWord, g2pWords, splitWords } from './data.js';
import { type ErrorRates, errorRates } from './metrics.js';
import { encodeG2pModel } from './model.js';
import { decodeWords, epochLr, fitG2p, type G2pPair, MAX_PHONEMES } from './train.js';

/** Every hyper-parameter of a G2P run; the PyTorch referee receives the same object. */
export interface G2pRecipe {
  cell: CellKind;
  embeddingDim: number;
  /** Per direction of the bidirectional encoder, and the decoder's. */
  hiddenSize: number;
  attention: 'dot' | 'general' | 'concat' | 'additive';
  batchSize: number;
  /** Adam's learning rate for the first `decayAfter` epochs. */
  lr: number;
  /** Epochs at the full learning rate; each later epoch multiplies it by `decay`. */
  decayAfter: number;
  decay: number;
  epochs: number;
  clipNorm: number;
  /** Beam size of the beam-search evaluation (greedy is always reported too). */
  beam: number;
}

export const G2P_RECIPE: G2pRecipe = {
  cell: 'gru',
  embeddingDim: 64,
  hiddenSize: 128,
  attention: 'general',
  batchSize: 64,
  lr: 0.002,
  decayAfter: 3,
  decay: 0.5,
  epochs: 7,
  clipNorm: 5,
  beam: 5,
};

/** Validation words decoded (greedily) after each epoch. */
const VAL_WORDS = 2000;

export interface G2pRunOptions extends RunHooks {
  dict: Record<string, string>;
  recipe: G2pRecipe;
  /** With referee: receives the referee file before training (data, initial weights, batch orders). */
  onReferee?: (bytes: Uint8Array) => void;
}

/** Training pairs: every pronunciation of every word. */
function pairsOf(words: G2pWord[], vocab: G2pVocab): G2pPair[] {
  return words.flatMap((w) =>
    w.prons.map((p) => ({ src: vocab.encodeWord(w.word), tgt: vocab.encodePron(p) })),
  );
}

function score(model: Seq2Seq, words: G2pWord[], vocab: G2pVocab, beam: number) {
  const t0 = performance.now();
  const out = decodeWords(
    model,
    words.map((w) => vocab.encodeWord(w.word)),
    { beam, bos: vocab.bos, eos: vocab.eos },
  );
  const seconds = (performance.now() - t0) / 1000;
  const hyps = out.tokens.map((t) => vocab.decodePron(t));
  const rates = errorRates(
    hyps,
    words.map((w) => w.prons),
  );
  return { hyps, rates, seconds };
}

const pct = (r: ErrorRates) => ({ wer: round(r.wer), per: round(r.per) });

export function runG2p(opts: G2pRunOptions): {
  summary: Record<string, unknown>;
  modelFile: Uint8Array;
  refereeFile?: Uint8Array;
} {
  const { recipe, seed } = opts;
  const { words, dropped } = g2pWords(opts.dict);
  const splits = splitWords(words);
  if (opts.limit !== undefined) {
    for (const s of ['train', 'val', 'test'] as Split[]) splits[s] = splits[s].slice(0, opts.limit);
  }
  if (splits.train.length === 0 || splits.test.length === 0) {
    throw new RangeError('g2p: the split has no training or test words (--limit too small?)');
  }
  const vocab = G2pVocab.fromWords(splits.train);
  const pairs = pairsOf(splits.train, vocab);
  const config: Seq2SeqOptions = {
    srcVocab: vocab.graphemes.length,
    tgtVocab: vocab.phonemes.length,
    embeddingDim: recipe.embeddingDim,
    hiddenSize: recipe.hiddenSize,
    cell: recipe.cell,
    bidirectionalEncoder: true,
    attention: recipe.attention,
  };
  manualSeed(seed);
  const model = new Seq2Seq(config);
  const referee: Record<string, tf.Tensor> = {};
  const orders = epochOrders(
    pairs.map((p) => p.src.length),
    recipe.batchSize,
    seed,
    recipe.epochs,
  );
  const meta: Record<string, string> = {
    format: 'rnnkit-examples-referee/1',
    task: 'g2p',
    recipe: JSON.stringify({ ...recipe, seed }),
    config: JSON.stringify(config),
    graphemes: JSON.stringify(vocab.graphemes),
    phonemes: JSON.stringify(vocab.phonemes),
    maxPhonemes: String(MAX_PHONEMES),
    keys: JSON.stringify({
      train: splits.train.map((w) => w.word),
      val: splits.val.map((w) => w.word),
      test: splits.test.map((w) => w.word),
    }),
    test: JSON.stringify(splits.test.map((w) => w.prons.map((p) => p.join(' ')))),
    limit: String(opts.limit ?? ''),
  };
  try {
    if (opts.referee) {
      for (const [k, v] of Object.entries(model.stateDict())) referee[`init.${k}`] = v;
      referee['train.src'] = padIds(pairs.map((p) => p.src));
      referee['train.tgt'] = padIds(pairs.map((p) => p.tgt));
      referee.orders = tf.tensor2d(orders.flat(), [orders.length, pairs.length], 'int32');
      opts.onReferee?.(saveSafetensors(referee, meta));
    }
    const val = splits.val.slice(0, VAL_WORDS);
    const fitted = fitG2p(model, pairs, orders, {
      ...recipe,
      bos: vocab.bos,
      eos: vocab.eos,
      onBatch: opts.onBatch,
      onEpoch: (e, loss) => {
        const r = val.length ? score(model, val, vocab, 1).rates : null;
        opts.onEpoch?.(
          `epoch ${e + 1}/${recipe.epochs} (lr ${epochLr(recipe, e)}): train loss ${loss.toFixed(4)}${r ? `, val WER ${(100 * r.wer).toFixed(2)}% (greedy, ${val.length} words)` : ''}`,
        );
        return r ? round(r.wer) : null;
      },
    });
    const greedy = score(model, splits.test, vocab, 1);
    const beam = score(model, splits.test, vocab, recipe.beam);
    const parameters = model.parameters().reduce((a, p) => a + p.size, 0);
    const summary: Record<string, unknown> = {
      task: 'g2p',
      backend: getBackend(),
      ...recipe,
      seed,
      limit: opts.limit ?? null,
      droppedEntries: dropped.length,
      trainWords: splits.train.length,
      trainPairs: pairs.length,
      valWords: splits.val.length,
      testWords: splits.test.length,
      graphemes: vocab.graphemes.length,
      phonemes: vocab.phonemes.length,
      parameters,
      trainSeconds: round(fitted.seconds, 1),
      pairsPerSecond: round((pairs.length * recipe.epochs) / fitted.seconds, 1),
      epochLosses: fitted.epochLosses.map((l) => round(l)),
      valWerGreedy: fitted.epochReports,
      greedy: pct(greedy.rates),
      beamSearch: pct(beam.rates),
      greedyWordsPerSecond: round(splits.test.length / greedy.seconds, 1),
      beamWordsPerSecond: round(splits.test.length / beam.seconds, 1),
      examples: splits.test.slice(0, 5).map((w, i) => ({
        word: w.word,
        references: w.prons.map((p) => p.join(' ')),
        greedy: greedy.hyps[i].join(' '),
        beam: beam.hyps[i].join(' '),
      })),
    };
    const modelFile = encodeG2pModel(model, config, vocab);
    let refereeFile: Uint8Array | undefined;
    if (opts.referee) {
      refereeFile = saveSafetensors(referee, {
        ...meta,
        predictions: JSON.stringify({
          greedy: greedy.hyps.map((h) => h.join(' ')),
          beam: beam.hyps.map((h) => h.join(' ')),
        }),
        rnnkit: JSON.stringify(summary),
      });
    }
    return { summary, modelFile, refereeFile };
  } finally {
    tf.dispose(Object.values(referee));
    model.dispose();
  }
}
