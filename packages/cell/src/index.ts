export { type CellOptions, GRUCell, LSTMCell, RNNCell, type RNNCellOptions } from './cells.js';
export {
  type Activation,
  ConcatRNNCell,
  type ConcatRNNCellOptions,
  ElmanRNN,
  type ElmanRNNOptions,
  type ElmanRNNOutput,
} from './elman.js';
export { initKernel, kernelThreads, setKernelThreads } from './kernel.js';
