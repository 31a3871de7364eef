export { type CellOptions, GRUCell, LSTMCell, RNNCell, type RNNCellOptions } from './cells.js';
export {
  type Activation,
  ConcatRNNCell,
  type ConcatRNNCellOptions,
  ElmanRNN,
  type ElmanRNNOptions,
  type ElmanRNNOutput,
} from './elman.js';
export { releaseKernelMemory } from './wasm/release.js';
export { initKernel, kernelThreads, setKernelThreads } from './wasm/threads.js';
