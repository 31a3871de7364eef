import { ShapeError } from '@rnnkit/ops';
import {
  assertBool,
  assertInt,
  assertOneOf,
  assertProbability,
  checkOptions,
} from '@rnnkit/ops/internal';
import { assertCellKind, type CellKind } from '@rnnkit/rnn';
import { ATTENTION_MODES, type AttentionMode } from './attention.js';

/** Options of Seq2Seq. */
export interface Seq2SeqOptions {
  /** Source vocabulary size: ids in [0, srcVocab). */
  srcVocab: number;
  /** Target vocabulary size V: ids in [0, tgtVocab), logits [.., V]. */
  tgtVocab: number;
  /** Size of the source and target embeddings. */
  embeddingDim: number;
  /** H: size of every recurrent layer (each direction of the encoder, and the decoder). */
  hiddenSize: number;
  /** The recurrent cell of the encoder and the decoder: 'rnn', 'lstm' or 'gru'. */
  cell: CellKind;
  /** Layers of the encoder and of the decoder. @default 1 */
  numLayers?: number;
  /** A bidirectional encoder (its final states are joined by the bridge). @default false */
  bidirectionalEncoder?: boolean;
  /** Luong-style attention of the decoder's output over the encoder's outputs, or none. */
  attention: AttentionMode | 'none';
  /** Feed the previous attentional state to the decoder with the next token (Luong). @default false */
  inputFeeding?: boolean;
  /** On embeddings, between recurrent layers and before the output layer, in training mode. @default 0 */
  dropout?: number;
}

/** Seq2SeqOptions checked, with every default filled in. */
export type ResolvedSeq2SeqOptions = Required<Seq2SeqOptions>;

const KEYS = [
  'srcVocab',
  'tgtVocab',
  'embeddingDim',
  'hiddenSize',
  'cell',
  'numLayers',
  'bidirectionalEncoder',
  'attention',
  'inputFeeding',
  'dropout',
];

/** Checks Seq2Seq's options, each naming its key, and how they combine; fills in the defaults. */
export function resolveSeq2SeqOptions(opts: Seq2SeqOptions): ResolvedSeq2SeqOptions {
  checkOptions(opts, 'Seq2Seq', KEYS);
  if (opts === undefined)
    throw new TypeError('Seq2Seq: expected an options object { srcVocab, tgtVocab, ... }');
  const srcVocab = assertInt(opts.srcVocab, 'Seq2Seq({ srcVocab })');
  const tgtVocab = assertInt(opts.tgtVocab, 'Seq2Seq({ tgtVocab })');
  const embeddingDim = assertInt(opts.embeddingDim, 'Seq2Seq({ embeddingDim })');
  const H = assertInt(opts.hiddenSize, 'Seq2Seq({ hiddenSize })');
  const cell = assertCellKind(opts.cell, 'Seq2Seq({ cell })');
  const numLayers = assertInt(opts.numLayers ?? 1, 'Seq2Seq({ numLayers })');
  const bidir = assertBool(opts.bidirectionalEncoder ?? false, 'Seq2Seq({ bidirectionalEncoder })');
  const attention = assertOneOf(opts.attention, 'Seq2Seq({ attention })', [
    ...ATTENTION_MODES,
    'none',
  ] as const);
  const inputFeeding = assertBool(opts.inputFeeding ?? false, 'Seq2Seq({ inputFeeding })');
  const dropout = assertProbability(opts.dropout ?? 0, 'Seq2Seq({ dropout })');
  if (attention === 'dot' && bidir) {
    throw new ShapeError(
      `Seq2Seq({ attention: 'dot' }): dot attention needs keys of the decoder's size ${H}, but a bidirectional encoder gives ${2 * H}; use 'general', 'concat' or 'additive'`,
    );
  }
  if (inputFeeding && attention === 'none') {
    throw new TypeError(
      "Seq2Seq({ inputFeeding }): input feeding passes the attentional state on, so it needs attention; got attention 'none'",
    );
  }
  return {
    srcVocab,
    tgtVocab,
    embeddingDim,
    hiddenSize: H,
    cell,
    numLayers,
    bidirectionalEncoder: bidir,
    attention,
    inputFeeding,
    dropout,
  };
}
