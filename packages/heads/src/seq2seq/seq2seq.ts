import { dropout, Embedding, Linear, Module, ShapeError } from '@rnnkit/ops';
import { checkIds, fmtShape } from '@rnnkit/ops/internal';
import { type CellKind, createLayer, type RecurrentLayer } from '@rnnkit/rnn';
import * as tf from '@tensorflow/tfjs-core';
import { Attention, type AttentionMode } from './attention.js';
import { fusedStep, type StepResult } from './fused.js';
import { resolveSeq2SeqOptions, type Seq2SeqOptions } from './options.js';
import { checkSource, checkState, keepState, markState, type Seq2SeqState } from './state.js';

/**
 * Encoder-decoder with attention (Luong et al. 2015), as `Seq2Seq` in tooling/golden/seq2seq_modules.py:
 * src_embedding -> encoder (RNN | LSTM | GRU, batch first, packed by srcLengths) -> bridge ->
 * tgt_embedding -> decoder -> attention over the encoder outputs -> combine -> out.
 * - bridge: a unidirectional encoder's final states start the decoder as they are; a bidirectional
 *   one's are joined per layer: h = tanh(bridge_h([h_fwd; h_bwd])), c = bridge_c([c_fwd; c_bwd]).
 * - attentional state a_t = tanh(combine([context_t; h_t])) (no bias); logits = out(a_t). Without
 *   attention, logits = out(h_t). With input feeding the decoder reads [embedding; a_{t-1}] (a_{-1} = 0).
 * Keys: src_embedding.weight, encoder.*, bridge_h.*, bridge_c.* (LSTM), tgt_embedding.weight,
 * decoder.*, attention.*, combine.weight [H, D*H + H], out.weight [V, H], out.bias.
 * @example
 * ```ts
 * const model = new Seq2Seq({ srcVocab: 30, tgtVocab: 40, embeddingDim: 64, hiddenSize: 128,
 *   cell: 'lstm', bidirectionalEncoder: true, attention: 'general' });
 * const logits = model.forward(src, [9, 6], tgtIn); // src int32 [2, 9], tgtIn int32 [2, T] -> [2, T, 40]
 * const { tokens } = beamSearch(model, model.encode(src, [9, 6]), { maxLength: 30, bos: 1, eos: 2, beamSize: 4 });
 * ```
 */
export class Seq2Seq extends Module {
  /** Source vocabulary size. */
  readonly srcVocab: number;
  /** V, the target vocabulary size. */
  readonly tgtVocab: number;
  /** H, the size of every recurrent layer. */
  readonly hiddenSize: number;
  /** Layers of the encoder and of the decoder. */
  readonly numLayers: number;
  /** The recurrent cell of the encoder and the decoder. */
  readonly cell: CellKind;
  /** The attention scorer, or 'none'. */
  readonly attentionMode: AttentionMode | 'none';
  /** Whether the decoder reads the previous attentional state with each token. */
  readonly inputFeeding: boolean;
  /** Dropout probability in training mode. */
  readonly dropoutP: number;
  /** [srcVocab, E], key `src_embedding`. */
  readonly srcEmbedding: Embedding;
  /** Batch-first recurrent layer over the source, key prefix `encoder.`. */
  readonly encoder: RecurrentLayer;
  /** Bidirectional encoder: h bridge [H, 2H] + bias, key `bridge_h`; otherwise null. */
  readonly bridgeH: Linear | null = null;
  /** Bidirectional LSTM encoder: c bridge [H, 2H] + bias, key `bridge_c`; otherwise null. */
  readonly bridgeC: Linear | null = null;
  /** [tgtVocab, E], key `tgt_embedding`. */
  readonly tgtEmbedding: Embedding;
  /** Batch-first unidirectional recurrent layer over the target, key prefix `decoder.`. */
  readonly decoder: RecurrentLayer;
  /** Attention over the encoder's outputs, key prefix `attention.`; null without attention. */
  readonly attention: Attention | null = null;
  /** [H, D*H + H] (no bias), key `combine`; null without attention. */
  readonly combine: Linear | null = null;
  /** [V, H] + bias [V], key `out`. */
  readonly out: Linear;

  constructor(opts: Seq2SeqOptions) {
    super();
    const o = resolveSeq2SeqOptions(opts);
    const { embeddingDim: E, hiddenSize: H, bidirectionalEncoder: bidir } = o;
    this.srcVocab = o.srcVocab;
    this.tgtVocab = o.tgtVocab;
    this.hiddenSize = H;
    this.cell = o.cell;
    this.numLayers = o.numLayers;
    this.attentionMode = o.attention;
    this.inputFeeding = o.inputFeeding;
    this.dropoutP = o.dropout;
    const D = bidir ? 2 : 1;
    const rnnOpts = { hiddenSize: H, numLayers: this.numLayers, dropout: this.dropoutP };
    try {
      this.srcEmbedding = this.registerModule('src_embedding', new Embedding(this.srcVocab, E));
      this.encoder = this.registerModule(
        'encoder',
        createLayer(this.cell, {
          ...rnnOpts,
          inputSize: E,
          batchFirst: true,
          bidirectional: bidir,
        }),
      );
      if (bidir) {
        this.bridgeH = this.registerModule('bridge_h', new Linear(2 * H, H));
        if (this.cell === 'lstm')
          this.bridgeC = this.registerModule('bridge_c', new Linear(2 * H, H));
      }
      this.tgtEmbedding = this.registerModule('tgt_embedding', new Embedding(this.tgtVocab, E));
      const decIn = E + (this.inputFeeding ? H : 0);
      this.decoder = this.registerModule(
        'decoder',
        createLayer(this.cell, { ...rnnOpts, inputSize: decIn, batchFirst: true }),
      );
      if (this.attentionMode !== 'none') {
        const mode = this.attentionMode;
        this.attention = this.registerModule(
          'attention',
          new Attention({ querySize: H, keySize: D * H, mode }),
        );
        this.combine = this.registerModule('combine', new Linear(D * H + H, H, { bias: false }));
      }
      this.out = this.registerModule('out', new Linear(H, this.tgtVocab));
    } catch (e) {
      this.dispose();
      throw e;
    }
  }

  /** Target vocabulary size: decoders check bos/eos against it. */
  get vocabSize(): number {
    return this.tgtVocab;
  }

  /** src: int32 [B, S], srcLengths: B lengths in [1, S] -> the decoder's initial state (memory). */
  encode(src: tf.Tensor | number[][], srcLengths: ArrayLike<number>): Seq2SeqState {
    this.assertAlive();
    const { ids, lengths } = checkSource(src, srcLengths, this.srcVocab, 'Seq2Seq.encode');
    try {
      const state = keepState(() => {
        const x = this.drop(this.srcEmbedding.forward(ids));
        const full = lengths.every((n) => n === ids.shape[1]);
        const lopts = full ? {} : { lengths };
        const [keys, final] = this.encoder.forward(x, undefined, lopts);
        const finals = Array.isArray(final) ? final : [final];
        const [h, c] = finals.map((s, i) => this.bridge(s, i === 0 ? this.bridgeH : this.bridgeC));
        const memory = this.attention
          ? this.attention.prepare(keys, full ? null : lengths)
          : { keys: keys as tf.Tensor3D, projected: null, valid: null };
        const B = ids.shape[0] as number;
        return {
          memory,
          h,
          ...(c ? { c } : {}),
          ...(this.inputFeeding ? { feed: tf.zeros([B, this.hiddenSize]) as tf.Tensor2D } : {}),
        };
      });
      markState(state, this, ids.shape[0] as number);
      return state;
    } finally {
      if (ids !== src) ids.dispose();
    }
  }

  /**
   * Teacher forcing. src: int32 [B, S], srcLengths, tgtIn: int32 [B, T] (bos first) -> logits [B, T, V].
   * Without input feeding the decoder reads the whole target in one call and attention is batched;
   * with it, the decoder runs step by step.
   */
  forward(src: tf.Tensor, srcLengths: ArrayLike<number>, tgtIn: tf.Tensor): tf.Tensor {
    this.assertAlive();
    const tgt = checkIds(tgtIn, this.tgtVocab, 'Seq2Seq.forward(tgtIn)');
    try {
      const B = (src as tf.Tensor).shape?.[0];
      if (tgt.rank !== 2 || tgt.shape[0] !== B || tgt.shape[1] === 0) {
        throw new ShapeError(
          `Seq2Seq.forward(tgtIn): expected token ids [${B ?? 'B'}, T >= 1] (B from src), got ${fmtShape(tgt.shape)}`,
        );
      }
      return tf.tidy(() => {
        // encoded inside the scope, so the memory is freed with every other intermediate
        const state = this.encode(src, srcLengths);
        const emb = this.drop(this.tgtEmbedding.forward(tgt));
        if (!this.inputFeeding) return this.decode(emb, state).logits;
        const T = tgt.shape[1] as number;
        let s = state;
        const logits: tf.Tensor[] = [];
        for (let t = 0; t < T; t++) {
          const e = tf.slice(emb, [0, t, 0], [-1, 1, -1]);
          const r = this.decode(e, s);
          logits.push(r.logits);
          s = r.state;
        }
        return tf.concat(logits, 1);
      });
    } finally {
      if (tgt !== tgtIn) tgt.dispose();
    }
  }

  /**
   * One decoder step: tokens int32 [B] (the previous output, bos first) and a state (from `encode`
   * or the previous step) -> logits [B, V], the next state, attention weights [B, S] (none without
   * attention). The given state is left as it is; the new one shares its memory tensors.
   */
  step(
    tokens: tf.Tensor | number[],
    state: Seq2SeqState,
  ): {
    /** [B, V] */
    logits: tf.Tensor2D;
    /** the state for the next step */
    state: Seq2SeqState;
    /** [B, S], the attention weights over the source (absent without attention) */
    attention?: tf.Tensor2D;
  } {
    this.assertAlive();
    const ids = checkIds(tokens, this.tgtVocab, 'Seq2Seq.step(tokens)');
    try {
      const B = checkState(state, this, 'Seq2Seq.step(state)');
      if (ids.rank !== 1 || ids.shape[0] !== B) {
        throw new ShapeError(
          `Seq2Seq.step(tokens): expected token ids [${B}] (B from the state), got ${fmtShape(ids.shape)}`,
        );
      }
      const out = fusedStep(this, ids, state) ?? this.stepOps(ids, state);
      markState(out.state, this, B);
      return out;
    } finally {
      if (ids !== tokens) ids.dispose();
    }
  }

  /** step without the kernel: ids int32 [B] (checked), state (checked). */
  private stepOps(ids: tf.Tensor, state: Seq2SeqState): StepResult {
    return keepState(() => {
      const emb = this.drop(this.tgtEmbedding.forward(tf.expandDims(ids, 1)));
      const { logits, state: next, weights } = this.decode(emb, state);
      const out: StepResult = { logits: tf.squeeze(logits, [1]) as tf.Tensor2D, state: next };
      if (weights) out.attention = tf.squeeze(weights, [1]) as tf.Tensor2D;
      return out;
    });
  }

  /**
   * Beam search's reorder: rows `index` of the decoder state (h, c, feed); the memory is shared as
   * it is, since beams only move among the rows of one source.
   */
  reorderBeams(state: Seq2SeqState, index: tf.Tensor1D): Seq2SeqState {
    return keepState(() => ({
      memory: state.memory,
      h: tf.gather(state.h, index),
      ...(state.c ? { c: tf.gather(state.c, index) } : {}),
      ...(state.feed ? { feed: tf.gather(state.feed, index) } : {}),
    }));
  }

  /** emb [B, T, E] from state -> logits [B, T, V], the state after T steps, weights [B, T, S]. */
  private decode(
    emb: tf.Tensor,
    state: Seq2SeqState,
  ): { logits: tf.Tensor; state: Seq2SeqState; weights: tf.Tensor | null } {
    const x = state.feed ? tf.concat([emb, tf.expandDims(state.feed, 1)], 2) : emb;
    const h0 = tf.transpose(state.h, [1, 0, 2]);
    const s0: tf.Tensor | [tf.Tensor, tf.Tensor] = state.c
      ? [h0, tf.transpose(state.c, [1, 0, 2])]
      : h0;
    const [out, final] = this.decoder.forward(x, s0);
    const [h, c] = Array.isArray(final) ? final : [final];
    let hidden = out;
    let weights: tf.Tensor | null = null;
    if (this.attention) {
      const a = this.attention.attend(out, state.memory);
      weights = a.weights;
      hidden = tf.tanh(this.combine!.forward(tf.concat([a.context, out], 2)));
    }
    const logits = this.out.forward(this.drop(hidden));
    const next: Seq2SeqState = {
      memory: state.memory,
      h: tf.transpose(h, [1, 0, 2]) as tf.Tensor3D,
      ...(c ? { c: tf.transpose(c, [1, 0, 2]) as tf.Tensor3D } : {}),
      ...(state.feed ? { feed: lastStep(hidden) } : {}),
    };
    return { logits, state: next, weights };
  }

  /** Final states [L*D, B, H] -> the decoder's [B, L, H] (bridged when bidirectional). */
  private bridge(s: tf.Tensor, lin: Linear | null): tf.Tensor3D {
    const [LD, B, H] = s.shape as number[];
    if (!this.bridgeH) return tf.transpose(s, [1, 0, 2]) as tf.Tensor3D;
    // [L, 2, B, H] -> [B, L, 2H]: each layer's forward and backward state side by side
    const joined = tf.reshape(tf.transpose(tf.reshape(s, [LD / 2, 2, B, H]), [2, 0, 1, 3]), [
      B,
      LD / 2,
      2 * H,
    ]);
    const y = lin!.forward(joined);
    return (lin === this.bridgeH ? tf.tanh(y) : y) as tf.Tensor3D;
  }

  private drop(x: tf.Tensor): tf.Tensor {
    return this.training && this.dropoutP > 0 ? dropout(x, this.dropoutP, true) : x;
  }
}

/** x [B, T, F] -> its last step [B, F] */
function lastStep(x: tf.Tensor): tf.Tensor2D {
  const T = x.shape[1] as number;
  return tf.squeeze(tf.slice(x, [0, T - 1, 0], [-1, 1, -1]), [1]) as tf.Tensor2D;
}
