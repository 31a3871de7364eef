import { ConcatRNNCell, ElmanRNN, GRUCell, LSTMCell, RNNCell } from '@rnnkit/cell';
import { Dropout, Embedding, Linear, type Module } from '@rnnkit/ops';
import { GRU, LSTM, RNN } from '@rnnkit/rnn';
import { AttentionPooling } from './attention.js';
import { SequenceEncoder, type SequenceEncoderOptions, SequenceTagger } from './encoder.js';
import { Attention } from './seq2seq/attention.js';
import { Seq2Seq } from './seq2seq/seq2seq.js';

/** Options as stored in a model file: JSON values; `undefined` entries are left out. */
export type Options = Record<string, unknown>;

/** How one public class is saved and rebuilt: its options read from public fields, and back. */
export interface ModelClass {
  ctor: abstract new (...args: any[]) => Module;
  options(m: Module): Options;
  build(o: Options): Module;
}

function entry<M extends Module>(
  ctor: abstract new (...args: any[]) => M,
  options: (m: M) => Options,
  build: (o: any) => M,
): ModelClass {
  return { ctor, options: options as (m: Module) => Options, build };
}

const cell = (m: RNNCell | LSTMCell | GRUCell) => ({
  inputSize: m.inputSize,
  hiddenSize: m.hiddenSize,
  bias: m.bias,
});

const recurrent = (m: RNN | LSTM | GRU) => ({
  inputSize: m.inputSize,
  hiddenSize: m.hiddenSize,
  numLayers: m.numLayers,
  bias: m.bias,
  batchFirst: m.batchFirst,
  dropout: m.dropout,
  bidirectional: m.bidirectional,
});

/** SequenceEncoder's (and SequenceTagger's) options, from its child modules. */
function encoder(m: SequenceEncoder): SequenceEncoderOptions & Options {
  const e = m.embedding;
  return {
    ...(e
      ? {
          vocabSize: e.numEmbeddings,
          embeddingDim: e.embeddingDim,
          paddingIdx: e.paddingIdx ?? undefined,
        }
      : { inputSize: m.inputSize }),
    cell: m.cell,
    hiddenSize: m.rnn.hiddenSize,
    numLayers: m.rnn.numLayers,
    bidirectional: m.rnn.bidirectional,
    dropout: m.rnn.dropout,
    pooling: m.pooling,
    outputSize: m.proj?.outFeatures,
  };
}

/**
 * Every public module class by the name stored in model files. Classes match exactly (a subclass
 * is not its parent). To add a class, add one entry.
 */
export const MODEL_CLASSES: Record<string, ModelClass> = {
  Linear: entry(
    Linear,
    (m) => ({ inFeatures: m.inFeatures, outFeatures: m.outFeatures, bias: m.bias !== null }),
    (o) => new Linear(o.inFeatures, o.outFeatures, { bias: o.bias }),
  ),
  Embedding: entry(
    Embedding,
    // options at their defaults are left out (files written before they existed stay the same)
    (m) => ({
      numEmbeddings: m.numEmbeddings,
      embeddingDim: m.embeddingDim,
      paddingIdx: m.paddingIdx ?? undefined,
      maxNorm: m.maxNorm ?? undefined,
      normType: m.normType === 2 ? undefined : m.normType,
      scaleGradByFreq: m.scaleGradByFreq || undefined,
    }),
    ({ numEmbeddings, embeddingDim, ...opts }) => new Embedding(numEmbeddings, embeddingDim, opts),
  ),
  Dropout: entry(
    Dropout,
    (m) => ({ p: m.p }),
    (o) => new Dropout(o.p),
  ),
  RNNCell: entry(
    RNNCell,
    (m) => ({ ...cell(m), nonlinearity: m.nonlinearity }),
    (o) => new RNNCell(o),
  ),
  LSTMCell: entry(LSTMCell, cell, (o) => new LSTMCell(o)),
  GRUCell: entry(GRUCell, cell, (o) => new GRUCell(o)),
  ConcatRNNCell: entry(
    ConcatRNNCell,
    (m) => ({ inputSize: m.inputSize, hiddenSize: m.hiddenSize, activation: m.activation }),
    (o) => new ConcatRNNCell(o),
  ),
  ElmanRNN: entry(
    ElmanRNN,
    (m) => ({
      inputDim: m.linear1.inputSize,
      hiddenSize: m.linear1.hiddenSize,
      outputDim: m.linear2.outFeatures,
      activation: m.linear1.activation,
    }),
    (o) => new ElmanRNN(o),
  ),
  RNN: entry(
    RNN,
    (m) => ({ ...recurrent(m), nonlinearity: m.nonlinearity }),
    (o) => new RNN(o),
  ),
  LSTM: entry(
    LSTM,
    (m) => ({ ...recurrent(m), projSize: m.projSize }),
    (o) => new LSTM(o),
  ),
  GRU: entry(GRU, recurrent, (o) => new GRU(o)),
  AttentionPooling: entry(
    AttentionPooling,
    (m) => ({ inputSize: m.inputSize }),
    (o) => new AttentionPooling(o),
  ),
  SequenceEncoder: entry(SequenceEncoder, encoder, (o) => new SequenceEncoder(o)),
  SequenceTagger: entry(
    SequenceTagger,
    (m) => {
      const { pooling, outputSize, ...rest } = encoder(m);
      return { ...rest, numClasses: m.numClasses };
    },
    (o) => new SequenceTagger(o),
  ),
  Attention: entry(
    Attention,
    (m) => ({
      querySize: m.querySize,
      keySize: m.keySize,
      mode: m.mode,
      attentionSize: m.attentionSize || undefined,
    }),
    (o) => new Attention(o),
  ),
  Seq2Seq: entry(
    Seq2Seq,
    (m) => ({
      srcVocab: m.srcVocab,
      tgtVocab: m.tgtVocab,
      embeddingDim: m.srcEmbedding.embeddingDim,
      hiddenSize: m.hiddenSize,
      cell: m.cell,
      numLayers: m.numLayers,
      bidirectionalEncoder: m.encoder.bidirectional,
      attention: m.attentionMode,
      inputFeeding: m.inputFeeding,
      dropout: m.dropoutP,
    }),
    (o) => new Seq2Seq(o),
  ),
};
