export { type CellOptions, GRUCell, LSTMCell, RNNCell, type RNNCellOptions } from './cells.js';
export {
  type Activation,
  ConcatRNNCell,
  type ConcatRNNCellOptions,
  ElmanRNN,
  type ElmanRNNOptions,
  type ElmanRNNOutput,
} from './elman.js';
export { initKernel, kernelReady, kernelThreads, setKernelThreads } from './kernel.js';
export { projectInput } from './project.js';
export { fusedInference } from './recurrence.js';
export { runSequence, type State } from './sequence.js';
export {
  type CellMode,
  createRecurrentWeights,
  GATES,
  type RecurrentWeights,
  type Register,
} from './weights.js';
