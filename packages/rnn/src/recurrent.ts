import {
  type CellMode,
  checkRecurrentSizes,
  createRecurrentWeights,
  inLayout,
  naming,
  type RecurrentWeights,
  runSequence,
  type State,
  stackInference,
  tieSlots,
} from '@rnnkit/cell/internal';
import { dropout, Module, ShapeError } from '@rnnkit/ops';
import {
  assertBool,
  assertFinite,
  assertFloat,
  assertInt,
  assertProbability,
  assertRank,
  assertState,
  checkLengths as checkLengthsOf,
  checkOptions,
  finiteOutputs,
  fmtShape,
} from '@rnnkit/ops/internal';
import * as tf from '@tensorflow/tfjs-core';
import { runPacked } from './packed/forward.js';
import { PackedSequence } from './packed/sequence.js';

/** The options RNN, LSTM and GRU share: PyTorch's, in camelCase (`batch_first` -> `batchFirst`). */
export interface RecurrentOptions {
  /** I, the number of features of each input step (PyTorch's input_size). */
  inputSize: number;
  /** H, the number of features of the hidden state (hidden_size). */
  hiddenSize: number;
  /**
   * Stacked layers: layer k > 0 reads layer k-1's output (num_layers).
   * @default 1
   */
  numLayers?: number;
  /**
   * Learn the biases b_ih and b_hh (bias).
   * @default true
   */
  bias?: boolean;
  /**
   * Input and output are [B, T, *] instead of [T, B, *]; states stay [L*D, B, H] (batch_first).
   * @default false
   */
  batchFirst?: boolean;
  /**
   * Dropout probability on each layer's output except the last, in training mode only; with
   * numLayers 1 it does nothing, and rnnkit warns as PyTorch does.
   * @default 0
   */
  dropout?: number;
  /**
   * Run a second layer over the reversed sequence and concatenate (D = 2) (bidirectional).
   * @default false
   */
  bidirectional?: boolean;
}

/** Options of a recurrent layer's `forward`. */
export interface ForwardOptions {
  /**
   * Valid length of each sequence in the batch (pack_padded_sequence semantics); each in [1, T].
   * Padded steps are never read; outputs there are zero and the final state is each sequence's own.
   * @default every sequence has length T
   */
  lengths?: ArrayLike<number>;
}

const COMMON = [
  'inputSize',
  'hiddenSize',
  'numLayers',
  'bias',
  'batchFirst',
  'dropout',
  'bidirectional',
];

/**
 * What RNN, LSTM and GRU share: PyTorch's options and parameter keys (weight_ih_l{k}[_reverse] ...),
 * input checks, layers x directions, lengths masking, dropout between layers.
 * @example
 * ```ts
 * const layer: RecurrentLayer = createLayer('gru', { inputSize: 8, hiddenSize: 16 });
 * console.log(layer.numDirections, layer.outputSize); // 1 16
 * ```
 */
export abstract class RecurrentLayer extends Module {
  /** See {@link RecurrentOptions.inputSize}. */
  readonly inputSize: number;
  /** See {@link RecurrentOptions.hiddenSize}. */
  readonly hiddenSize: number;
  /** See {@link RecurrentOptions.numLayers}. */
  readonly numLayers: number;
  /** See {@link RecurrentOptions.bias}. */
  readonly bias: boolean;
  /** See {@link RecurrentOptions.batchFirst}. */
  readonly batchFirst: boolean;
  #dropout = 0;
  /** See {@link RecurrentOptions.bidirectional}. */
  readonly bidirectional: boolean;
  /** LSTM's projection size P (0 = none; always 0 for RNN and GRU). */
  readonly projSize: number;
  /** [layer][direction] */
  protected readonly weights: RecurrentWeights[][] = [];

  constructor(
    name: string,
    mode: CellMode,
    opts: RecurrentOptions & { projSize?: number },
    extra: string[],
  ) {
    super();
    checkOptions(opts, name, [...COMMON, ...extra]);
    if (opts === undefined)
      throw new TypeError(
        `${name}: expected an options object { inputSize, hiddenSize, ... }, got undefined`,
      );
    this.inputSize = assertInt(opts.inputSize, `${name}({ inputSize })`);
    this.hiddenSize = assertInt(opts.hiddenSize, `${name}({ hiddenSize })`);
    this.numLayers = assertInt(opts.numLayers ?? 1, `${name}({ numLayers })`);
    this.bias = assertBool(opts.bias ?? true, `${name}({ bias })`);
    this.batchFirst = assertBool(opts.batchFirst ?? false, `${name}({ batchFirst })`);
    this.dropout = opts.dropout ?? 0; // validated by the setter
    this.bidirectional = assertBool(opts.bidirectional ?? false, `${name}({ bidirectional })`);
    if (this.dropout > 0 && this.numLayers === 1) {
      // PyTorch's UserWarning, word for word; once per module (it is built once)
      console.warn(
        `${name}: dropout option adds dropout after all but last recurrent layer, so non-zero dropout expects numLayers greater than 1, but got dropout=${this.dropout} and numLayers=1`,
      );
    }
    this.projSize = assertInt(opts.projSize ?? 0, `${name}({ projSize })`, 0);
    if (this.projSize >= this.hiddenSize) {
      throw new RangeError(
        `${name}({ projSize }): expected projSize < hiddenSize (${this.hiddenSize}), got ${this.projSize}`,
      );
    }
    checkRecurrentSizes(name, mode, this, true);
    const dirs = this.bidirectional ? 2 : 1;
    try {
      this.createWeights(mode, dirs);
    } catch (e) {
      this.dispose(); // e.g. out of memory: free the layers already made
      throw e;
    }
  }

  /** Creates every layer's and direction's parameters. */
  private createWeights(mode: CellMode, dirs: number): void {
    for (let layer = 0; layer < this.numLayers; layer++) {
      const inSize = layer === 0 ? this.inputSize : this.outputSize * dirs;
      const perDir: RecurrentWeights[] = [];
      for (let d = 0; d < dirs; d++) {
        const suffix = `_l${layer}${d === 1 ? '_reverse' : ''}`;
        const w = createRecurrentWeights(
          (n, v) => this.registerParameter(n, v),
          suffix,
          mode,
          inSize,
          this.hiddenSize,
          this.bias,
          this.projSize,
        );
        tieSlots(w, suffix, this.#tied);
        perDir.push(w);
      }
      this.weights.push(perDir);
    }
  }

  /** Setters that make the recurrence read a tied parameter (see tieParameter). */
  readonly #tied = new Map<string, (param: tf.Tensor) => void>();

  protected override canTie(name: string): boolean {
    return this.#tied.has(name);
  }

  /** Weight tying (Module.tieParameter): the layer then reads the shared parameter. */
  override tieParameter(name: string, param: tf.Variable): void {
    super.tieParameter(name, param);
    this.#tied.get(name)?.(param);
  }

  /**
   * input: [T,B,I] | [B,T,I] (batchFirst) | [T,I], initial state (h0, or [h0, c0] for LSTM; zeros if
   * absent) -> [output [..,T,D*P], final state (hN, or [hN, cN] for LSTM)]. A PackedSequence input
   * (data [N, I]) gives a PackedSequence output (data [N, D*P], the input's batch sizes and order);
   * the states are in the original batch order, as PyTorch's.
   */
  abstract override forward(
    input: PackedSequence,
    state?: tf.Tensor | [tf.Tensor, tf.Tensor],
  ): [PackedSequence, tf.Tensor | [tf.Tensor, tf.Tensor]];
  abstract override forward(
    input: tf.Tensor,
    state?: tf.Tensor | [tf.Tensor, tf.Tensor],
    opts?: ForwardOptions,
  ): [tf.Tensor, tf.Tensor | [tf.Tensor, tf.Tensor]];

  /** Dropout on each layer's output except the last, in training mode; settable, as PyTorch's `rnn.dropout = p`. */
  get dropout(): number {
    return this.#dropout;
  }

  /** Sets the dropout probability (in [0, 1]), checked as the option. */
  set dropout(p: number) {
    this.#dropout = assertProbability(p, `${this.constructor.name}({ dropout })`);
  }

  /** Size of h (projSize when projecting, else hiddenSize). */
  get outputSize(): number {
    return this.projSize > 0 ? this.projSize : this.hiddenSize;
  }

  /** @internal The weights of every layer and direction, [layer][direction] (fused inference paths). */
  get stackWeights(): readonly (readonly RecurrentWeights[])[] {
    return this.weights;
  }

  /** D: 2 when bidirectional, else 1. */
  get numDirections(): number {
    return this.bidirectional ? 2 : 1;
  }

  /**
   * @internal Checks the call and runs every layer and direction. `states` holds [h0] or [h0, c0] (or nothing).
   * Returns output ([B,T,D*P] | [T,B,D*P] | [T,D*P]) and final states ([L*D,B,*] | [L*D,*]).
   */
  protected run<In extends tf.Tensor | PackedSequence>(
    input: In,
    states: Array<[string, tf.Tensor | undefined, number]>,
    opts: ForwardOptions | undefined,
  ): { output: In; finals: tf.Tensor[] } {
    this.assertAlive();
    const name = this.constructor.name;
    checkOptions(opts, `${name}.forward`, ['lengths']);
    const result =
      input instanceof PackedSequence
        ? runPacked(name, this.batchFirst, input, opts, (x, o) => this.runPadded(x, states, o))
        : this.runPadded(input as tf.Tensor, states, opts);
    return result as { output: In; finals: tf.Tensor[] };
  }

  /** `run` on a padded tensor input. */
  private runPadded(
    input: tf.Tensor,
    states: Array<[string, tf.Tensor | undefined, number]>,
    opts: ForwardOptions | undefined,
  ): { output: tf.Tensor; finals: tf.Tensor[] } {
    const name = this.constructor.name;
    const layout = this.batchFirst
      ? '[B, T, I] (batchFirst) or unbatched [T, I]'
      : '[T, B, I] or unbatched [T, I]';
    assertRank(input, `${name}.forward(input)`, [2, 3], layout);
    assertFloat(input, `${name}.forward(input)`);
    const batched = input.rank === 3;
    const shape = input.shape as number[];
    if (shape[input.rank - 1] !== this.inputSize) {
      throw new ShapeError(
        `${name}.forward(input): expected last dim inputSize = ${this.inputSize}, got shape ${fmtShape(input.shape)}`,
      );
    }
    const T = batched && this.batchFirst ? shape[1] : shape[0];
    const B = batched ? (this.batchFirst ? shape[0] : shape[1]) : 1;
    if (T === 0)
      throw new ShapeError(
        `${name}.forward(input): expected at least one time step, got shape ${fmtShape(input.shape)}`,
      );
    const LD = this.numLayers * this.numDirections;
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
    assertFinite([
      [`${name}.forward(input)`, input],
      ...states
        .filter((s): s is [string, tf.Tensor, number] => s[1] !== undefined)
        .map(([a, s]) => [`${name}.forward(${a})`, s] as [string, tf.Tensor]),
      ...this.namedParameters(),
    ]);

    if (B === 0) {
      // As PyTorch: an empty batch gives empty outputs and states, still functions of the input, the
      // states and every weight (zero gradients instead of tfjs's "no connection" error).
      const D = this.numDirections * this.outputSize;
      return tf.tidy(() => {
        const given = states.map(([, s]) => s).filter((s): s is tf.Tensor => s !== undefined);
        const all = [input, ...given, ...this.parameters()];
        const zero = tf.mul(tf.addN(all.map((t) => tf.sum(t))), 0);
        return {
          output: tf.add(tf.zeros(this.batchFirst ? [0, T, D] : [T, 0, D]), zero),
          finals: states.map(([, , size]) => tf.add(tf.zeros([LD, 0, size]), zero)),
        };
      });
    }
    const out = naming(`${name}.forward`, () =>
      tf.tidy(() => {
        // An inference runs on host arrays in the kernel when the engine allows it.
        const given = states.map(([, s]) => s ?? null);
        const fast =
          this.training && this.dropout > 0
            ? null
            : stackInference(this.weights, input, this.batchFirst, given, lengths);
        if (fast) return fast;
        const init = states.map(([, s]) =>
          s === undefined ? null : batched ? s : tf.expandDims(s, 1),
        );
        const sizes = states.map(([, , size]) => size);
        const finals: tf.Tensor[][] = init.map(() => []);
        /** Every layer and direction over x, in the layout the engine chose for the whole stack. */
        const stack = (input: tf.Tensor3D, batchFirst: boolean) => {
          let x = input;
          for (let layer = 0; layer < this.numLayers; layer++) {
            if (layer > 0 && this.training && this.dropout > 0)
              x = dropout(x, this.dropout, true) as tf.Tensor3D;
            const outs: tf.Tensor[] = [];
            for (let d = 0; d < this.numDirections; d++) {
              const k = layer * this.numDirections + d;
              // layer k's initial state: zeros when none was given, else row k of h0/c0
              const pick = (s: tf.Tensor | null, size: number) =>
                s === null
                  ? tf.zeros([B, size])
                  : tf.reshape(tf.slice(s, [k, 0, 0], [1, B, size]), [B, size]);
              const state0: State = { h: pick(init[0], sizes[0]) };
              if (init.length > 1) state0.c = pick(init[1], sizes[1]);
              const { output, state } = runSequence(this.weights[layer][d], x, state0, {
                reverse: d === 1,
                lengths,
                batchFirst,
              });
              outs.push(output);
              finals[0].push(state.h);
              if (state.c) finals[1].push(state.c);
            }
            x = (outs.length === 1 ? outs[0] : tf.concat(outs, 2)) as tf.Tensor3D;
          }
          return x;
        };
        const output = batched
          ? inLayout(input as tf.Tensor3D, this.batchFirst, stack)
          : tf.squeeze(stack(tf.expandDims(input, 1) as tf.Tensor3D, false), [1]);
        return {
          output,
          // [L*D, B, *] (one layer and direction: a reshape, no copy); unbatched drops B
          finals: finals.map((f) => {
            const all = f.length === 1 ? tf.expandDims(f[0], 0) : tf.stack(f);
            return batched ? all : tf.squeeze(all, [1]);
          }),
        };
      }),
    );
    return finiteOutputs(out, [
      [`${name}.forward: output`, out.output],
      ...out.finals.map(
        (f, i) => [`${name}.forward: final ${i === 0 ? 'h' : 'c'}`, f] as [string, tf.Tensor],
      ),
    ]);
  }
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
