import { Linear, linear, Module, ShapeError } from '@rnnkit/ops';
import {
  assertFloat,
  assertInt,
  assertOneOf,
  assertRank,
  batchProduct,
  checkLengths,
  checkOptions,
  fmtShape,
  zeroPadding,
} from '@rnnkit/ops/internal';
import * as tf from '@tensorflow/tfjs-core';

/** How Attention scores a query against a key (see Attention). */
export type AttentionMode = 'dot' | 'general' | 'concat' | 'additive';
/** Every AttentionMode, for checks and option lists. */
export const ATTENTION_MODES: readonly AttentionMode[] = ['dot', 'general', 'concat', 'additive'];

/** Options of Attention. */
export interface AttentionOptions {
  /** Hq: size of a query vector. */
  querySize: number;
  /** Hk: size of a key (= value) vector. */
  keySize: number;
  /** The scorer: 'dot', 'general', 'concat' or 'additive' (see Attention). */
  mode: AttentionMode;
  /** A: hidden size of the 'concat' and 'additive' scorers (not used by the others). @default querySize */
  attentionSize?: number;
}

/**
 * Keys ready to be attended: padding zeroed, projected once for every later query.
 * Every tensor has the batch in dimension 0, so decoders can reorder it (beam search).
 */
export interface AttentionKeys {
  /** [B, Tk, Hk], 0 past each length */
  keys: tf.Tensor3D;
  /** 'general': keys W^T [B, Tk, Hq]; 'concat'/'additive': key half of the scorer [B, Tk, A]; 'dot': null */
  projected: tf.Tensor3D | null;
  /** bool [B, Tk], true on valid keys; null when every key is valid */
  valid: tf.Tensor2D | null;
}

/**
 * Attention over keys that are also the values, as Luong et al. (2015) and Bahdanau et al. (2015):
 * - dot: q.k (Hq = Hk); no parameters
 * - general: q.(W k), key `linear.weight` [Hq, Hk]
 * - concat: v.tanh(W [q; k]), keys `linear.weight` [A, Hq+Hk], `v.weight` [1, A]
 * - additive: v.tanh(Wq q + Wk k + b), keys `query_proj.weight` [A, Hq], `key_proj.weight` [A, Hk],
 *   `key_proj.bias` [A], `v.weight` [1, A]
 * The softmax runs over valid keys only: padded keys get weight exactly 0 whatever the scores
 * (NaN or Infinity in the padding included).
 * @example
 * ```ts
 * const att = new Attention({ querySize: 8, keySize: 16, mode: 'general' });
 * // q [2, 5, 8], keys [2, 7, 16] -> context [2, 5, 16], weights [2, 5, 7]
 * const { context, weights } = att.forward(q, keys, { lengths: [7, 4] });
 * ```
 */
export class Attention extends Module {
  /** Hq, the size of a query vector. */
  readonly querySize: number;
  /** Hk, the size of a key (= value) vector. */
  readonly keySize: number;
  /** The scorer. */
  readonly mode: AttentionMode;
  /** A, the scorer's hidden size for 'concat' and 'additive'; 0 for the others. */
  readonly attentionSize: number;
  /** 'general': W [Hq, Hk] (no bias); 'concat': W [A, Hq+Hk] (no bias); otherwise null. Key `linear`. */
  readonly linear: Linear | null = null;
  /** 'additive': Wq [A, Hq] (no bias), key `query_proj`; otherwise null. */
  readonly queryProj: Linear | null = null;
  /** 'additive': Wk [A, Hk] and b [A], key `key_proj`; otherwise null. */
  readonly keyProj: Linear | null = null;
  /** 'concat' and 'additive': v [1, A] (no bias), key `v`; otherwise null. */
  readonly v: Linear | null = null;

  constructor(opts: AttentionOptions) {
    super();
    checkOptions(opts, 'Attention', ['querySize', 'keySize', 'mode', 'attentionSize']);
    if (opts === undefined)
      throw new TypeError(
        'Attention: expected an options object { querySize, keySize, mode }, got undefined',
      );
    this.querySize = assertInt(opts.querySize, 'Attention({ querySize })');
    this.keySize = assertInt(opts.keySize, 'Attention({ keySize })');
    this.mode = assertOneOf(opts.mode, 'Attention({ mode })', ATTENTION_MODES);
    const scorer = this.mode === 'concat' || this.mode === 'additive';
    if (!scorer && opts.attentionSize !== undefined) {
      throw new TypeError(
        `Attention({ attentionSize }): only the 'concat' and 'additive' modes have one, got mode '${this.mode}'`,
      );
    }
    this.attentionSize = scorer
      ? assertInt(opts.attentionSize ?? this.querySize, 'Attention({ attentionSize })')
      : 0;
    if (this.mode === 'dot' && this.querySize !== this.keySize) {
      throw new ShapeError(
        `Attention({ mode: 'dot' }): expected querySize = keySize, got querySize ${this.querySize} and keySize ${this.keySize} (use 'general' to attend across sizes)`,
      );
    }
    const [Hq, Hk, A] = [this.querySize, this.keySize, this.attentionSize];
    const reg = (name: string, m: Linear) => this.registerModule(name, m);
    if (this.mode === 'general') this.linear = reg('linear', new Linear(Hk, Hq, { bias: false }));
    if (this.mode === 'concat')
      this.linear = reg('linear', new Linear(Hq + Hk, A, { bias: false }));
    if (this.mode === 'additive') {
      this.queryProj = reg('query_proj', new Linear(Hq, A, { bias: false }));
      this.keyProj = reg('key_proj', new Linear(Hk, A));
    }
    if (scorer) this.v = reg('v', new Linear(A, 1, { bias: false }));
  }

  /**
   * query: [B, Tq, Hq] (every step) or [B, Hq] (one step), keys: [B, Tk, Hk], lengths: valid keys
   * per row (each in [1, Tk]) -> { context: [B, Tq, Hk] | [B, Hk], weights: [B, Tq, Tk] | [B, Tk] }
   */
  forward(
    query: tf.Tensor,
    keys: tf.Tensor,
    opts: { lengths?: ArrayLike<number> } = {},
  ): {
    /** [B, Tq, Hk] | [B, Hk]: the weighted sum of the keys */
    context: tf.Tensor;
    /** [B, Tq, Tk] | [B, Tk]: softmax over the valid keys, 0 on padding */
    weights: tf.Tensor;
  } {
    this.assertAlive();
    checkOptions(opts, 'Attention.forward', ['lengths']);
    assertRank(keys, 'Attention.forward(keys)', [3], `[B, Tk, ${this.keySize}]`);
    assertFloat(keys, 'Attention.forward(keys)');
    const [B, Tk, Hk] = keys.shape;
    if (Hk !== this.keySize || Tk === 0) {
      throw new ShapeError(
        `Attention.forward(keys): expected [B, Tk >= 1, ${this.keySize}], got ${fmtShape(keys.shape)}`,
      );
    }
    this.checkQuery(query, B, 'Attention.forward(query)');
    const lengths = checkLengths(opts.lengths, 'Attention.forward(opts.lengths)', B, Tk);
    return tf.tidy(() => {
      const prepared = this.prepare(keys, lengths);
      return this.attend(query, prepared);
    });
  }

  /** Throws unless query is [B, Hq] or [B, Tq, Hq] float32. */
  checkQuery(query: unknown, B: number, arg: string): asserts query is tf.Tensor {
    assertRank(query, arg, [2, 3], `[B, ${this.querySize}] or [B, Tq, ${this.querySize}]`);
    assertFloat(query, arg);
    if (query.shape[0] !== B || query.shape[query.rank - 1] !== this.querySize) {
      throw new ShapeError(
        `${arg}: expected [${B}, ${this.querySize}] or [${B}, Tq, ${this.querySize}] (B from keys), got ${fmtShape(query.shape)}`,
      );
    }
  }

  /** keys [B, Tk, Hk] (checked), lengths (checked or null) -> keys ready for `attend`. Caller tidies. */
  prepare(keys: tf.Tensor, lengths: number[] | null): AttentionKeys {
    const [B, Tk] = keys.shape as number[];
    let valid: tf.Tensor2D | null = null;
    let k = keys as tf.Tensor3D;
    if (lengths?.some((n) => n < Tk)) {
      const data = new Uint8Array(B * Tk);
      for (let b = 0; b < B; b++) data.fill(1, b * Tk, b * Tk + lengths[b]);
      valid = tf.tensor2d(data, [B, Tk], 'bool');
      k = zeroPadding(keys, lengths) as tf.Tensor3D;
    }
    let projected: tf.Tensor3D | null = null;
    if (this.mode === 'general') projected = linear(k, this.linear!.weight, null) as tf.Tensor3D;
    if (this.mode === 'concat') {
      const wk = tf.slice(this.linear!.weight, [0, this.querySize], [-1, this.keySize]);
      projected = linear(k, wk, null) as tf.Tensor3D;
    }
    if (this.mode === 'additive') projected = this.keyProj!.forward(k) as tf.Tensor3D;
    return { keys: k, projected, valid };
  }

  /**
   * query [B, Tq, Hq] | [B, Hq] against prepared keys -> context and weights (see forward).
   * Inputs are not checked here (the caller did). Caller tidies.
   */
  attend(
    query: tf.Tensor,
    prepared: AttentionKeys,
  ): {
    /** [B, Tq, Hk] | [B, Hk] */
    context: tf.Tensor;
    /** [B, Tq, Tk] | [B, Tk] */
    weights: tf.Tensor;
  } {
    const q = (query.rank === 2 ? tf.expandDims(query, 1) : query) as tf.Tensor3D;
    const weights = maskedSoftmax(this.scores(q, prepared), prepared.valid);
    const context = batchProduct(weights, prepared.keys);
    if (query.rank === 3) return { context, weights };
    return { context: tf.squeeze(context, [1]), weights: tf.squeeze(weights, [1]) };
  }

  /** q [B, Tq, Hq] -> scores [B, Tq, Tk] */
  private scores(q: tf.Tensor3D, p: AttentionKeys): tf.Tensor3D {
    if (this.mode === 'dot') return batchProduct(q, p.keys, true);
    if (this.mode === 'general') return batchProduct(q, p.projected!, true);
    const [B, Tq] = q.shape;
    const Tk = p.keys.shape[1];
    const A = this.attentionSize;
    const wq =
      this.mode === 'concat'
        ? tf.slice(this.linear!.weight, [0, 0], [-1, this.querySize])
        : this.queryProj!.weight;
    const qp = linear(q, wq, null); // [B, Tq, A]
    const hidden = tf.tanh(
      tf.add(tf.reshape(qp, [B, Tq, 1, A]), tf.reshape(p.projected!, [B, 1, Tk, A])),
    );
    return tf.reshape(linear(hidden, this.v!.weight, null), [B, Tq, Tk]);
  }
}

/**
 * softmax over the last axis of scores [B, Tq, Tk], restricted to valid keys (bool [B, Tk]).
 * Padded keys get exactly 0 and no gradient: their scores are replaced, not offset, so neither
 * -1e30 on valid keys nor NaN/Infinity on padded ones changes the result.
 */
export function maskedSoftmax(scores: tf.Tensor3D, valid: tf.Tensor2D | null): tf.Tensor3D {
  if (valid === null) return tf.softmax(scores);
  const mask = tf.broadcastTo(tf.expandDims(valid, 1), scores.shape);
  const lowest = tf.fill(scores.shape, Number.NEGATIVE_INFINITY);
  const top = tf.max(tf.where(mask, scores, lowest), 2, true);
  // padded scores become the row's max (exp(0) = 1, finite) before the exp, then 0 after it
  const shifted = tf.sub(tf.where(mask, scores, tf.broadcastTo(top, scores.shape)), top);
  const zero = tf.zerosLike(scores);
  const e = tf.where(mask, tf.exp(shifted), zero);
  // selected again after the division: a NaN sum (a +Infinity score) must not reach padded keys
  return tf.where(mask, tf.div(e, tf.sum(e, 2, true)), zero) as tf.Tensor3D;
}
