import { Embedding, Linear, Module, numericsChecked, ShapeError } from '@rnnkit/ops';
import {
  assertBool,
  assertFinite,
  assertFloat,
  assertInt,
  assertOneOf,
  assertProbability,
  assertRank,
  assertShape,
  checkIds,
  checkLengths,
  checkOptions,
  fmtShape,
} from '@rnnkit/ops/internal';
import { assertCellKind, type CellKind, createLayer, type RecurrentLayer } from '@rnnkit/rnn';
import * as tf from '@tensorflow/tfjs-core';
import { AttentionPooling } from './attention.js';
import { POOLINGS, type Pooling, pool } from './pool.js';

/** The recurrent cell kind: a key of @rnnkit/rnn's `CELL_KINDS`. */
export type CellType = CellKind;

/** Options of {@link SequenceEncoder}: give `{ vocabSize, embeddingDim }` or `{ inputSize }`. */
export interface SequenceEncoderOptions {
  /**
   * With embeddingDim, input is int32 token ids [B, T] looked up in `embedding`.
   * @default none (float features)
   */
  vocabSize?: number;
  /**
   * Size of each token's embedding (the recurrent layer's input size).
   * @default none
   */
  embeddingDim?: number;
  /**
   * The embedding's padding row (see Embedding).
   * @default none
   */
  paddingIdx?: number;
  /**
   * Without an embedding: input is float features [B, T, inputSize].
   * @default none
   */
  inputSize?: number;
  /** The recurrent cell: 'rnn', 'lstm' or 'gru'. */
  cell: CellType;
  /** Features in the recurrent layer's hidden state. */
  hiddenSize: number;
  /**
   * Stacked recurrent layers.
   * @default 1
   */
  numLayers?: number;
  /**
   * A bidirectional recurrent layer (features D*H with D = 2).
   * @default false
   */
  bidirectional?: boolean;
  /**
   * Dropout between recurrent layers (numLayers > 1), as PyTorch.
   * @default 0
   */
  dropout?: number;
  /** How the steps are pooled (see pool()). */
  pooling: Pooling;
  /**
   * A Linear from the pooled features (D*H, per step for 'none') to this size.
   * @default none (no projection)
   */
  outputSize?: number;
}

const KEYS = [
  'vocabSize',
  'embeddingDim',
  'paddingIdx',
  'inputSize',
  'cell',
  'hiddenSize',
  'numLayers',
  'bidirectional',
  'dropout',
  'pooling',
  'outputSize',
];

/**
 * [Embedding] -> RNN | LSTM | GRU (batch first) -> pooling -> [Linear].
 * Keys: embedding.weight, rnn.weight_ih_l0 ..., attention.weight/bias, proj.weight/bias.
 * forward: ids int32 [B, T] | features [B, T, E] -> [B, outputSize | D*H] (pooled),
 * [B, T, outputSize | D*H] ('none') or [B, T*D*H] ('flatten').
 * @example
 * ```ts
 * // a spam classifier: token ids -> bi-GRU -> mean over valid steps -> 2 logits
 * const enc = new SequenceEncoder({ vocabSize: 5000, embeddingDim: 64, paddingIdx: 0, cell: 'gru',
 *   hiddenSize: 64, bidirectional: true, pooling: 'mean', outputSize: 2 });
 * const logits = enc.forward(ids, { lengths }); // ids int32 [B, T] -> [B, 2]
 * ```
 */
export class SequenceEncoder extends Module {
  /** The token embedding (key prefix `embedding.`), or null for float features. */
  readonly embedding: Embedding | null;
  /** The recurrent layer, batch first (key prefix `rnn.`). */
  readonly rnn: RecurrentLayer;
  /** The attention scorer of pooling 'attention' (key prefix `attention.`), else null. */
  readonly attention: AttentionPooling | null;
  /** The output projection (key prefix `proj.`), or null without outputSize. */
  readonly proj: Linear | null;
  /** The pooling mode. */
  readonly pooling: Pooling;
  /** The recurrent cell kind. */
  readonly cell: CellType;
  /** The recurrent layer's input size (embeddingDim or inputSize). */
  readonly inputSize: number;

  constructor(opts: SequenceEncoderOptions, name = 'SequenceEncoder', extra: string[] = []) {
    super();
    checkOptions(opts, name, [...KEYS, ...extra]);
    if (opts === undefined)
      throw new TypeError(
        `${name}: expected an options object { cell, hiddenSize, pooling, ... }, got undefined`,
      );
    this.cell = assertCellKind(opts.cell, `${name}({ cell })`);
    this.pooling = assertOneOf(opts.pooling, `${name}({ pooling })`, POOLINGS);
    const hiddenSize = assertInt(opts.hiddenSize, `${name}({ hiddenSize })`);
    const bidirectional = assertBool(opts.bidirectional ?? false, `${name}({ bidirectional })`);
    const numLayers = assertInt(opts.numLayers ?? 1, `${name}({ numLayers })`);
    const dropout = assertProbability(opts.dropout ?? 0, `${name}({ dropout })`);
    // Validate every option before creating any module, so a bad option leaves no variables behind.
    let vocab = 0;
    if (opts.vocabSize !== undefined || opts.embeddingDim !== undefined) {
      if (opts.inputSize !== undefined) {
        throw new TypeError(
          `${name}: give either { vocabSize, embeddingDim } (token ids) or { inputSize } (features), not both`,
        );
      }
      vocab = assertInt(opts.vocabSize, `${name}({ vocabSize })`);
      this.inputSize = assertInt(opts.embeddingDim, `${name}({ embeddingDim })`);
    } else {
      if (opts.paddingIdx !== undefined)
        throw new TypeError(`${name}({ paddingIdx }): needs { vocabSize, embeddingDim }`);
      this.inputSize = assertInt(opts.inputSize, `${name}({ inputSize })`);
    }
    let outputSize: number | null = null;
    if (opts.outputSize !== undefined) {
      if (this.pooling === 'flatten') {
        throw new TypeError(
          `${name}({ outputSize }): not available with pooling 'flatten' (its size depends on T); pool first or project yourself`,
        );
      }
      outputSize = assertInt(opts.outputSize, `${name}({ outputSize })`);
    }
    const features = hiddenSize * (bidirectional ? 2 : 1);
    try {
      this.embedding = vocab
        ? this.registerModule(
            'embedding',
            new Embedding(
              vocab,
              this.inputSize,
              opts.paddingIdx === undefined ? {} : { paddingIdx: opts.paddingIdx },
            ),
          )
        : null;
      const rnnOpts = {
        inputSize: this.inputSize,
        hiddenSize,
        numLayers,
        bidirectional,
        dropout,
        batchFirst: true,
      };
      this.rnn = this.registerModule('rnn', createLayer(this.cell, rnnOpts));
      this.attention =
        this.pooling === 'attention'
          ? this.registerModule('attention', new AttentionPooling({ inputSize: features }))
          : null;
      this.proj =
        outputSize === null ? null : this.registerModule('proj', new Linear(features, outputSize));
    } catch (e) {
      this.dispose(); // e.g. Embedding rejected paddingIdx: free what was already made
      throw e;
    }
  }

  /** Runs embedding and the recurrent layers: -> [B, T, D*H] (zero past each length). */
  encode(input: tf.Tensor, opts: { lengths?: ArrayLike<number> } = {}): tf.Tensor {
    this.assertAlive();
    const name = this.constructor.name;
    checkOptions(opts, `${name}.forward`, ['lengths']);
    let ids: tf.Tensor | null = null;
    if (this.embedding) {
      ids = checkIds(input, this.embedding.numEmbeddings, `${name}.forward(input)`);
      if (ids.rank !== 2) {
        if (ids !== input) ids.dispose();
        throw new ShapeError(
          `${name}.forward(input): expected token ids [B, T], got shape ${fmtShape((input as tf.Tensor).shape ?? [])}`,
        );
      }
    } else {
      assertRank(input, `${name}.forward(input)`, [3], `[B, T, ${this.inputSize}]`);
      assertShape(input, `${name}.forward(input)`, [null, null, this.inputSize]);
      assertFloat(input, `${name}.forward(input)`);
    }
    try {
      const [B, T] = (ids ?? input).shape;
      // named here: the recurrent layer would report the embedded shape under its own name
      if (T === 0) {
        throw new ShapeError(
          `${name}.forward(input): expected at least one time step, got shape ${fmtShape((ids ?? input).shape)}`,
        );
      }
      checkLengths(opts.lengths, `${name}.forward(opts.lengths)`, B, T);
      // check-numerics mode: name the input or the parameter by its full key ("rnn.weight_hh_l0")
      // before the inner layers would report their own inputs
      if (numericsChecked()) {
        assertFinite([
          ...(ids ? [] : [[`${name}.forward(input)`, input] as [string, tf.Tensor]]),
          ...this.namedParameters(),
        ]);
      }
      return tf.tidy(() => {
        const x = ids ? this.embedding!.forward(ids) : input;
        const out = this.rnn.forward(x, undefined, opts.lengths ? { lengths: opts.lengths } : {});
        return out[0];
      });
    } finally {
      if (ids && ids !== input) ids.dispose();
    }
  }

  /** See the class doc for shapes. */
  forward(input: tf.Tensor, opts: { lengths?: ArrayLike<number> } = {}): tf.Tensor {
    const h = this.encode(input, opts);
    return tf.tidy(() => {
      const pooled = pool(h, this.pooling, {
        lengths: opts.lengths,
        ...(this.attention ? { attention: this.attention } : {}),
      });
      h.dispose();
      return this.proj ? this.proj.forward(pooled) : pooled;
    });
  }
}

/** Options of {@link SequenceTagger}: those of SequenceEncoder but pooling and outputSize. */
export interface SequenceTaggerOptions
  extends Omit<SequenceEncoderOptions, 'pooling' | 'outputSize'> {
  /** Classes per step (the size of the output's last dimension). */
  numClasses: number;
}

/**
 * A per-step classifier: SequenceEncoder with pooling 'none' and outputSize = numClasses.
 * [B, T(, E)] -> [B, T, numClasses]
 * @example
 * ```ts
 * const tagger = new SequenceTagger({ inputSize: 16, cell: 'lstm', hiddenSize: 32, numClasses: 5 });
 * const logits = tagger.forward(tf.randomNormal([2, 7, 16])); // [2, 7, 5]
 * ```
 */
export class SequenceTagger extends SequenceEncoder {
  /** Classes per step. */
  readonly numClasses: number;

  constructor(opts: SequenceTaggerOptions) {
    // pooling and outputSize are fixed ('none', numClasses): reject them rather than ignore them
    checkOptions(opts, 'SequenceTagger', [
      ...KEYS.filter((k) => k !== 'pooling' && k !== 'outputSize'),
      'numClasses',
    ]);
    const { numClasses, ...rest } = opts ?? ({} as SequenceTaggerOptions);
    const n = assertInt(numClasses, 'SequenceTagger({ numClasses })');
    super(
      { ...rest, pooling: 'none', outputSize: n } as SequenceEncoderOptions,
      'SequenceTagger',
      [],
    );
    this.numClasses = n;
  }
}
