/**
 * @rnnkit/ops/internal: pieces the other rnnkit packages share that are not user API (input guards,
 * masks, raw initialisers). Outside semver: may change in any release.
 */

export { checkIds } from './embedding.js';
export {
  assertBool,
  assertFinite,
  assertFloat,
  assertInt,
  assertOneOf,
  assertProbability,
  assertRank,
  assertShape,
  assertTensor,
  checkLengths,
  checkOptions,
  describeValue,
  fmtShape,
} from './guards.js';
export { stepMask, validSteps, zeroPadding } from './mask.js';
export { dropoutMask, normal, uniform } from './rng.js';
