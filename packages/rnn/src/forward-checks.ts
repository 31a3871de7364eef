import { ShapeError } from '@rnnkit/ops';
import {
  assertFinite,
  assertFloat,
  assertRank,
  assertState,
  checkLengths as checkLengthsOf,
  fmtShape,
  numericsChecked,
} from '@rnnkit/ops/internal';
import type * as tf from '@tensorflow/tfjs-core';
import type { ForwardOptions } from './options.js';

/** A state argument of forward: its name in errors ('h0'), the tensor (undefined: zeros), its size. */
export type StateArg = [string, tf.Tensor | undefined, number];

/** What checkForward reads of the layer. */
export interface CheckedLayer {
  readonly inputSize: number;
  readonly batchFirst: boolean;
  readonly numLayers: number;
  readonly numDirections: number;
  namedParameters(): Array<[string, tf.Variable]>;
}

/** A checked call: T steps of B sequences (B = 1 unbatched); lengths null when all are T. */
export interface CheckedCall {
  batched: boolean;
  T: number;
  B: number;
  lengths: number[] | null;
}

/**
 * Checks a padded forward call of layer `name`: input [T,B,I] | [B,T,I] (batchFirst) | [T,I],
 * each state [L*D,B,size] | [L*D,size], lengths, and (check-numerics mode) that the input, the
 * states and the parameters are finite.
 */
export function checkForward(
  name: string,
  layer: CheckedLayer,
  input: tf.Tensor,
  states: StateArg[],
  opts: ForwardOptions | undefined,
): CheckedCall {
  const layout = layer.batchFirst
    ? '[B, T, I] (batchFirst) or unbatched [T, I]'
    : '[T, B, I] or unbatched [T, I]';
  assertRank(input, `${name}.forward(input)`, [2, 3], layout);
  assertFloat(input, `${name}.forward(input)`);
  const batched = input.rank === 3;
  const shape = input.shape as number[];
  if (shape[input.rank - 1] !== layer.inputSize) {
    throw new ShapeError(
      `${name}.forward(input): expected last dim inputSize = ${layer.inputSize}, got shape ${fmtShape(input.shape)}`,
    );
  }
  const T = batched && layer.batchFirst ? shape[1] : shape[0];
  const B = batched ? (layer.batchFirst ? shape[0] : shape[1]) : 1;
  if (T === 0)
    throw new ShapeError(
      `${name}.forward(input): expected at least one time step, got shape ${fmtShape(input.shape)}`,
    );
  const LD = layer.numLayers * layer.numDirections;
  for (const [arg, s, size] of states) {
    if (s !== undefined)
      assertState(s, `${name}.forward(${arg})`, batched ? [LD, B, size] : [LD, size]);
  }
  const lengths = checkLengths(
    opts?.lengths,
    `${name}.forward(opts.lengths)`,
    batched ? null : input.shape,
    B,
    T,
  );
  // The list of tensors is made only in check-numerics mode (a decode step pays for every line).
  if (numericsChecked())
    assertFinite([
      [`${name}.forward(input)`, input],
      ...states
        .filter((s): s is [string, tf.Tensor, number] => s[1] !== undefined)
        .map(([a, s]) => [`${name}.forward(${a})`, s] as [string, tf.Tensor]),
      ...layer.namedParameters(),
    ]);
  return { batched, T, B, lengths };
}

/**
 * Checks `lengths` (one integer in [1, T] per sequence); null when absent or all equal T.
 * `unbatched` is the input's shape when the input has no batch dimension.
 */
function checkLengths(
  lengths: unknown,
  arg: string,
  unbatched: readonly number[] | null,
  B: number,
  T: number,
): number[] | null {
  if (lengths === undefined) return null;
  if (unbatched) {
    throw new TypeError(
      `${arg}: expected batched input when lengths are given, got unbatched input of shape ${fmtShape(unbatched)}`,
    );
  }
  const list = checkLengthsOf(lengths, arg, B, T)!;
  return list.every((n) => n === T) ? null : list;
}
