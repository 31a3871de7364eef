/**
 * @rnnkit/cell/internal: the recurrent engine's pieces that @rnnkit/rnn and the tests share, not user
 * API. Outside semver: may change in any release.
 */
export { ENGINE_DEFAULTS, type EnginePolicy, enginePolicy } from './policy.js';
export {
  fusedInference,
  inferenceKernel,
  inLayout,
  kernelReady,
  naming,
} from './sequence/engine.js';
export {
  hostCopy,
  hostData,
  hostView,
  layerCall,
  stackInference,
  stateSize,
} from './sequence/infer.js';
export { projectInput } from './sequence/project.js';
export { runSequence, type SequenceOptions } from './sequence/run.js';
export {
  type AttendInputs,
  type DecodeInputs,
  type DecodePlan,
  stepLayouts,
} from './wasm/decode.js';
export type { Kernel } from './wasm/kernel.js';
export { type Build, kernelBuild, relaxedSimdSupported } from './wasm/loader.js';
export { kernelTensor } from './wasm/memory.js';
export { kernelMemory } from './wasm/release.js';
export {
  type CellMode,
  checkRecurrentSizes,
  createRecurrentWeights,
  GATES,
  type RecurrentWeights,
  type Register,
  rnnMode,
  type State,
  tieSlots,
} from './weights.js';
