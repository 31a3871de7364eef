/**
 * @rnnkit/cell/internal: the recurrent engine's pieces that @rnnkit/rnn and the tests share, not user
 * API. Outside semver: may change in any release.
 */
export { kernelReady } from './kernel.js';
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
