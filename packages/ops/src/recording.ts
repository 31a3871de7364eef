import * as tf from '@tensorflow/tfjs-core';
import { RnnkitError } from './errors.js';

/** True while tfjs records operations for a gradient (inside tf.grad, tf.variableGrads, ...). */
export function tapeOn(): boolean {
  return (tf.engine() as unknown as { isTapeOn(): boolean }).isTapeOn();
}

/**
 * Throws when tfjs records a gradient through `where` while no gradients are registered (tfjs would
 * otherwise fail later with "gradient function not found"). Costs one call when nothing records.
 */
export function assertGradientsIfRecording(where: string): void {
  if (tapeOn() && tf.getGradient('Add') === undefined) {
    throw new RnnkitError(
      `${where}: a gradient is being computed (tf.grad, tf.variableGrads, ...) but no gradients are registered: ` +
        `call ensureGradients() from @rnnkit/ops once before differentiating (trainStep and trainChunk do it for you)`,
    );
  }
}
