// One full run of a task: prepare, train, evaluate, and the files for --save and --referee.
import type { SequenceEncoder } from '@rnnkit/heads';
import { getBackend, manualSeed, saveSafetensors } from '@rnnkit/ops';
import * as tf from '@tensorflow/tfjs-core';
import { padIds } from './batches.js';
import { encodeModelFile, loadModel, type ModelInfo } from './browser.js';
import {
  CharLanguageModel,
  type ClassifierConfig,
  createClassifier,
  type LanguageModelConfig,
} from './models.js';
import type { Split } from './split.js';
import {
  buildVocab,
  type Item,
  NAME_LABELS,
  type Recipe,
  SPAM_LABELS,
  splitItems,
  type TaskName,
} from './tasks.js';
import { EOS, type Vocab } from './text.js';
import {
  type BatchInfo,
  bitsPerChar,
  classifierMetrics,
  classifierProbs,
  fitClassifier,
  fitLanguageModel,
  lmLogProbs,
  unigramBitsPerChar,
} from './train.js';

/** What every run (a text task or g2p) takes besides its data and recipe. */
export interface RunHooks {
  seed: number;
  /** Caps every split at this many items (quick runs). */
  limit?: number;
  onBatch?: (info: BatchInfo) => void;
  onEpoch?: (line: string) => void;
  /** Also build the PyTorch referee file (data, orders, initial weights, our predictions). */
  referee?: boolean;
}

export interface RunOptions extends RunHooks {
  task: TaskName;
  items: Item[];
  recipe: Recipe;
  /** Names to sample after training (namegen). */
  samples?: { count: number; temperature: number; prefix: string };
}

export interface RunResult {
  /** The JSON summary (the CLI's last line with --json). */
  summary: Record<string, unknown>;
  /** The trained model as a model file (for --save and the browser). */
  modelFile: Uint8Array;
  /** The PyTorch referee file when asked for. */
  refereeFile?: Uint8Array;
}

/** x rounded to d decimals. */
export const round = (x: number, d = 4) => Math.round(x * 10 ** d) / 10 ** d;

/** `<split>.ids` int32 [N, T] (0-padded), `<split>.lengths` and, for classifiers, `<split>.labels`. */
export function splitTensors(
  task: TaskName,
  splits: Record<Split, Item[]>,
  ids: Record<Split, number[][]>,
): Record<string, tf.Tensor> {
  const out: Record<string, tf.Tensor> = {};
  for (const s of ['train', 'val', 'test'] as Split[]) {
    out[`${s}.ids`] = padIds(ids[s]);
    out[`${s}.lengths`] = tf.tensor1d(
      ids[s].map((r) => r.length),
      'int32',
    );
    if (task !== 'namegen') {
      out[`${s}.labels`] = tf.tensor1d(
        splits[s].map((i) => i.label),
        'int32',
      );
    }
  }
  return out;
}

export function prepare(
  task: TaskName,
  items: Item[],
  recipe: Recipe,
  limit?: number,
): { splits: Record<Split, Item[]>; vocab: Vocab; ids: Record<Split, number[][]> } {
  const splits = splitItems(items);
  if (limit !== undefined) {
    for (const s of ['train', 'val', 'test'] as Split[]) splits[s] = splits[s].slice(0, limit);
  }
  const vocab = buildVocab(task, splits.train, recipe.minFreq);
  const enc = (its: Item[]) =>
    its.map((i) => {
      const ids = vocab.encode(i.tokens);
      return ids.length ? ids : [1];
    });
  return {
    splits,
    vocab,
    ids: { train: enc(splits.train), val: enc(splits.val), test: enc(splits.test) },
  };
}

/** What a run starts from: the split, vocabulary, token ids, the model info and the initial model. */
export function setup(opts: Pick<RunOptions, 'task' | 'items' | 'recipe' | 'seed' | 'limit'>) {
  const { task, recipe, seed } = opts;
  const { splits, vocab, ids } = prepare(task, opts.items, recipe, opts.limit);
  if (splits.train.length === 0 || splits.test.length === 0) {
    throw new RangeError(`${task}: the split has no training or test items (--limit too small?)`);
  }
  manualSeed(seed);
  const labels: string[] =
    task === 'spam' ? [...SPAM_LABELS] : task === 'names' ? [...NAME_LABELS] : [];
  const info: ModelInfo = {
    task,
    config:
      task === 'namegen'
        ? {
            kind: 'lm',
            cell: recipe.cell,
            vocabSize: vocab.size,
            embeddingDim: recipe.embeddingDim,
            hiddenSize: recipe.hiddenSize,
          }
        : {
            kind: 'classifier',
            cell: recipe.cell,
            vocabSize: vocab.size,
            embeddingDim: recipe.embeddingDim,
            hiddenSize: recipe.hiddenSize,
            numClasses: 2,
          },
    vocab: [...vocab.tokens],
    labels,
    maxTokens: task === 'spam' ? recipe.maxTokens : 0,
  };
  const model =
    info.config.kind === 'classifier'
      ? createClassifier(info.config as ClassifierConfig)
      : new CharLanguageModel(info.config as LanguageModelConfig);
  return { splits, vocab, ids, labels, info, model };
}

export function runTask(opts: RunOptions): RunResult {
  const { task, recipe, seed } = opts;
  const { splits, vocab, ids, labels, info, model } = setup(opts);
  const referee: Record<string, tf.Tensor> = {};
  try {
    if (opts.referee) {
      const init = model.stateDict();
      for (const [k, v] of Object.entries(init)) referee[`init.${k}`] = v;
    }
    const parameters = model.parameters().reduce((a, p) => a + p.size, 0);
    const base = {
      task,
      backend: getBackend(),
      cell: recipe.cell,
      epochs: recipe.epochs,
      batchSize: recipe.batchSize,
      lr: recipe.lr,
      embeddingDim: recipe.embeddingDim,
      hiddenSize: recipe.hiddenSize,
      seed,
      limit: opts.limit ?? null,
      trainItems: splits.train.length,
      valItems: splits.val.length,
      testItems: splits.test.length,
      vocabSize: vocab.size,
      parameters,
    };
    let summary: Record<string, unknown>;
    let fitted: { orders: number[][]; epochLosses: number[]; seconds: number };
    const log = (s: string) => opts.onEpoch?.(s);
    if (info.config.kind === 'classifier') {
      const enc = model as SequenceEncoder;
      const y = (s: Split) => splits[s].map((i) => i.label);
      const accuracy = (s: Split) => {
        const preds = classifierProbs(enc, ids[s]).map((p) => (p[1] > p[0] ? 1 : 0));
        return classifierMetrics(y(s), preds).accuracy;
      };
      fitted = fitClassifier(
        enc,
        { ids: ids.train, labels: y('train') },
        {
          ...recipe,
          seed,
          onBatch: opts.onBatch,
          onEpoch: (e, loss) => {
            const acc = ids.val.length ? accuracy('val') : Number.NaN;
            log(
              `epoch ${e + 1}/${recipe.epochs}: train loss ${loss.toFixed(4)}, val accuracy ${(100 * acc).toFixed(2)}%`,
            );
            return acc;
          },
        },
      );
      const probs = classifierProbs(enc, ids.test);
      const preds = probs.map((p) => (p[1] > p[0] ? 1 : 0));
      const m = classifierMetrics(y('test'), preds);
      const ones = splits.train.filter((i) => i.label === 1).length;
      const majority = ones * 2 > splits.train.length ? 1 : 0;
      const baseline = y('test').filter((l) => l === majority).length / splits.test.length;
      summary = {
        ...base,
        labels,
        trainSeconds: round(fitted.seconds, 1),
        itemsPerSecond: round((splits.train.length * recipe.epochs) / fitted.seconds, 1),
        epochLosses: fitted.epochLosses.map((l) => round(l)),
        valAccuracy: ids.val.length ? round(accuracy('val')) : null,
        testAccuracy: round(m.accuracy),
        baselineAccuracy: round(baseline),
        majorityClass: labels[majority],
        precision: round(m.precision),
        recall: round(m.recall),
        f1: round(m.f1),
        positiveClass: labels[1],
        confusion: m.confusion,
      };
      if (opts.referee) {
        referee['rnnkit.test_pred'] = tf.tensor1d(preds, 'int32');
        referee['rnnkit.test_prob'] = tf.tensor1d(probs.map((p) => p[1]));
      }
    } else {
      const lm = model as CharLanguageModel;
      fitted = fitLanguageModel(lm, ids.train, {
        ...recipe,
        seed,
        onBatch: opts.onBatch,
        onEpoch: (e, loss) => {
          const bpc = ids.val.length ? bitsPerChar(lmLogProbs(lm, ids.val)) : Number.NaN;
          log(
            `epoch ${e + 1}/${recipe.epochs}: train loss ${loss.toFixed(4)}, val bits/char ${bpc.toFixed(4)}`,
          );
          return bpc;
        },
      });
      const logProbs = lmLogProbs(lm, ids.test);
      const symbols = vocab.tokens
        .map((_, i) => i)
        .filter((i) => i > 1 && vocab.tokens[i] !== '<s>');
      const samples = opts.samples ?? { count: 10, temperature: 0.8, prefix: '' };
      summary = {
        ...base,
        trainSeconds: round(fitted.seconds, 1),
        itemsPerSecond: round((splits.train.length * recipe.epochs) / fitted.seconds, 1),
        epochLosses: fitted.epochLosses.map((l) => round(l)),
        valBitsPerChar: ids.val.length ? round(bitsPerChar(lmLogProbs(lm, ids.val))) : null,
        testBitsPerChar: round(bitsPerChar(logProbs)),
        unigramBitsPerChar: round(unigramBitsPerChar(ids.train, ids.test, symbols)),
        baselineBitsPerChar: null as number | null,
        endToken: EOS,
        sampleTemperature: samples.temperature,
        sampleSeed: seed,
        samplePrefix: samples.prefix,
        samples: [] as string[],
      };
      summary.baselineBitsPerChar = summary.unigramBitsPerChar as number;
      if (opts.referee) {
        const T = Math.max(...logProbs.map((r) => r.length));
        const flat = new Float32Array(logProbs.length * T);
        logProbs.forEach((r, i) => {
          flat.set(r, i * T);
        });
        referee['rnnkit.test_logprob'] = tf.tensor2d(flat, [logProbs.length, T]);
      }
    }
    const modelFile = encodeModelFile(model, info);
    if (info.config.kind === 'lm') {
      const s = opts.samples ?? { count: 10, temperature: 0.8, prefix: '' };
      const gen = loadModel(modelFile);
      if (gen.kind === 'generator') {
        summary.samples = gen.complete(s.prefix, s.count, { temperature: s.temperature, seed });
      }
      gen.dispose();
    }
    let refereeFile: Uint8Array | undefined;
    if (opts.referee) {
      Object.assign(referee, splitTensors(task, splits, ids));
      referee.orders = tf.tensor2d(
        fitted.orders.flat(),
        [fitted.orders.length, splits.train.length],
        'int32',
      );
      refereeFile = saveSafetensors(referee, {
        format: 'rnnkit-examples-referee/1',
        task,
        recipe: JSON.stringify({ ...recipe, seed }),
        config: JSON.stringify(info.config),
        vocab: JSON.stringify(info.vocab),
        labels: JSON.stringify(labels),
        keys: JSON.stringify({
          train: splits.train.map((i) => i.key),
          val: splits.val.map((i) => i.key),
          test: splits.test.map((i) => i.key),
        }),
        limit: String(opts.limit ?? ''),
        rnnkit: JSON.stringify(summary),
      });
    }
    return { summary, modelFile, refereeFile };
  } finally {
    tf.dispose(Object.values(referee));
    model.dispose();
  }
}
