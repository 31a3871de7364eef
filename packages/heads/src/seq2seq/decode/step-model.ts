import { ShapeError } from '@rnnkit/ops';
import { assertInt, checkOptions, describeValue, fmtShape } from '@rnnkit/ops/internal';
import * as tf from '@tensorflow/tfjs-core';

/**
 * Anything that decodes one token at a time: Seq2Seq, or a language model. `state` may be any
 * object or array whose tensors all have the batch in dimension 0 (the decoders repeat and reorder
 * rows with one gather per tensor); `step` must not dispose the state it is given.
 */
export interface StepModel<S = unknown> {
  /** tokens int32 [B] (the previous ids, bos first) and a state -> logits [B, V] and the next state. */
  step(
    tokens: tf.Tensor1D,
    state: S,
  ): {
    /** [B, V], unnormalised */
    logits: tf.Tensor;
    /** the state for the next step */
    state: S;
  };
  /** When present, bos and eos are checked against it before the first step. */
  readonly vocabSize?: number;
  /**
   * Optional, for beam search: the state with rows `index`, where a row only ever moves among the
   * beams of its own batch row (so a model may keep per-source tensors, e.g. attention memory, as
   * they are). Without it every tensor is gathered.
   */
  reorderBeams?(state: S, index: tf.Tensor1D): S;
}

/** What every decoder returns: per batch row, the generated ids (no bos, no eos) and a score. */
export interface DecodeResult {
  /** Per row, the generated ids without bos and eos. */
  tokens: number[][];
  /** Per row, the summed log-probability (beamSearch: the ranking score). */
  scores: number[];
}

/** Options every decoder (greedyDecode, sample, beamSearch) takes. */
export interface DecodeOptions {
  /** Most tokens generated per row, eos included. */
  maxLength: number;
  /** Fed as the first token; never in the output. */
  bos: number;
  /** Ends a row; not in the output (its log-probability is in the score). */
  eos: number;
}

/** Every tensor in a state tree, each once. */
export function stateTensors(state: unknown, out = new Set<tf.Tensor>()): Set<tf.Tensor> {
  if (state instanceof tf.Tensor) out.add(state);
  else if (Array.isArray(state)) for (const v of state) stateTensors(v, out);
  else if (state !== null && typeof state === 'object')
    for (const v of Object.values(state)) stateTensors(v, out);
  return out;
}

/** The batch size of a state tree (dimension 0 of every tensor, which must agree). */
export function stateBatch(state: unknown, arg: string): number {
  const tensors = [...stateTensors(state)];
  if (tensors.length === 0) {
    throw new TypeError(
      `${arg}: expected a state holding at least one tensor with the batch in dimension 0, got ${describeValue(state)}`,
    );
  }
  for (const t of tensors) {
    if (t.isDisposed) throw new TypeError(`${arg}: holds a tensor that was already disposed`);
    if (t.rank === 0 || t.shape[0] !== tensors[0].shape[0]) {
      throw new ShapeError(
        `${arg}: expected every tensor to have the batch in dimension 0, got shapes ${fmtShape(tensors[0].shape)} and ${fmtShape(t.shape)}`,
      );
    }
  }
  return tensors[0].shape[0];
}

/** The same tree with rows `index` of every tensor (a new tensor per tensor). */
export function gatherState<S>(state: S, index: tf.Tensor1D): S {
  const walk = (v: unknown): unknown => {
    if (v instanceof tf.Tensor) return tf.gather(v, index, 0);
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object')
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(state) as S;
}

/** Disposes the tensors of `old` that are in none of `keep` (a later state may share some). */
export function releaseState(old: unknown, ...keep: unknown[]): void {
  const kept = new Set<tf.Tensor>();
  for (const k of keep) stateTensors(k, kept);
  for (const t of stateTensors(old)) if (!kept.has(t)) t.dispose();
}

/** Checks the options every decoder shares; returns them with B, and V when the model tells it. */
export function checkDecode(
  model: unknown,
  init: unknown,
  opts: DecodeOptions,
  where: string,
  extra: string[],
): { B: number; maxLength: number; bos: number; eos: number } {
  if (model === null || typeof (model as StepModel)?.step !== 'function') {
    throw new TypeError(
      `${where}(model): expected a StepModel (an object with step(tokens, state)), got ${describeValue(model)}`,
    );
  }
  checkOptions(opts, where, ['maxLength', 'bos', 'eos', ...extra]);
  if (opts === undefined) throw new TypeError(`${where}: expected options { maxLength, bos, eos }`);
  const maxLength = assertInt(opts.maxLength, `${where}({ maxLength })`);
  const V = (model as StepModel).vocabSize;
  const id = (v: unknown, name: string) => {
    const n = assertInt(v, `${where}({ ${name} })`, 0);
    if (V !== undefined && n >= V) {
      throw new RangeError(
        `${where}({ ${name} }): expected a token id in [0, ${V - 1}] (the model's vocabulary), got ${n}`,
      );
    }
    return n;
  };
  const bos = id(opts.bos, 'bos');
  const eos = id(opts.eos, 'eos');
  return { B: stateBatch(init, `${where}(init)`), maxLength, bos, eos };
}

/**
 * One step: feeds `last` (B ids) -> log-probabilities [B*V] (float32, read back) and the new state.
 * Checks the logits' shape, and on the first call that eos fits the vocabulary.
 */
export function stepLogProbs<S>(
  model: StepModel<S>,
  last: number[],
  state: S,
  where: string,
  eos: number,
): { logp: Float32Array; V: number; state: S } {
  const tokens = tf.tensor1d(last, 'int32');
  let r: { logits: tf.Tensor; state: S };
  try {
    r = model.step(tokens, state);
  } finally {
    tokens.dispose();
  }
  const { logits } = r;
  try {
    if (!(logits instanceof tf.Tensor) || logits.rank !== 2 || logits.shape[0] !== last.length) {
      throw new ShapeError(
        `${where}(model): step() must return logits [${last.length}, V], got ${describeValue(logits)}`,
      );
    }
    const V = logits.shape[1] as number;
    if (eos >= V) {
      throw new RangeError(
        `${where}({ eos }): expected a token id in [0, ${V - 1}] (the model's vocabulary), got ${eos}`,
      );
    }
    const lp = tf.logSoftmax(logits);
    const logp = lp.dataSync() as Float32Array;
    lp.dispose();
    return { logp, V, state: r.state };
  } catch (e) {
    releaseState(r.state, state);
    throw e;
  } finally {
    // logits and whatever else step returned (Seq2Seq's attention weights), but not the states
    const { state: next, ...rest } = r;
    releaseState(rest, next, state);
  }
}

/**
 * The loop greedy decoding and sampling share. Checks the shared options (`checkDecode`, with the
 * decoder's `extra` keys), then `makePick` (which checks the decoder's own options) gives how a
 * live row chooses its next id from its log-probabilities [V]. All B rows step together from bos; a
 * row ends at eos (then is fed eos and ignored) or after `maxLength` tokens. -> tokens (no bos, no
 * eos) and the summed log-probabilities of the picks (eos's included). `init` stays the caller's;
 * every later state is disposed.
 */
export function decodeRows<S>(
  model: StepModel<S>,
  init: S,
  opts: DecodeOptions,
  where: string,
  extra: string[],
  makePick: () => (logp: Float32Array) => number,
): DecodeResult {
  const { B, maxLength, bos, eos } = checkDecode(model, init, opts, where, extra);
  const pick = makePick();
  const tokens: number[][] = Array.from({ length: B }, () => []);
  const scores = new Array<number>(B).fill(0);
  const done = new Array<boolean>(B).fill(false);
  let last = new Array<number>(B).fill(bos);
  let state = init;
  try {
    for (let t = 0; t < maxLength && !done.every(Boolean); t++) {
      const r = stepLogProbs(model, last, state, where, eos);
      if (state !== init) releaseState(state, r.state, init);
      state = r.state;
      const { logp, V } = r;
      last = last.map((_, b) => {
        if (done[b]) return eos;
        const row = logp.subarray(b * V, (b + 1) * V);
        const v = pick(row);
        scores[b] += row[v];
        if (v === eos) done[b] = true;
        else tokens[b].push(v);
        return v;
      });
    }
  } finally {
    if (state !== init) releaseState(state, init);
  }
  return { tokens, scores };
}
