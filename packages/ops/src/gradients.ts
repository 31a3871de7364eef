import { registerTfjsGradients } from './vendor/tfjs-gradients.js';

let registered = false;

/**
 * Makes sure tfjs-core's gradients are registered (its Node bundle registers none).
 * Cheap after the first call; called by Module, trainStep and setBackend.
 */
export function ensureGradients(): void {
  if (registered) return;
  registerTfjsGradients();
  registered = true;
}
