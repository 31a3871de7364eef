export { AttentionPooling } from './attention.js';
export {
  type CellType,
  SequenceEncoder,
  type SequenceEncoderOptions,
  SequenceTagger,
  type SequenceTaggerOptions,
} from './encoder.js';
export { loadModel, MODEL_FORMAT, type ModelConfig, saveModel } from './model-file.js';
export { POOLINGS, type Pooling, type PoolOptions, pool } from './pool.js';
export {
  ATTENTION_MODES,
  Attention,
  type AttentionKeys,
  type AttentionMode,
  type AttentionOptions,
} from './seq2seq/attention.js';
export {
  type BeamSearchOptions,
  type BeamSearchResult,
  beamSearch,
  type DecodeOptions,
  type DecodeResult,
  greedyDecode,
  type Hypothesis,
  type SampleOptions,
  type StepModel,
  sample,
} from './seq2seq/decode/index.js';
export type { Seq2SeqOptions } from './seq2seq/options.js';
export { Seq2Seq } from './seq2seq/seq2seq.js';
export type { Memory, Seq2SeqState } from './seq2seq/state.js';
