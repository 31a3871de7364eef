import { randomStream } from '@rnnkit/ops/internal';
import { type DecodeOptions, type DecodeResult, decodeRows, type StepModel } from './step-model.js';

/** Options of sample: DecodeOptions and how tokens are drawn. */
export interface SampleOptions extends DecodeOptions {
  /** Divides the log-probabilities before sampling (< 1 sharper, > 1 flatter). @default 1 */
  temperature?: number;
  /** Sample among the k most likely tokens only. @default all */
  topK?: number;
  /** Sample among the fewest most likely tokens whose probability reaches p (nucleus). @default 1 */
  topP?: number;
  /** Own random stream, reproducible whatever else draws; without it the global one (manualSeed). @default the global stream */
  seed?: number;
}

/**
 * Ancestral sampling: per row, draws each token from softmax(logp / temperature), restricted by
 * topK then topP (ties to the lower id), until eos or `maxLength` tokens. -> tokens (no bos, no eos)
 * and scores: summed log-probabilities under the model itself (temperature 1, unfiltered).
 * `init` stays the caller's; every later state is disposed.
 */
export function sample<S>(model: StepModel<S>, init: S, opts: SampleOptions): DecodeResult {
  return decodeRows(model, init, opts, 'sample', ['temperature', 'topK', 'topP', 'seed'], () => {
    const temperature = opts.temperature ?? 1;
    if (typeof temperature !== 'number' || !(temperature > 0) || !Number.isFinite(temperature)) {
      throw new RangeError(
        `sample({ temperature }): expected a finite number > 0, got ${String(temperature)}`,
      );
    }
    const topK = opts.topK ?? Number.POSITIVE_INFINITY;
    if (opts.topK !== undefined && !(Number.isInteger(topK) && topK >= 1)) {
      throw new RangeError(`sample({ topK }): expected a positive integer, got ${String(topK)}`);
    }
    const topP = opts.topP ?? 1;
    if (typeof topP !== 'number' || !(topP > 0 && topP <= 1)) {
      throw new RangeError(`sample({ topP }): expected a number in (0, 1], got ${String(topP)}`);
    }
    const random = randomStream(opts.seed);
    return (row) => draw(row, temperature, topK, topP, random());
  });
}

/** One id from log-probabilities `row`, tempered and filtered, using the uniform number u in [0, 1). */
export function draw(
  row: ArrayLike<number>,
  temperature: number,
  topK: number,
  topP: number,
  u: number,
): number {
  const order = Array.from(row, (_, v) => v).sort((a, b) => row[b] - row[a] || a - b);
  const kept = order.slice(0, Math.min(topK, order.length));
  const top = row[kept[0]] / temperature;
  let p = kept.map((v) => Math.exp(row[v] / temperature - top));
  const total = p.reduce((a, b) => a + b, 0);
  p = p.map((x) => x / total);
  let n = 0;
  for (let acc = 0; n < p.length && (n === 0 || acc < topP); n++) acc += p[n];
  const mass = p.slice(0, n).reduce((a, b) => a + b, 0);
  let acc = 0;
  for (let i = 0; i < n; i++) {
    acc += p[i] / mass;
    if (u < acc) return kept[i];
  }
  return kept[n - 1];
}
