import { ElmanRNN } from '@rnnkit/cell';
import { SequenceEncoder } from '@rnnkit/heads';
import { Module } from '@rnnkit/ops';
import * as tf from '@tensorflow/tfjs-core';
import type { CellType } from './options.js';

/**
 * A recurrent layer and a Linear(H, 1) on its last step: @rnnkit/heads' SequenceEncoder (RNN, LSTM
 * or GRU, batch first, pooling 'last', keys "encoder.rnn.*" + "encoder.proj.*"), or the tutorial's
 * MyRNN, whose linear2 is that head (keys "myrnn.linear1.*" + "myrnn.linear2.*").
 */
export class SequenceRegressor extends Module {
  readonly cell: CellType;
  readonly hiddenSize: number;
  readonly inputSize: number;
  readonly encoder: SequenceEncoder | null = null;
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
      this.encoder = this.registerModule(
        'encoder',
        new SequenceEncoder({ inputSize, cell, hiddenSize, pooling: 'last', outputSize: 1 }),
      );
    }
  }

  /** x: [B, T, I] -> the prediction at the last step, [B, 1]. */
  forward(x: tf.Tensor): tf.Tensor2D {
    if (this.encoder) return this.encoder.forward(x) as tf.Tensor2D;
    return tf.tidy(() => {
      const [B, T] = x.shape;
      const { predictions } = this.myrnn!.forward(x);
      return tf.reshape(tf.slice(predictions, [0, T - 1, 0], [B, 1, 1]), [B, 1]);
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
