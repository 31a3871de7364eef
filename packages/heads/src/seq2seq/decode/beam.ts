import * as tf from '@tensorflow/tfjs-core';
import {
  checkDecode,
  type DecodeOptions,
  type DecodeResult,
  gatherState,
  releaseState,
  type StepModel,
  stepLogProbs,
} from './step-model.js';

/** Options of beamSearch: DecodeOptions and the beam's. */
export interface BeamSearchOptions extends DecodeOptions {
  /** K: hypotheses kept per row. */
  beamSize: number;
  /** Hypotheses are ranked by score / length^lengthPenalty (length counts eos); 0 ranks raw sums. @default 1 */
  lengthPenalty?: number;
}

/** One finished hypothesis: ids without eos, its summed log-probability and its ranking score. */
export interface Hypothesis {
  /** The generated ids, without bos and eos. */
  tokens: number[];
  /** Summed log-probability of the ids (eos's included). */
  logProb: number;
  /** logProb / length^lengthPenalty, by which hypotheses are ranked. */
  score: number;
}

export interface BeamSearchResult extends DecodeResult {
  /** Every finished hypothesis per row, best first. */
  hypotheses: Hypothesis[][];
}

interface Slot {
  tokens: number[];
  logProb: number;
}

/**
 * Beam search over B rows at once: K slots per row, all B*K hypotheses in one `step` call per
 * token. Each step a row keeps the n = K - (its finished hypotheses) best extensions of its live
 * slots (ties to the lower slot*V + id); an extension ending in eos is finished and leaves the
 * beam, which so shrinks until every row has K finished hypotheses (Sutskever et al. 2014); at
 * `maxLength` live hypotheses finish as they are. The best finished one by
 * logProb / length^lengthPenalty wins (the first found among equals). K = 1 is greedy decoding.
 * -> tokens (no bos, no eos) and that ranking score per row, plus every hypothesis.
 * `init` stays the caller's; every state made here is disposed.
 */
export function beamSearch<S>(
  model: StepModel<S>,
  init: S,
  opts: BeamSearchOptions,
): BeamSearchResult {
  const { B, maxLength, bos, eos } = checkDecode(model, init, opts, 'beamSearch', [
    'beamSize',
    'lengthPenalty',
  ]);
  const K = checkBeamSize(opts.beamSize);
  const penalty = opts.lengthPenalty ?? 1;
  if (typeof penalty !== 'number' || !Number.isFinite(penalty)) {
    throw new RangeError(
      `beamSearch({ lengthPenalty }): expected a finite number, got ${String(penalty)}`,
    );
  }
  const slots: Array<Array<Slot | null>> = Array.from({ length: B }, () => [
    { tokens: [], logProb: 0 },
    ...new Array<null>(K - 1).fill(null),
  ]);
  const finished: Hypothesis[][] = Array.from({ length: B }, () => []);
  const finish = (b: number, tokens: number[], logProb: number, n: number) =>
    finished[b].push({ tokens, logProb, score: logProb / n ** penalty });
  let state = reorder(
    init,
    Array.from({ length: B * K }, (_, i) => Math.floor(i / K)),
  );
  const last = new Array<number>(B * K).fill(bos);
  try {
    for (let t = 0; t < maxLength; t++) {
      const r = stepLogProbs(model, last, state, 'beamSearch', eos);
      releaseState(state, r.state, init);
      state = r.state;
      const { logp, V } = r;
      const parents: number[] = [];
      for (let b = 0; b < B; b++) {
        const live = slots[b].flatMap((s, k) => (s ? [k] : []));
        const n = live.length ? K - finished[b].length : 0;
        const next: Array<Slot & { parent: number }> = [];
        for (const flat of topCandidates(logp, slots[b], live, b * K, V, n)) {
          const k = Math.floor(flat / V);
          const v = flat % V;
          const s = slots[b][k]!;
          const logProb = s.logProb + logp[(b * K + k) * V + v];
          if (v === eos) finish(b, s.tokens, logProb, s.tokens.length + 1);
          else next.push({ tokens: [...s.tokens, v], logProb, parent: k });
        }
        if (t === maxLength - 1) {
          for (const s of next) finish(b, s.tokens, s.logProb, s.tokens.length);
          next.length = 0;
        }
        for (let k = 0; k < K; k++) {
          const s = next[k];
          slots[b][k] = s ? { tokens: s.tokens, logProb: s.logProb } : null;
          parents.push(b * K + (s ? s.parent : 0));
          last[b * K + k] = s ? s.tokens[s.tokens.length - 1] : eos;
        }
      }
      if (slots.every((row) => row.every((s) => s === null))) break;
      const moved = reorder(state, parents, model);
      releaseState(state, moved, init);
      state = moved;
    }
  } finally {
    releaseState(state, init);
  }
  const hypotheses = finished.map((row) =>
    row
      .map((h, i) => ({ h, i }))
      .sort((a, b) => b.h.score - a.h.score || a.i - b.i)
      .map(({ h }) => h),
  );
  return {
    tokens: hypotheses.map((row) => row[0].tokens),
    scores: hypotheses.map((row) => row[0].score),
    hypotheses,
  };
}

/** Throws RangeError unless the beam size is a positive integer. */
function checkBeamSize(k: unknown): number {
  if (typeof k !== 'number' || !Number.isInteger(k) || k < 1) {
    throw new RangeError(`beamSearch({ beamSize }): expected a positive integer, got ${String(k)}`);
  }
  return k;
}

/** Flat ids (slot*V + v) of the n best extensions of the live slots, best first. */
function topCandidates(
  logp: Float32Array,
  row: Array<Slot | null>,
  live: number[],
  base: number,
  V: number,
  n: number,
): number[] {
  const best: Array<[number, number]> = []; // [score, flat], kept sorted, at most n
  for (const k of live) {
    const lp = row[k]!.logProb;
    for (let v = 0; v < V; v++) {
      const score = lp + logp[(base + k) * V + v];
      if (best.length === n && !(score > best[n - 1][0])) continue;
      let i = best.length;
      while (i > 0 && score > best[i - 1][0]) i--;
      best.splice(i, 0, [score, k * V + v]);
      if (best.length > n) best.pop();
    }
  }
  return best.map(([, flat]) => flat);
}

/** The state with rows `index`: the model's reorderBeams when it has one, else a gather per tensor. */
function reorder<S>(state: S, index: number[], model?: StepModel<S>): S {
  const ix = tf.tensor1d(index, 'int32');
  try {
    return model?.reorderBeams ? model.reorderBeams(state, ix) : gatherState(state, ix);
  } finally {
    ix.dispose();
  }
}
