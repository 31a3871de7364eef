// `--export-data DIR`: a task's split, token ids, batch orders and initial model, for training
// elsewhere (python/train_ddp.py, PyTorch DistributedDataParallel); `evaluate`: a model file on
// that data, and its agreement with PyTorch's predictions.
import type { SequenceEncoder } from '@rnnkit/heads';
import { loadSafetensors, safetensorsMetadata, saveSafetensors } from '@rnnkit/ops';
import * as tf from '@tensorflow/tfjs-core';
import { epochOrders } from './batches.js';
import { encodeModelFile, modelFromFile } from './browser.js';
import type { CharLanguageModel } from './models.js';
import { type RunOptions, setup, splitTensors } from './run.js';
import { bitsPerChar, classifierMetrics, classifierProbs, lmLogProbs } from './train.js';

export const DATA_FORMAT = 'rnnkit-examples-data/1';

/**
 * data.safetensors: `<split>.ids` int32 [N, T] (0-padded), `<split>.lengths`, `<split>.labels`
 * (classifiers), `orders` int32 [epochs, Ntrain] (the training order of each epoch, cut into
 * consecutive batches of recipe.batchSize, as `pnpm examples` trains); metadata format, task,
 * recipe (JSON, with the seed). init.safetensors: the initial model as a model file (same weights
 * as `pnpm examples` starts from), with the vocabulary and labels.
 */
export function exportData(
  opts: Pick<RunOptions, 'task' | 'items' | 'recipe' | 'seed' | 'limit'>,
): {
  data: Uint8Array;
  init: Uint8Array;
} {
  const { task, recipe, seed } = opts;
  const { splits, ids, info, model } = setup(opts);
  const tensors = splitTensors(task, splits, ids);
  try {
    const lengths = ids.train.map((s) => s.length);
    const orders = epochOrders(lengths, recipe.batchSize, seed, recipe.epochs);
    tensors.orders = tf.tensor2d(orders.flat(), [recipe.epochs, lengths.length], 'int32');
    return {
      data: saveSafetensors(tensors, {
        format: DATA_FORMAT,
        task,
        recipe: JSON.stringify({ ...recipe, seed }),
      }),
      init: encodeModelFile(model, info),
    };
  } finally {
    tf.dispose(Object.values(tensors));
    model.dispose();
  }
}

/** Rows of a padded [N, T] ids tensor cut at their lengths. */
function rows(ids: tf.Tensor, lengths: tf.Tensor): number[][] {
  const flat = ids.dataSync();
  const T = ids.shape[1] as number;
  return Array.from(lengths.dataSync(), (n, i) => Array.from(flat.subarray(i * T, i * T + n)));
}

/**
 * A model file on the test split of exported data: accuracy (classifiers) or bits per character
 * (namegen); with PyTorch's predictions for the same model (`test.prob` [N, 2] or `test.logprob`
 * [N, T-1], as train_ddp.py writes them), how far rnnkit's are from them.
 */
export function evaluateModel(
  modelBytes: Uint8Array,
  dataBytes: Uint8Array,
  torchBytes?: Uint8Array,
): Record<string, unknown> {
  const meta = safetensorsMetadata(dataBytes);
  if (meta.format !== DATA_FORMAT) {
    throw new TypeError(
      `not a --export-data file: expected format "${DATA_FORMAT}", got ${JSON.stringify(meta.format ?? null)}`,
    );
  }
  const data = loadSafetensors(dataBytes);
  const torch = torchBytes ? loadSafetensors(torchBytes) : {};
  const { info, model } = modelFromFile(modelBytes);
  try {
    if (info.task !== meta.task)
      throw new TypeError(`the model is for ${info.task}, the data for ${meta.task}`);
    const test = rows(data['test.ids'], data['test.lengths']);
    const out: Record<string, unknown> = { task: info.task, testItems: test.length };
    if (info.config.kind === 'classifier') {
      const probs = classifierProbs(model as SequenceEncoder, test);
      const preds = probs.map((p) => (p[1] > p[0] ? 1 : 0));
      out.testAccuracy = classifierMetrics(
        Array.from(data['test.labels'].dataSync()),
        preds,
      ).accuracy;
      if (torch['test.prob']) {
        const theirs = torch['test.prob'].arraySync() as number[][];
        out.torchAgreement =
          preds.filter((p, i) => p === (theirs[i][1] > theirs[i][0] ? 1 : 0)).length / preds.length;
        out.maxProbabilityDiff = Math.max(...probs.map((p, i) => Math.abs(p[1] - theirs[i][1])));
      }
    } else {
      const logp = lmLogProbs(model as CharLanguageModel, test);
      out.testBitsPerChar = bitsPerChar(logp);
      if (torch['test.logprob']) {
        const theirs = torch['test.logprob'].arraySync() as number[][];
        out.maxLogProbDiff = Math.max(
          ...logp.flatMap((r, i) => r.map((v, t) => Math.abs(v - theirs[i][t]))),
        );
      }
    }
    return out;
  } finally {
    tf.dispose([...Object.values(data), ...Object.values(torch)]);
    model.dispose();
  }
}
