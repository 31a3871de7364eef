/**
 * @rnnkit/ops/internal: pieces the other rnnkit packages share that are not user API (input guards,
 * masks, raw initialisers). Outside semver: may change in any release.
 */

export { afterSetBackend } from './backend.js';
export { connectedZero, connectedZeros } from './connected-zeros.js';
export { checkIds } from './embedding.js';
export { describeFile, type FileInfo, type FileKind, MODEL_CONFIG_KEY } from './file-kind.js';
export * from './guards.js';
export { fillPadding, validSteps, zeroPadding } from './mask.js';
export {
  batchProduct,
  linearProduct,
  type Products,
  TFJS_PRODUCTS,
  useProducts,
} from './product.js';
export { dropoutMask, normal, randomStream, uniform } from './rng.js';
export * from './sizes.js';
