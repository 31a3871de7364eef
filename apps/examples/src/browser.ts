// What a web page needs: read a model file written by `pnpm examples ... --save`, classify text or
// sample names. Browser-safe (no Node imports); the page picks the backend with setBackend first.
import { loadModel as loadModule, SequenceEncoder, SequenceTagger, saveModel } from '@rnnkit/heads';
import { type Module, safetensorsMetadata } from '@rnnkit/ops';
import * as tf from '@tensorflow/tfjs-core';
import { mulberry32 } from './batches.js';
import { CharLanguageModel, type LMState, type ModelConfig } from './models.js';
import type { TaskName } from './tasks.js';
import { BOS, EMAIL_MAX_TOKENS, EOS, emailTokens, nameChars, Vocab } from './text.js';

export const MODEL_FORMAT = 'rnnkit-examples/2';

/** What a model file holds besides its weights (in the safetensors `__metadata__`, as JSON strings). */
export interface ModelInfo {
  task: TaskName;
  config: ModelConfig;
  /** Token of each id. */
  vocab: string[];
  /** Class names (classifiers), e.g. ["ham", "spam"]. */
  labels: string[];
  /** spam: emails are cut to this many tokens. */
  maxTokens: number;
}

/**
 * A model file: an rnnkit model file (saveModel: the architecture and the weights, PyTorch keys;
 * loadModel from @rnnkit/heads rebuilds it) with ModelInfo beside it in the metadata.
 */
export function encodeModelFile(model: Module, info: ModelInfo): Uint8Array {
  return saveModel(model instanceof CharLanguageModel ? model.tagger : model, {
    format: MODEL_FORMAT,
    task: info.task,
    config: JSON.stringify(info.config),
    vocab: JSON.stringify(info.vocab),
    labels: JSON.stringify(info.labels),
    maxTokens: String(info.maxTokens),
  });
}

/** Reads a model file's ModelInfo; throws a clear error for a file that is not one. */
export function readModelInfo(bytes: Uint8Array): ModelInfo {
  const meta = safetensorsMetadata(bytes);
  if (meta.format !== MODEL_FORMAT) {
    throw new TypeError(
      `not an rnnkit-examples model file: expected metadata format "${MODEL_FORMAT}", got ${meta.format === undefined ? 'none' : `"${meta.format}"`}`,
    );
  }
  return {
    task: meta.task as TaskName,
    config: JSON.parse(meta.config) as ModelConfig,
    vocab: JSON.parse(meta.vocab) as string[],
    labels: JSON.parse(meta.labels) as string[],
    maxTokens: Number(meta.maxTokens),
  };
}

/** Rebuilds the model of a file with loadModel from @rnnkit/heads. The caller disposes it. */
export function modelFromFile(bytes: Uint8Array): {
  info: ModelInfo;
  model: SequenceEncoder | CharLanguageModel;
} {
  const info = readModelInfo(bytes);
  const module = loadModule(bytes);
  if (module instanceof SequenceTagger) return { info, model: new CharLanguageModel(module) };
  if (module instanceof SequenceEncoder) return { info, model: module };
  module.dispose();
  throw new TypeError(`not an rnnkit-examples model: ${module.constructor.name}`);
}

export interface Prediction {
  /** The most probable class, e.g. "spam" or "female". */
  label: string;
  /** Its probability. */
  probability: number;
  /** Every class's probability, in `labels` order. */
  probabilities: number[];
  /** The tokens the model read (spam: words after the tokeniser rule; names: characters). */
  tokens: string[];
  /**
   * Per token, its share of the logit margin labels[1] - labels[0] (positive: towards spam / male).
   * With mean pooling this is exact: sum(tokenWeights) + bias margin = the margin.
   */
  tokenWeights: number[];
  /** The bias part of that margin. */
  biasWeight: number;
}

export interface ClassifierHandle {
  kind: 'classifier';
  task: TaskName;
  labels: string[];
  info: ModelInfo;
  predict(text: string): Prediction;
  dispose(): void;
}

export interface SampleOptions {
  /** Softmax temperature; 0 picks the most likely character. Default 0.8. */
  temperature?: number;
  /** Seed of the sampler (same seed, same names). Default 1. */
  seed?: number;
  /** Stop after this many characters (prefix included). Default 20. */
  maxLength?: number;
}

export interface GeneratorHandle {
  kind: 'generator';
  task: TaskName;
  info: ModelInfo;
  /** One name starting with `prefix` (lower-cased), drawn at `temperature`. */
  sample(prefix?: string, temperature?: number, seed?: number): string;
  /** `count` names starting with `prefix`, from one seeded stream. */
  complete(prefix: string, count: number, opts?: SampleOptions): string[];
  /** Probability of each possible next character after `prefix` ("</s>" = end of name), highest first. */
  nextChars(prefix: string): Array<{ char: string; probability: number }>;
  dispose(): void;
}

export type ModelHandle = ClassifierHandle | GeneratorHandle;

/**
 * Loads a model file (bytes of a `.safetensors` written by the CLI's --save). Call
 * `setBackend('cpu' | 'wasm')` from @rnnkit/ops first. Classifiers (spam, names) get `predict`,
 * the name generator gets `sample`, `complete` and `nextChars`.
 */
export function loadModel(bytes: Uint8Array): ModelHandle {
  const { info, model } = modelFromFile(bytes);
  const vocab = new Vocab(info.vocab);
  if (info.config.kind === 'classifier') {
    const enc = model as SequenceEncoder;
    return {
      kind: 'classifier',
      task: info.task,
      labels: info.labels,
      info,
      predict: (text) => classify(enc, vocab, info, text),
      dispose: () => model.dispose(),
    };
  }
  const lm = model as CharLanguageModel;
  const complete = (prefix: string, count: number, opts: SampleOptions = {}): string[] => {
    const rand = mulberry32(opts.seed ?? 1);
    return Array.from({ length: count }, () =>
      sampleName(lm, vocab, prefix, opts.temperature ?? 0.8, rand, opts.maxLength ?? 20),
    );
  };
  return {
    kind: 'generator',
    task: info.task,
    info,
    sample: (prefix = '', temperature = 0.8, seed = 1) =>
      complete(prefix, 1, { temperature, seed })[0],
    complete,
    nextChars: (prefix) => {
      const probs = nextProbs(lm, vocab, prefix);
      return probs
        .map((p, i) => ({ char: vocab.tokens[i], probability: p }))
        .filter((c, i) => i > 1 && c.char !== BOS)
        .sort((a, b) => b.probability - a.probability);
    },
    dispose: () => model.dispose(),
  };
}

/** Tokens of a text for a task: spam -> emailTokens (cut to maxTokens), names -> characters. */
export function tokensFor(info: ModelInfo, text: string): string[] {
  return info.task === 'spam'
    ? emailTokens(text, info.maxTokens || EMAIL_MAX_TOKENS)
    : nameChars(text);
}

function classify(enc: SequenceEncoder, vocab: Vocab, info: ModelInfo, text: string): Prediction {
  const tokens = tokensFor(info, text);
  const ids = vocab.encode(tokens.length ? tokens : ['<unk>']);
  const L = ids.length;
  const [probabilities, weights, bias] = tf.tidy(() => {
    enc.eval();
    const x = tf.tensor2d([ids], [1, L], 'int32');
    const h = tf.squeeze(enc.encode(x), [0]); // [L, 2H]
    const w = enc.proj!.weight; // [C, 2H]
    const b = enc.proj!.bias!;
    const logits = tf.add(tf.matMul(tf.mean(h, 0, true), w, false, true), b); // [1, C]
    const margin = tf.sub(tf.slice(w, [1, 0], [1, -1]), tf.slice(w, [0, 0], [1, -1])); // [1, 2H]
    const perToken = tf.div(tf.sum(tf.mul(h, margin), 1), L);
    return [
      tf.softmax(logits).dataSync(),
      perToken.dataSync(),
      tf.sub(tf.slice(b, [1], [1]), tf.slice(b, [0], [1])).dataSync(),
    ] as const;
  }) as unknown as [Float32Array, Float32Array, Float32Array];
  const probs = Array.from(probabilities);
  const best = probs[1] > probs[0] ? 1 : 0;
  return {
    label: info.labels[best],
    probability: probs[best],
    probabilities: probs,
    tokens: tokens.length ? tokens : ['<unk>'],
    tokenWeights: Array.from(weights),
    biasWeight: bias[0],
  };
}

/** Runs <s> + prefix through the model: the state after it and the next-token probabilities. */
function runPrefix(
  lm: CharLanguageModel,
  vocab: Vocab,
  prefix: string,
): { state: LMState; probs: Float32Array } {
  lm.eval();
  const ids = [vocab.id(BOS), ...vocab.encode(nameChars(prefix))];
  return tf.tidy(() => {
    const x = tf.tensor2d([ids], [1, ids.length], 'int32');
    const [logits, state] = lm.forward(x);
    const last = tf.slice(logits, [0, ids.length - 1, 0], [1, 1, -1]);
    return { state, probs: tf.softmax(tf.reshape(last, [-1])).dataSync() as Float32Array };
  }) as unknown as { state: LMState; probs: Float32Array };
}

function nextProbs(lm: CharLanguageModel, vocab: Vocab, prefix: string): number[] {
  const { state, probs } = runPrefix(lm, vocab, prefix);
  tf.dispose(state);
  return Array.from(probs);
}

/** Draws one character id: never <pad>, <unk> or <s>; temperature 0 = argmax. */
export function drawToken(
  probs: ArrayLike<number>,
  temperature: number,
  rand: () => number,
  banned: readonly number[],
): number {
  const n = probs.length;
  const w = new Float64Array(n);
  let best = -1;
  for (let i = 0; i < n; i++) {
    if (banned.includes(i)) continue;
    if (best < 0 || probs[i] > probs[best]) best = i;
    w[i] = temperature > 0 ? Math.exp(Math.log(Math.max(probs[i], 1e-30)) / temperature) : 0;
  }
  if (!(temperature > 0)) return best;
  let total = 0;
  for (let i = 0; i < n; i++) total += w[i];
  let r = rand() * total;
  for (let i = 0; i < n; i++) {
    r -= w[i];
    if (w[i] > 0 && r <= 0) return i;
  }
  return best;
}

function sampleName(
  lm: CharLanguageModel,
  vocab: Vocab,
  prefix: string,
  temperature: number,
  rand: () => number,
  maxLength: number,
): string {
  const start = nameChars(prefix).join('');
  let { state, probs } = runPrefix(lm, vocab, prefix);
  const banned = [0, 1, vocab.id(BOS)];
  const eos = vocab.id(EOS);
  let out = start;
  try {
    while (out.length < maxLength) {
      const id = drawToken(probs, temperature, rand, banned);
      if (id === eos) break;
      out += vocab.tokens[id];
      const next = tf.tidy(() => {
        const x = tf.tensor2d([[id]], [1, 1], 'int32');
        const [logits, s] = lm.forward(x, state);
        return { state: s, probs: tf.softmax(tf.reshape(logits, [-1])).dataSync() as Float32Array };
      }) as unknown as { state: LMState; probs: Float32Array };
      tf.dispose(state);
      state = next.state;
      probs = next.probs;
    }
  } finally {
    tf.dispose(state);
  }
  return out;
}

// Grapheme-to-phoneme (the g2p task): read a model file, pronounce words, ARPAbet -> IPA.
export { arpabetToIpa } from './g2p/ipa.js';
export { isG2pModel, Pronouncer, type Pronunciation } from './g2p/model.js';
