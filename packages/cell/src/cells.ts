import { Module, ShapeError } from '@rnnkit/ops';
import {
  assertBool,
  assertFinite,
  assertFloat,
  assertInt,
  assertRank,
  assertState,
  assertStatePair,
  checkOptions,
  connectedZeros,
  finiteOutputs,
  fmtShape,
} from '@rnnkit/ops/internal';
import * as tf from '@tensorflow/tfjs-core';
import { naming } from './sequence/engine.js';
import { runSequence } from './sequence/run.js';
import {
  type CellMode,
  checkRecurrentSizes,
  createRecurrentWeights,
  type RecurrentWeights,
  rnnMode,
  type State,
  tieSlots,
} from './weights.js';

/** Options of {@link LSTMCell} and {@link GRUCell} (and RNNCell's base): PyTorch's, in camelCase. */
export interface CellOptions {
  /** I, the number of features of the input x (input_size). */
  inputSize: number;
  /** H, the number of features of the hidden state (hidden_size). */
  hiddenSize: number;
  /**
   * Learn the biases b_ih and b_hh (bias).
   * @default true
   */
  bias?: boolean;
}

/** Options of {@link RNNCell}: CellOptions plus the nonlinearity. */
export interface RNNCellOptions extends CellOptions {
  /**
   * The activation of the recurrence.
   * @default 'tanh'
   */
  nonlinearity?: 'tanh' | 'relu';
}

/**
 * Shared by RNNCell, LSTMCell and GRUCell: PyTorch keys weight_ih, weight_hh, bias_ih, bias_hh;
 * batched [B, I] or unbatched [I] input; a missing state means zeros.
 */
abstract class RecurrentCell extends Module {
  /** See {@link CellOptions.inputSize}. */
  readonly inputSize: number;
  /** See {@link CellOptions.hiddenSize}. */
  readonly hiddenSize: number;
  /** See {@link CellOptions.bias}. */
  readonly bias: boolean;
  /** @internal the weights in the form the recurrence engine reads */
  protected readonly w: RecurrentWeights;

  constructor(name: string, mode: CellMode, opts: CellOptions, extra: string[] = []) {
    super();
    checkOptions(opts, name, ['inputSize', 'hiddenSize', 'bias', ...extra]);
    this.inputSize = assertInt(opts?.inputSize, `${name}({ inputSize })`);
    // 0 is allowed, as PyTorch's cells (outputs [B, 0])
    this.hiddenSize = assertInt(opts.hiddenSize, `${name}({ hiddenSize })`, 0);
    this.bias = assertBool(opts.bias ?? true, `${name}({ bias })`);
    checkRecurrentSizes(name, mode, this, false);
    try {
      this.w = createRecurrentWeights(
        (n, v) => this.registerParameter(n, v),
        '',
        mode,
        this.inputSize,
        this.hiddenSize,
        this.bias,
      );
      tieSlots(this.w, '', (n, use) => this.onTie(n, use));
    } catch (e) {
      this.dispose(); // e.g. out of memory: free the parameters already made
      throw e;
    }
  }

  /** @internal Checks x ([B, I] or [I]) and a state tensor ([B, H] or [H], or absent); returns B or null if unbatched. */
  protected checkInput(
    x: tf.Tensor,
    states: Array<[string, tf.Tensor | undefined]>,
  ): number | null {
    const name = this.constructor.name;
    assertRank(x, `${name}.forward(x)`, [1, 2], '[B, I] or unbatched [I]');
    assertFloat(x, `${name}.forward(x)`);
    if (x.shape[x.rank - 1] !== this.inputSize) {
      throw new ShapeError(
        `${name}.forward(x): expected last dim inputSize = ${this.inputSize}, got shape ${fmtShape(x.shape)}`,
      );
    }
    const batch = x.rank === 2 ? x.shape[0] : null;
    for (const [arg, s] of states) {
      if (s === undefined) continue;
      assertState(
        s,
        `${name}.forward(${arg})`,
        batch === null ? [this.hiddenSize] : [batch, this.hiddenSize],
      );
    }
    assertFinite([
      [`${name}.forward(x)`, x],
      ...states
        .filter((s): s is [string, tf.Tensor] => s[1] !== undefined)
        .map(([arg, s]) => [`${name}.forward(${arg})`, s] as [string, tf.Tensor]),
      ...this.namedParameters(),
    ]);
    return batch;
  }

  /** @internal One step on [B, I], run as a sequence of T = 1 (unbatched input is lifted to B = 1). */
  protected step(x: tf.Tensor, state: Partial<State>, batch: number | null): State {
    const name = this.constructor.name;
    const out = naming(`${name}.forward`, () =>
      tf.tidy((): State => {
        const lift = (t: tf.Tensor) => (batch === null ? tf.expandDims(t, 0) : t);
        const B = batch ?? 1;
        const zeros = () => tf.zeros([B, this.hiddenSize]);
        const init: State = { h: state.h ? lift(state.h) : zeros() };
        if (this.w.mode === 'lstm') init.c = state.c ? lift(state.c) : zeros();
        if (B === 0 || this.hiddenSize === 0)
          return emptyStep(x, init, this.parameters(), batch === null);
        const out = runSequence(this.w, tf.reshape(x, [1, B, this.inputSize]), init).state;
        const drop = (t: tf.Tensor) => (batch === null ? tf.squeeze(t, [0]) : t);
        return { h: drop(out.h), ...(out.c ? { c: drop(out.c) } : {}) };
      }),
    );
    const named: Array<[string, tf.Tensor]> = [[`${name}.forward: the new h`, out.h]];
    if (out.c) named.push([`${name}.forward: the new c`, out.c]);
    return finiteOutputs(out, named);
  }
}

/**
 * An empty batch or hiddenSize 0: zeros of the state's shape, still a function of x, the state and
 * every parameter (their gradients are zeros, as PyTorch's, instead of "no connection").
 */
function emptyStep(x: tf.Tensor, init: State, params: tf.Tensor[], unbatched: boolean): State {
  const states = Object.values(init);
  const out = connectedZeros(
    [x, ...states, ...params],
    states.map((s) => s.shape),
  ).map((z) => (unbatched ? tf.squeeze(z, [0]) : z));
  return { h: out[0], ...(init.c ? { c: out[1] } : {}) };
}

/**
 * torch.nn.RNNCell: h' = tanh|relu(x W_ih^T + b_ih + h W_hh^T + b_hh).
 * @example
 * ```ts
 * const cell = new RNNCell({ inputSize: 10, hiddenSize: 20 }); // torch.nn.RNNCell(10, 20)
 * let h = tf.zeros([3, 20]);
 * for (const x of tf.unstack(tf.randomNormal([6, 3, 10]))) h = cell.forward(x, h); // [3, 20]
 * ```
 */
export class RNNCell extends RecurrentCell {
  /** See {@link RNNCellOptions.nonlinearity}. */
  readonly nonlinearity: 'tanh' | 'relu';

  constructor(opts: RNNCellOptions) {
    const { nonlinearity, mode } = rnnMode(opts?.nonlinearity, 'RNNCell({ nonlinearity })');
    super('RNNCell', mode, opts, ['nonlinearity']);
    this.nonlinearity = nonlinearity;
  }

  /** x: [B, I] | [I], h: [B, H] | [H] (zeros if absent) -> h' of h's shape */
  forward(x: tf.Tensor, h?: tf.Tensor): tf.Tensor {
    this.assertAlive();
    const batch = this.checkInput(x, [['h', h]]);
    return this.step(x, { h }, batch).h;
  }
}

/**
 * torch.nn.LSTMCell, gates i, f, g, o.
 * @example
 * ```ts
 * const cell = new LSTMCell({ inputSize: 10, hiddenSize: 20 });
 * const [h, c] = cell.forward(tf.randomNormal([3, 10])); // state zeros: [3, 20] each
 * ```
 */
export class LSTMCell extends RecurrentCell {
  constructor(opts: CellOptions) {
    super('LSTMCell', 'lstm', opts);
  }

  /** x: [B, I] | [I], state [h, c] each [B, H] | [H] (zeros if absent) -> [h', c'] */
  forward(x: tf.Tensor, state?: [tf.Tensor, tf.Tensor]): [tf.Tensor, tf.Tensor] {
    this.assertAlive();
    assertStatePair(state, 'LSTMCell.forward(state)', '[h, c]');
    const batch = this.checkInput(x, [
      ['state[0]', state?.[0]],
      ['state[1]', state?.[1]],
    ]);
    const out = this.step(x, { h: state?.[0], c: state?.[1] }, batch);
    return [out.h, out.c!];
  }
}

/**
 * torch.nn.GRUCell, gates r, z, n.
 * @example
 * ```ts
 * const cell = new GRUCell({ inputSize: 10, hiddenSize: 20 });
 * const h = cell.forward(tf.randomNormal([3, 10]), tf.zeros([3, 20])); // [3, 20]
 * ```
 */
export class GRUCell extends RecurrentCell {
  constructor(opts: CellOptions) {
    super('GRUCell', 'gru', opts);
  }

  /** x: [B, I] | [I], h: [B, H] | [H] (zeros if absent) -> h' */
  forward(x: tf.Tensor, h?: tf.Tensor): tf.Tensor {
    this.assertAlive();
    const batch = this.checkInput(x, [['h', h]]);
    return this.step(x, { h }, batch).h;
  }
}
