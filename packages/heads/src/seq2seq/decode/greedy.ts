import {
  checkDecode,
  type DecodeOptions,
  type DecodeResult,
  releaseState,
  type StepModel,
  stepLogProbs,
} from './step-model.js';

/**
 * Greedy decoding: each row takes its most likely token (the lowest id among equal maxima) until
 * eos or `maxLength` tokens. All rows step together; finished rows are fed eos and ignored.
 * `init` (e.g. `seq2seq.encode(src, lengths)`) stays the caller's; every later state is disposed.
 * -> tokens: generated ids per row, without bos and eos; scores: summed log-probabilities (eos's
 * included). Example: `greedyDecode(model, model.encode(src, lengths), { maxLength: 30, bos: 1, eos: 2 })`.
 */
export function greedyDecode<S>(model: StepModel<S>, init: S, opts: DecodeOptions): DecodeResult {
  const { B, maxLength, bos, eos } = checkDecode(model, init, opts, 'greedyDecode', []);
  const tokens: number[][] = Array.from({ length: B }, () => []);
  const scores = new Array<number>(B).fill(0);
  const done = new Array<boolean>(B).fill(false);
  let last = new Array<number>(B).fill(bos);
  let state = init;
  try {
    for (let t = 0; t < maxLength && !done.every(Boolean); t++) {
      const r = stepLogProbs(model, last, state, 'greedyDecode', eos);
      if (state !== init) releaseState(state, r.state, init);
      state = r.state;
      const { logp, V } = r;
      last = last.map((_, b) => {
        if (done[b]) return eos;
        let best = 0;
        for (let v = 1; v < V; v++) if (logp[b * V + v] > logp[b * V + best]) best = v;
        scores[b] += logp[b * V + best];
        if (best === eos) done[b] = true;
        else tokens[b].push(best);
        return best;
      });
    }
  } finally {
    if (state !== init) releaseState(state, init);
  }
  return { tokens, scores };
}
