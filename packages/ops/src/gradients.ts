import { registerTfjsGradients } from './vendor/tfjs-gradients.js';

let registered = false;

/**
 * Registers tfjs-core's gradients (its packages register none), so that `tf.grad`,
 * `tf.variableGrads` and optimizers work on rnnkit modules. `trainStep` and `trainChunk` call it
 * themselves; call it once before differentiating with tfjs yourself. Cheap after the first call.
 * Kept out of `setBackend` and the modules so that an app that only runs inference does not ship
 * the gradients (about 35 KB of gzipped JavaScript).
 */
export function ensureGradients(): void {
  if (registered) return;
  registerTfjsGradients();
  registered = true;
}
