import * as tf from '@tensorflow/tfjs-core';
import { runSequenceInference } from './inference.js';
import { projectInput } from './project.js';
import { cellStep, type State } from './step.js';
import type { RecurrentWeights } from './weights.js';

/** True while tfjs records operations for a gradient (inside tf.grad, variableGrads, ...). */
function tapeOn(): boolean {
  return (tf.engine() as unknown as { isTapeOn(): boolean }).isTapeOn();
}

/**
 * Runs one direction of one recurrent layer over a whole sequence: one matMul projects every
 * step's input (x [T, B, I] time-major -> [T, B, G*H]), then one small matMul per step.
 * `mask` (optional, [T, B, 1] bool, true while t < length) gives pack_padded_sequence semantics:
 * padded steps output zeros and keep the state, so the final state is the one at each sequence's
 * last valid step and the reverse direction starts there.
 * Outside a gradient scope this is runSequenceInference (same numbers, far fewer kernel launches);
 * under a gradient tape it is built from differentiable tfjs ops.
 * Returns outputs [T, B, H or P] and the final state; the caller owns them.
 */
export function runSequence(
  w: RecurrentWeights,
  x: tf.Tensor3D,
  init: State,
  opts: { reverse?: boolean; mask?: tf.Tensor3D | null } = {},
): { output: tf.Tensor3D; state: State } {
  if (!tapeOn()) return runSequenceInference(w, x, init, opts.reverse ?? false, opts.mask ?? null);
  const [T, B] = x.shape;
  // Split once: one kernel forward, one concat backward (a slice per step would pad each step's
  // gradient back to the whole [T, B, G*H] and make BPTT quadratic in T).
  const steps = tf.tidy(() => tf.split(projectInput(w, x), T, 0));
  const masks = opts.mask ? tf.tidy(() => tf.split(opts.mask!, T, 0)) : null;
  const outputs: tf.Tensor[] = new Array(T);
  let state: State = init;
  for (let s = 0; s < T; s++) {
    const t = opts.reverse ? T - 1 - s : s;
    const next = tf.tidy((): { state: State; out: tf.Tensor } => {
      const xp = tf.reshape(steps[t], [B, -1]);
      const stepped = cellStep(w, xp, state);
      if (!masks) return { state: stepped, out: stepped.h };
      const m = tf.reshape(masks[t], [B, 1]);
      const kept: State = { h: tf.where(m, stepped.h, state.h) };
      if (stepped.c) kept.c = tf.where(m, stepped.c, state.c!);
      return { state: kept, out: tf.mul(stepped.h, tf.cast(m, 'float32')) };
    });
    if (state !== init) {
      // Unmasked, the previous h is also an output: keep it until the stack below.
      if (masks) state.h.dispose();
      state.c?.dispose();
    }
    state = next.state;
    outputs[t] = next.out;
  }
  const output = tf.stack(outputs) as tf.Tensor3D;
  tf.dispose([...steps, ...(masks ?? []), ...outputs.filter((o) => o !== state.h)]);
  return { output, state };
}
