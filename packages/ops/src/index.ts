export {
  BACKENDS,
  type BackendName,
  type BackendOptions,
  getBackend,
  setBackend,
} from './backend.js';
export { type ClipGradNormOptions, clipGradNorm, clipGradValue, globalNorm } from './clip.js';
export { Dropout, dropout } from './dropout.js';
export {
  Embedding,
  type EmbeddingOptions,
  embeddingLookup,
  type FromPretrainedOptions,
} from './embedding.js';
export {
  BackendError,
  DisposedError,
  KernelError,
  ModelFileError,
  NumericsError,
  PickleSecurityError,
  RnnkitError,
  SafetensorsError,
  ShapeError,
  StateDictError,
} from './errors.js';
export { ensureGradients } from './gradients.js';
export { numericsChecked, setCheckNumerics } from './guards.js';
export { Linear, type LinearOptions, linear } from './linear.js';
export { type CrossEntropyOptions, crossEntropy, mseLoss, type Reduction } from './loss.js';
export {
  type LoadStateDictOptions,
  type LoadStateDictResult,
  Module,
  type StateDict,
} from './module.js';
export { manualSeed } from './rng.js';
export { loadSafetensors, safetensorsMetadata, saveSafetensors } from './safetensors.js';
export { loadTorchCheckpoint } from './torch/checkpoint.js';
export { type CarriedState, type TrainStepOptions, trainChunk, trainStep } from './train.js';
