import { assertOneOf, assertParameterSizes, uniform } from '@rnnkit/ops/internal';
import type * as tf from '@tensorflow/tfjs-core';

/** Which recurrence a weight set drives: PyTorch's RNN_TANH, RNN_RELU, LSTM and GRU. */
export type CellMode = 'rnn_tanh' | 'rnn_relu' | 'lstm' | 'gru';

/**
 * An Elman RNN's nonlinearity option (`arg` names it in errors; default 'tanh') and its mode:
 * 'tanh' -> 'rnn_tanh', 'relu' -> 'rnn_relu'.
 */
export function rnnMode(
  nonlinearity: unknown,
  arg: string,
): { nonlinearity: 'tanh' | 'relu'; mode: CellMode } {
  const nl = assertOneOf(nonlinearity ?? 'tanh', arg, ['tanh', 'relu'] as const);
  return { nonlinearity: nl, mode: nl === 'tanh' ? 'rnn_tanh' : 'rnn_relu' };
}

/** Gate blocks stacked in weight_ih/weight_hh: LSTM i,f,g,o; GRU r,z,n. */
export const GATES: Record<CellMode, number> = { rnn_tanh: 1, rnn_relu: 1, lstm: 4, gru: 3 };

/** One direction of one layer: weight_ih [G*H, I], weight_hh [G*H, P|H], biases [G*H], weight_hr [P, H]. */
export interface RecurrentWeights {
  mode: CellMode;
  hiddenSize: number;
  wih: tf.Tensor;
  whh: tf.Tensor;
  bih: tf.Tensor | null;
  bhh: tf.Tensor | null;
  whr: tf.Tensor | null;
}

/** Registers one parameter on a module and returns it (Module.registerParameter, passed in). */
export type Register = (name: string, value: tf.Tensor) => tf.Variable;

/** Sizes of a recurrent module, as its constructor's options give them. */
export interface RecurrentSizes {
  inputSize: number;
  hiddenSize: number;
  projSize?: number;
  numLayers?: number;
  bidirectional?: boolean;
  bias: boolean;
}

/**
 * Checks, before allocating, that every parameter of `where` (a cell, or a stack of layers with
 * keys suffixed _l{k}[_reverse]) fits what tfjs and the kernel can hold (assertParameterSizes).
 */
export function checkRecurrentSizes(
  where: string,
  mode: CellMode,
  s: RecurrentSizes,
  stack: boolean,
): void {
  const H = s.hiddenSize;
  const P = s.projSize ?? 0;
  const S = P > 0 ? P : H;
  const g = GATES[mode] * H;
  const dirs = s.bidirectional ? 2 : 1;
  const params: Array<[string, number[], string]> = [];
  for (let layer = 0; layer < (s.numLayers ?? 1); layer++) {
    const I = layer === 0 ? s.inputSize : S * dirs;
    for (let d = 0; d < dirs; d++) {
      const suffix = stack ? `_l${layer}${d === 1 ? '_reverse' : ''}` : '';
      const big = layer === 0 && I > g ? 'inputSize' : 'hiddenSize';
      params.push(
        [`weight_ih${suffix}`, [g, I], big],
        [`weight_hh${suffix}`, [g, S], 'hiddenSize'],
      );
      if (s.bias)
        params.push(
          [`bias_ih${suffix}`, [g], 'hiddenSize'],
          [`bias_hh${suffix}`, [g], 'hiddenSize'],
        );
      if (P > 0) params.push([`weight_hr${suffix}`, [P, H], 'hiddenSize']);
    }
  }
  assertParameterSizes(where, params, (s.numLayers ?? 1) > 1 ? 'numLayers' : 'hiddenSize');
}

/**
 * Creates and registers PyTorch's parameters for one direction of one layer, named
 * weight_ih{suffix}, weight_hh{suffix}, bias_ih{suffix}, bias_hh{suffix}, weight_hr{suffix},
 * initialised U(-1/sqrt(H), 1/sqrt(H)) as PyTorch does.
 */
export function createRecurrentWeights(
  register: Register,
  suffix: string,
  mode: CellMode,
  inputSize: number,
  hiddenSize: number,
  bias: boolean,
  projSize = 0,
): RecurrentWeights {
  const g = GATES[mode] * hiddenSize;
  const k = hiddenSize > 0 ? 1 / Math.sqrt(hiddenSize) : 0;
  const stateSize = projSize > 0 ? projSize : hiddenSize;
  const u = (shape: number[]) => uniform(shape, -k, k);
  const wih = register(`weight_ih${suffix}`, u([g, inputSize]));
  const whh = register(`weight_hh${suffix}`, u([g, stateSize]));
  const bih = bias ? register(`bias_ih${suffix}`, u([g])) : null;
  const bhh = bias ? register(`bias_hh${suffix}`, u([g])) : null;
  const whr = projSize > 0 ? register(`weight_hr${suffix}`, u([projSize, hiddenSize])) : null;
  return { mode, hiddenSize, wih, whh, bih, bhh, whr };
}

/** PyTorch's key (before the layer suffix) of each parameter field of RecurrentWeights. */
const FIELDS = {
  weight_ih: 'wih',
  weight_hh: 'whh',
  bias_ih: 'bih',
  bias_hh: 'bhh',
  weight_hr: 'whr',
} as const;

/**
 * For weight tying: calls `onTie` (Module.onTie, passed in) for each parameter of `w` with its key
 * (e.g. 'weight_hh_l0_reverse' for suffix '_l0_reverse') and a setter that makes `w` read a shared
 * parameter instead.
 */
export function tieSlots(
  w: RecurrentWeights,
  suffix: string,
  onTie: (name: string, use: (param: tf.Tensor) => void) => void,
): void {
  for (const [key, field] of Object.entries(FIELDS) as Array<
    [string, (typeof FIELDS)[keyof typeof FIELDS]]
  >) {
    if (w[field] !== null) {
      onTie(`${key}${suffix}`, (param) => {
        w[field] = param;
      });
    }
  }
}

/** The recurrent state: h [B, H or P]; c [B, H] for LSTM only. */
export type State = {
  h: tf.Tensor;
  c?: tf.Tensor;
};
