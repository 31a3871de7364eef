import { RnnkitError } from '@rnnkit/ops';
import * as tf from '@tensorflow/tfjs-core';
import { kernelTensor } from '../wasm/memory.js';
import type { KernelInputs } from '../wasm/recurrence.js';
import type { RecurrentWeights } from '../weights.js';
import { backward } from './backward.js';
import { kernel, tapeOn } from './engine.js';
import { forward } from './forward.js';
import type { Run } from './layout.js';

/**
 * The whole recurrence of one direction of one layer as a single differentiable tfjs op.
 * xProj [T, B, G] = x W_ih^T + b_ih (from projectInput, which passes the gradient on to W_ih, b_ih
 * and x), h0 [B, S], c0 [B, H] (LSTM only); `valid` [T, B] gives pack_padded_sequence semantics
 * (padded steps keep the state and output zeros). The forward runs whole in the WebAssembly SIMD
 * kernel (wasm/) when it is ready, else in JS on host arrays with one tfjs matMul per step;
 * both save the same activations and states for the backward (BPTT), which runs its gate
 * arithmetic on host arrays with one tfjs matMul per step; gradients flow to xProj, h0, c0, W_hh,
 * b_hh, W_hr. Returns the packed output (layout.ts) as one tensor: outputs [T, B, S], final h [B, S],
 * final c [B, H].
 */
export function recurrence(
  w: RecurrentWeights,
  xProj: tf.Tensor3D,
  h0: tf.Tensor,
  c0: tf.Tensor | null,
  reverse: boolean,
  valid: Uint8Array | null,
): tf.Tensor1D {
  const [T, B, G] = xProj.shape;
  const H = w.hiddenSize;
  const S = w.whr ? (w.whr.shape[0] as number) : H;
  const run: Run = { mode: w.mode, T, B, H, G, S, reverse, valid };
  const record = tapeOn();
  const inputs = [xProj, h0, c0, w.whh, w.bhh, w.whr].filter((t): t is tf.Tensor => t !== null);
  // The op reads its inputs from this closure; listing them as inputs routes their gradients.
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const k = kernel();
    const { packed, saved } = k
      ? k.recurrence(hostInputs(run, w, xProj.dataSync() as Float32Array, h0, c0), record)
      : forward(run, w, xProj, h0, c0, record);
    // The tape keeps W_hh and W_hr until backward (they may be temporaries, e.g. a split weight).
    // Saved only now: tfjs keeps its copies outside every tidy, so a failed forward would leak them.
    (args[args.length - 1] as tf.GradSaveFunc)(w.whr ? [w.whh, w.whr] : [w.whh]);
    // The kernel's packed output is a view of its memory, read out before its next call.
    const value = k ? kernelTensor(packed, [packed.length]) : tf.tensor1d(packed);
    const gradFunc = (dy: tf.Tensor, [whh, whr]: tf.Tensor[]) => {
      // A tape recording this backward would see host-array results as constants: a second
      // derivative of zero. The engine runs `stepwise` whenever one may be asked for (higherOrder).
      if (tapeOn()) {
        throw new RnnkitError(
          'recurrence: the fused backward cannot be differentiated again; run the forward inside the gradient that is differentiated (nested tf.grad / tf.variableGrads)',
        );
      }
      const dyHost = dy.dataSync() as Float32Array;
      const g = backward(run, saved!, dyHost, whh, whr ?? null, w.bhh !== null);
      return [g.x, g.h, g.c, g.whh, g.bhh, g.whr].filter((t): t is tf.Tensor => t !== null);
    };
    return { value, gradFunc };
  });
  return op(...inputs) as tf.Tensor1D;
}

/** The host arrays the WebAssembly kernel runs on; x [T, B, G] (or [T, B, I], see `project`). */
function hostInputs(
  run: Run,
  w: RecurrentWeights,
  x: Float32Array,
  h0: tf.Tensor,
  c0: tf.Tensor | null,
): KernelInputs {
  const data = (t: tf.Tensor | null) => (t ? (t.dataSync() as Float32Array) : null);
  return {
    ...run,
    x,
    whh: w.whh,
    bhh: data(w.bhh),
    whr: w.whr,
    h0: data(h0)!,
    c0: data(c0),
  };
}
