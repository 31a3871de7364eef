import { type DecodeOptions, type DecodeResult, decodeRows, type StepModel } from './step-model.js';

/**
 * Greedy decoding: each row takes its most likely token (the lowest id among equal maxima) until
 * eos or `maxLength` tokens. All rows step together; finished rows are fed eos and ignored.
 * `init` (e.g. `seq2seq.encode(src, lengths)`) stays the caller's; every later state is disposed.
 * -> tokens: generated ids per row, without bos and eos; scores: summed log-probabilities (eos's
 * included). Example: `greedyDecode(model, model.encode(src, lengths), { maxLength: 30, bos: 1, eos: 2 })`.
 */
export function greedyDecode<S>(model: StepModel<S>, init: S, opts: DecodeOptions): DecodeResult {
  return decodeRows(model, init, opts, 'greedyDecode', [], () => argmax);
}

/** The index of the largest value, the lowest among equals. */
function argmax(row: Float32Array): number {
  let best = 0;
  for (let v = 1; v < row.length; v++) if (row[v] > row[best]) best = v;
  return best;
}
