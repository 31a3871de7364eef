// Decoding a trained Seq2Seq (seq2seq/decode_*) against the same decoders written in Python
// (seq2seq_modules.greedy_decode and beam_search).
import * as tf from '@tensorflow/tfjs-core';
import { errors, pick } from './errors.mjs';

/** A decode_* fixture's model (eval mode, its weights loaded) and the helpers to read the Python decodes. */
export function trainedSeq2Seq({ t, config }, api) {
  const { kind, decodes, bos, eos, lengths, ...opts } = config;
  const m = new api.Seq2Seq(opts);
  m.loadStateDict(pick(t, 'param.'));
  m.eval();
  /** output.<run>.tokens: one array per source row, the -1 padding dropped. */
  const rows = (run) => {
    const [B, W] = t[`output.${run}.tokens`].shape;
    const d = Array.from(t[`output.${run}.tokens`].dataSync());
    return Array.from({ length: B }, (_, b) => d.slice(b * W, (b + 1) * W).filter((v) => v >= 0));
  };
  const scores = (run) => Array.from(t[`output.${run}.scores`].dataSync());
  const encode = () => m.encode(t['input.src'], Array.from(t['input.lengths'].dataSync()));
  return { m, decodes, bos, eos, rows, scores, encode };
}

/** Disposes a Seq2SeqState. */
export function disposeState(s) {
  tf.dispose([s.h, s.c, s.feed, ...Object.values(s.memory)]);
}

/**
 * Every run of `config.decodes` (greedy, and beam searches with their beamSize, lengthPenalty,
 * maxLength): the tokens must equal Python's, the scores are compared (absolute error).
 */
export function decodes(fixture, api) {
  const e = errors();
  const { m, decodes: runs, bos, eos, rows, scores, encode } = trainedSeq2Seq(fixture, api);
  let state;
  try {
    state = encode();
    for (const [run, opts] of Object.entries(runs)) {
      const r =
        run === 'greedy'
          ? api.greedyDecode(m, state, { ...opts, bos, eos })
          : api.beamSearch(m, state, { ...opts, bos, eos });
      r.tokens.forEach((tokens, b) => {
        e.same(`${run}.tokens[${b}]`, tokens, rows(run)[b]);
      });
      const want = scores(run);
      r.scores.forEach((s, b) => {
        e.value(`${run}.scores[${b}]`, s, want[b]);
      });
    }
  } finally {
    if (state) disposeState(state);
    m.dispose();
  }
  return e.result;
}
