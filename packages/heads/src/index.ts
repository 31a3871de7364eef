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
