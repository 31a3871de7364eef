import { ElmanRNN } from '@rnnkit/cell';
import { Linear, Module } from '@rnnkit/ops';
import { createLayer, type RecurrentLayer } from '@rnnkit/rnn';
import * as tf from '@tensorflow/tfjs-core';
import type { CellType } from './options.js';

export interface SequenceOutput {
  /** [B, T, H]: the hidden state at every step. */
  hiddenStates: tf.Tensor3D;
  /** [B, T, 1]: the head applied to every step. */
  predictions: tf.Tensor3D;
}

/**
 * A recurrent layer (RNN/LSTM/GRU with batchFirst, or the tutorial's MyRNN) followed by a
 * Linear(H, 1) head. Keys: "rnn.*" + "head.*", or MyRNN's own "linear1.*"/"linear2.*".
 */
export class SequenceRegressor extends Module {
  readonly cell: CellType;
  readonly hiddenSize: number;
  readonly inputSize: number;
  readonly rnn: RecurrentLayer | null = null;
  readonly head: Linear | null = null;
  readonly myrnn: ElmanRNN | null = null;

  constructor(opts: { cell: CellType; inputSize: number; hiddenSize: number }) {
    super();
    const { cell, inputSize, hiddenSize } = opts;
    this.cell = cell;
    this.inputSize = inputSize;
    this.hiddenSize = hiddenSize;
    if (cell === 'myrnn') {
      this.myrnn = this.registerModule(
        'myrnn',
        new ElmanRNN({ inputDim: inputSize, hiddenSize, outputDim: 1 }),
      );
    } else {
      this.rnn = this.registerModule(
        'rnn',
        createLayer(cell, { inputSize, hiddenSize, batchFirst: true }),
      );
      this.head = this.registerModule('head', new Linear(hiddenSize, 1));
    }
  }

  /** x: [B, T, I] -> the prediction at the last step, [B, 1]. */
  forward(x: tf.Tensor): tf.Tensor2D {
    return tf.tidy(() => {
      const [B, T] = x.shape;
      if (this.myrnn) {
        const { predictions } = this.myrnn.forward(x);
        return tf.reshape(tf.slice(predictions, [0, T - 1, 0], [B, 1, 1]), [B, 1]);
      }
      const [output] = this.rnn!.forward(x);
      const last = tf.reshape(tf.slice(output, [0, T - 1, 0], [B, 1, this.hiddenSize]), [B, -1]);
      return this.head!.forward(last) as tf.Tensor2D;
    });
  }

  /**
   * Multiplies the recurrent (hidden-to-hidden) weights by `gain`: > 1 pushes a network towards
   * exploding gradients, < 1 towards vanishing ones.
   */
  scaleRecurrentWeights(gain: number): void {
    if (gain === 1) return;
    for (const [name, v] of this.namedParameters()) {
      if (name.includes('weight_hh')) {
        v.assign(tf.tidy(() => tf.mul(v, gain)));
      } else if (name === 'myrnn.linear1.weight') {
        // MyRNN's linear1 acts on cat([x, h]): only the columns after the input's are recurrent.
        v.assign(
          tf.tidy(() => {
            const [wx, wh] = tf.split(v, [this.inputSize, this.hiddenSize], 1);
            return tf.concat([wx, tf.mul(wh, gain)], 1);
          }),
        );
      }
    }
  }
}
