export { ALL_CASES, type BenchCase, type CellKind, GROUPS, selectCases } from './cases.js';
export { main } from './cli.js';
export {
  buildLayersModel,
  ResetAfterGRUCell,
  type TorchWeights,
  toKeras,
  torchWeights,
} from './layers.js';
export { naiveForward } from './naive.js';
export { type BenchReport, markdown } from './report.js';
export { type CaseResult, type ImplResult, TOLERANCE } from './results.js';
export { runCase } from './run.js';
