import { Linear, linear, Module, ShapeError } from '@rnnkit/ops';
import {
  assertFinite,
  assertFloat,
  assertInt,
  assertOneOf,
  assertRank,
  assertShape,
  assertState,
  checkOptions,
  finiteOutputs,
  fmtShape,
  uniform,
} from '@rnnkit/ops/internal';
import * as tf from '@tensorflow/tfjs-core';
import { naming } from './sequence/engine.js';
import { runSequence } from './sequence/run.js';
import type { RecurrentWeights } from './weights.js';

/** The nonlinearity of the tutorial's recurrence. */
export type Activation = 'relu' | 'tanh';

/** Options of {@link ConcatRNNCell}. */
export interface ConcatRNNCellOptions {
  /** I, the number of features of x. */
  inputSize: number;
  /** H, the number of features of h. */
  hiddenSize: number;
  /**
   * The nonlinearity after the Linear.
   * @default 'relu'
   */
  activation?: Activation;
}

/**
 * The tutorial's recurrence: h' = act(Linear(cat([x, h]))). Keys weight [H, I+H], bias [H]:
 * exactly a torch.nn.Linear(I + H, H), so inside ElmanRNN they load as `linear1.*`.
 * @example
 * ```ts
 * const cell = new ConcatRNNCell({ inputSize: 300, hiddenSize: 256 });
 * const h = cell.forward(tf.randomUniform([2, 300])); // h zeros: [2, 256]
 * ```
 */
export class ConcatRNNCell extends Module {
  /** See {@link ConcatRNNCellOptions.inputSize}. */
  readonly inputSize: number;
  /** See {@link ConcatRNNCellOptions.hiddenSize}. */
  readonly hiddenSize: number;
  /** See {@link ConcatRNNCellOptions.activation}. */
  readonly activation: Activation;
  /** [H, I + H] */
  readonly weight: tf.Variable;
  /** [H] */
  readonly bias: tf.Variable;

  constructor(opts: ConcatRNNCellOptions) {
    super();
    checkOptions(opts, 'ConcatRNNCell', ['inputSize', 'hiddenSize', 'activation']);
    this.inputSize = assertInt(opts?.inputSize, 'ConcatRNNCell({ inputSize })');
    this.hiddenSize = assertInt(opts.hiddenSize, 'ConcatRNNCell({ hiddenSize })');
    this.activation = assertOneOf(opts.activation ?? 'relu', 'ConcatRNNCell({ activation })', [
      'relu',
      'tanh',
    ] as const);
    const bound = 1 / Math.sqrt(this.inputSize + this.hiddenSize);
    this.weight = this.registerParameter(
      'weight',
      uniform([this.hiddenSize, this.inputSize + this.hiddenSize], -bound, bound),
    );
    this.bias = this.registerParameter('bias', uniform([this.hiddenSize], -bound, bound));
  }

  /** x: [B, I], h: [B, H] (zeros if absent) -> [B, H] */
  forward(x: tf.Tensor, h?: tf.Tensor): tf.Tensor {
    this.assertAlive();
    assertRank(x, 'ConcatRNNCell.forward(x)', [2], '[B, I]');
    assertShape(x, 'ConcatRNNCell.forward(x)', [null, this.inputSize]);
    assertFloat(x, 'ConcatRNNCell.forward(x)');
    if (h !== undefined) assertState(h, 'ConcatRNNCell.forward(h)', [x.shape[0], this.hiddenSize]);
    assertFinite([
      ['ConcatRNNCell.forward(x)', x],
      ...(h ? [['ConcatRNNCell.forward(h)', h] as [string, tf.Tensor]] : []),
      ...this.namedParameters(),
    ]);
    const out = tf.tidy(() => {
      const hh = h ?? tf.zeros([x.shape[0], this.hiddenSize]);
      const pre = linear(tf.concat([x, hh], 1), this.weight, this.bias);
      return this.activation === 'relu' ? tf.relu(pre) : tf.tanh(pre);
    });
    return finiteOutputs(out, [['ConcatRNNCell.forward: the new h', out]]);
  }

  /**
   * @internal The same recurrence split as weight = [W_x | W_h], so a sequence's inputs are
   * projected in one matMul.
   */
  recurrentWeights(): RecurrentWeights {
    const [wx, wh] = tf.split(this.weight, [this.inputSize, this.hiddenSize], 1);
    return {
      mode: this.activation === 'relu' ? 'rnn_relu' : 'rnn_tanh',
      hiddenSize: this.hiddenSize,
      wih: wx,
      whh: wh,
      bih: this.bias,
      bhh: null,
      whr: null,
    };
  }
}

/** Options of {@link ElmanRNN}, named as the tutorial's MyRNN(emb_size, hidden_dim, output_dim). */
export interface ElmanRNNOptions {
  /** E, the number of features of each input step (emb_size). */
  inputDim: number;
  /** H, the number of features of the hidden state (hidden_dim). */
  hiddenSize: number;
  /** The number of outputs per step of linear2 (output_dim). */
  outputDim: number;
  /**
   * The nonlinearity of the recurrence (the tutorial's is ReLU).
   * @default 'relu'
   */
  activation?: Activation;
}

/** What {@link ElmanRNN.forward} returns, as the tutorial's `hidden_states, h, predictions`. */
export interface ElmanRNNOutput {
  /** [B, T, H] */
  hiddenStates: tf.Tensor;
  /** [B, H], the last hidden state */
  h: tf.Tensor;
  /** [B, T, outputDim] */
  predictions: tf.Tensor;
}

/**
 * The tutorial's MyRNN: linear1 = Linear(E + H, H) on cat([x_t, h]) then ReLU, over every step,
 * and linear2 = Linear(H, outputDim) on every hidden state. Keys linear1.*, linear2.*: the
 * tutorial's state_dict loads as is.
 * @example
 * ```ts
 * const rnn = new ElmanRNN({ inputDim: 300, hiddenSize: 256, outputDim: 1 }); // MyRNN(300, 256, 1)
 * const { hiddenStates, h, predictions } = rnn.forward(tf.randomUniform([2, 10, 300]));
 * ```
 */
export class ElmanRNN extends Module {
  /** The recurrence: a ConcatRNNCell, keys `linear1.weight` [H, E + H], `linear1.bias` [H]. */
  readonly linear1: ConcatRNNCell;
  /** The per-step output layer, keys `linear2.weight` [outputDim, H], `linear2.bias`. */
  readonly linear2: Linear;

  constructor(opts: ElmanRNNOptions) {
    super();
    checkOptions(opts, 'ElmanRNN', ['inputDim', 'hiddenSize', 'outputDim', 'activation']);
    const inputDim = assertInt(opts?.inputDim, 'ElmanRNN({ inputDim })');
    const hiddenSize = assertInt(opts.hiddenSize, 'ElmanRNN({ hiddenSize })');
    const outputDim = assertInt(opts.outputDim, 'ElmanRNN({ outputDim })');
    const activation = assertOneOf(opts.activation ?? 'relu', 'ElmanRNN({ activation })', [
      'relu',
      'tanh',
    ] as const);
    this.linear1 = this.registerModule(
      'linear1',
      new ConcatRNNCell({ inputSize: inputDim, hiddenSize, activation }),
    );
    this.linear2 = this.registerModule('linear2', new Linear(hiddenSize, outputDim));
  }

  /** xt: [B, T, E], h0: [B, H] (zeros if absent) -> { hiddenStates [B,T,H], h [B,H], predictions [B,T,out] } */
  forward(xt: tf.Tensor, h0?: tf.Tensor): ElmanRNNOutput {
    this.assertAlive();
    const { inputSize, hiddenSize } = this.linear1;
    assertRank(xt, 'ElmanRNN.forward(xt)', [3], '[B, T, E]');
    assertFloat(xt, 'ElmanRNN.forward(xt)');
    const [B, T, E] = xt.shape;
    if (E !== inputSize) {
      throw new ShapeError(
        `ElmanRNN.forward(xt): expected [B, T, ${inputSize}] (inputDim = ${inputSize}), got ${fmtShape(xt.shape)}`,
      );
    }
    if (T === 0)
      throw new ShapeError(
        `ElmanRNN.forward(xt): expected at least one time step, got ${fmtShape(xt.shape)}`,
      );
    if (h0 !== undefined) assertState(h0, 'ElmanRNN.forward(h0)', [B, hiddenSize]);
    assertFinite([
      ['ElmanRNN.forward(xt)', xt],
      ...(h0 ? [['ElmanRNN.forward(h0)', h0] as [string, tf.Tensor]] : []),
      ...this.namedParameters(),
    ]);
    const out = naming('ElmanRNN.forward', () =>
      tf.tidy(() => {
        const init = { h: h0 ?? tf.zeros([B, hiddenSize]) };
        const { output: hiddenStates, state } = runSequence(
          this.linear1.recurrentWeights(),
          xt as tf.Tensor3D,
          init,
          { batchFirst: true },
        );
        return { hiddenStates, h: state.h, predictions: this.linear2.forward(hiddenStates) };
      }),
    );
    return finiteOutputs(out, [
      ['ElmanRNN.forward: hiddenStates', out.hiddenStates],
      ['ElmanRNN.forward: h', out.h],
      ['ElmanRNN.forward: predictions', out.predictions],
    ]);
  }
}
