import {
  type CellMode,
  checkRecurrentSizes,
  createRecurrentWeights,
  naming,
  type RecurrentWeights,
  tieSlots,
} from '@rnnkit/cell/internal';
import { Module } from '@rnnkit/ops';
import {
  assertBool,
  assertInt,
  assertProbability,
  checkOptions,
  connectedZeros,
  finiteOutputs,
  numericsChecked,
} from '@rnnkit/ops/internal';
import * as tf from '@tensorflow/tfjs-core';
import { checkForward, type StateArg } from './forward-checks.js';
import { type ForwardOptions, RECURRENT_OPTION_KEYS, type RecurrentOptions } from './options.js';
import { runPacked } from './packed/forward.js';
import { PackedSequence } from './packed/sequence.js';
import { runStack } from './stack.js';

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
    checkOptions(opts, name, [...RECURRENT_OPTION_KEYS, ...extra]);
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
        tieSlots(w, suffix, (n, use) => this.onTie(n, use));
        perDir.push(w);
      }
      this.weights.push(perDir);
    }
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
    states: StateArg[],
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
    states: StateArg[],
    opts: ForwardOptions | undefined,
  ): { output: tf.Tensor; finals: tf.Tensor[] } {
    const name = this.constructor.name;
    const { T, B, lengths } = checkForward(name, this, input, states, opts);
    if (B === 0) {
      // As PyTorch: an empty batch gives empty outputs and states, still functions of the input, the
      // states and every weight (zero gradients instead of tfjs's "no connection" error).
      const D = this.numDirections * this.outputSize;
      const LD = this.numLayers * this.numDirections;
      return tf.tidy(() => {
        const given = states.map(([, s]) => s).filter((s): s is tf.Tensor => s !== undefined);
        const [output, ...finals] = connectedZeros(
          [input, ...given, ...this.parameters()],
          [this.batchFirst ? [0, T, D] : [T, 0, D], ...states.map(([, , size]) => [LD, 0, size])],
        );
        return { output, finals };
      });
    }
    const stack = {
      weights: this.weights,
      dropout: this.training ? this.dropout : 0,
      batchFirst: this.batchFirst,
    };
    const init = states.map(([, s, size]): [tf.Tensor | undefined, number] => [s, size]);
    const out = naming(`${name}.forward`, () => runStack(stack, input, init, B, lengths));
    if (!numericsChecked()) return out;
    return finiteOutputs(out, [
      [`${name}.forward: output`, out.output],
      ...out.finals.map(
        (f, i) => [`${name}.forward: final ${i === 0 ? 'h' : 'c'}`, f] as [string, tf.Tensor],
      ),
    ]);
  }
}

/** What RNN and GRU share: a layer whose state is h alone. */
export abstract class HiddenStateLayer extends RecurrentLayer {
  /**
   * input: [T,B,I] | [B,T,I] (batchFirst) | [T,I], h0: [L*D,B,H] | [L*D,H] (zeros if absent)
   * -> [output [..,T,D*H], hN [L*D,B,H] | [L*D,H]]
   */
  override forward(input: PackedSequence, h0?: tf.Tensor): [PackedSequence, tf.Tensor];
  override forward(input: tf.Tensor, h0?: tf.Tensor, opts?: ForwardOptions): [tf.Tensor, tf.Tensor];
  override forward(
    input: tf.Tensor | PackedSequence,
    h0?: tf.Tensor,
    opts?: ForwardOptions,
  ): [tf.Tensor | PackedSequence, tf.Tensor] {
    const { output, finals } = this.run(input, [['h0', h0, this.hiddenSize]], opts);
    return [output, finals[0]];
  }
}
