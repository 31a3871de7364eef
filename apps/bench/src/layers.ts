/**
 * tfjs-layers with PyTorch's weights: the layout conversion, and a GRU cell with Keras's
 * reset_after=True semantics (PyTorch's GRU), which stock tfjs-layers does not offer.
 */
import * as tf from '@tensorflow/tfjs-core';
// tfjs-layers calls chained tensor methods; tfjs-core's Node bundle does not register them.
import './vendor/tfjs-chained-ops.js';
import * as tfl from '@tensorflow/tfjs-layers';
import type { CellKind } from './cases.js';

/** PyTorch's single-layer parameters: weight_ih [G*H, I], weight_hh [G*H, H], bias_ih, bias_hh [G*H]. */
export interface TorchWeights {
  weight_ih: tf.Tensor2D;
  weight_hh: tf.Tensor2D;
  bias_ih: tf.Tensor1D;
  bias_hh: tf.Tensor1D;
}

/** rnnkit/PyTorch state dict (layer 0) -> TorchWeights (the same tensors, not copies). */
export function torchWeights(sd: Record<string, tf.Tensor>): TorchWeights {
  const get = (k: string) => {
    const t = sd[`${k}_l0`];
    if (!t) throw new Error(`torchWeights: the state dict has no ${k}_l0`);
    return t;
  };
  return {
    weight_ih: get('weight_ih') as tf.Tensor2D,
    weight_hh: get('weight_hh') as tf.Tensor2D,
    bias_ih: get('bias_ih') as tf.Tensor1D,
    bias_hh: get('bias_hh') as tf.Tensor1D,
  };
}

/** PyTorch GRU gate blocks r, z, n -> Keras z, r, h (along axis 0 of a [3H, *] or [3H] tensor). */
function rzn2zrn<T extends tf.Tensor>(w: T): T {
  const [r, z, n] = tf.split(w, 3, 0);
  return tf.concat([z, r, n], 0) as T;
}

/**
 * PyTorch layout -> the weights of a Keras/tfjs-layers layer, in `layer.getWeights()` order:
 *   RNN, LSTM: kernel = weight_ih^T, recurrentKernel = weight_hh^T, bias = bias_ih + bias_hh
 *              (LSTM gates i, f, g, o are Keras's i, f, c, o: no reordering);
 *   GRU:       gates r, z, n -> z, r, h, then transposed; bias = [bias_ih; bias_hh] as [2, 3H]
 *              (reset_after=True keeps the recurrent bias apart, inside r * (h W_hn + b_hn)).
 */
export function toKeras(cell: CellKind, w: TorchWeights): tf.Tensor[] {
  return tf.tidy(() => {
    if (cell === 'gru') {
      return [
        tf.transpose(rzn2zrn(w.weight_ih)),
        tf.transpose(rzn2zrn(w.weight_hh)),
        tf.stack([rzn2zrn(w.bias_ih), rzn2zrn(w.bias_hh)]),
      ];
    }
    return [tf.transpose(w.weight_ih), tf.transpose(w.weight_hh), tf.add(w.bias_ih, w.bias_hh)];
  });
}

type RnnCellArg = Parameters<typeof tfl.layers.rnn>[0]['cell'];

// tfjs-layers does not export its cell base classes: take GRUCell from an instance.
const GRUCellBase: any = Object.getPrototypeOf(tfl.layers.gruCell({ units: 1 })).constructor;

/**
 * Keras's GRUCell with reset_after=True (implementation 2), which is PyTorch's GRU:
 *   x W + b_i = [x_z, x_r, x_h], h U + b_r = [h_z, h_r, h_h]
 *   z = σ(x_z + h_z), r = σ(x_r + h_r), hh = tanh(x_h + r * h_h), h' = z * h + (1 - z) * hh
 * tfjs-layers 4.22's GRUCell throws on resetAfter: true, so this subclass supplies it. It runs in
 * tfjs-layers' own RNN loop with tfjs-layers' weights, as the stock cells do.
 */
export class ResetAfterGRUCell extends GRUCellBase {
  static className = 'ResetAfterGRUCell';

  constructor(args: Record<string, unknown>) {
    super(args);
  }

  build(inputShape: number[] | number[][]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as number[];
    const units = this.units as number;
    this.kernel = this.addWeight(
      'kernel',
      [shape[shape.length - 1], 3 * units],
      null,
      this.kernelInitializer,
      this.kernelRegularizer,
      true,
      this.kernelConstraint,
    );
    this.recurrentKernel = this.addWeight(
      'recurrent_kernel',
      [units, 3 * units],
      null,
      this.recurrentInitializer,
      this.recurrentRegularizer,
      true,
      this.recurrentConstraint,
    );
    this.bias = this.addWeight(
      'bias',
      [2, 3 * units],
      null,
      this.biasInitializer,
      this.biasRegularizer,
      true,
      this.biasConstraint,
    );
    this.built = true;
  }

  call(inputs: tf.Tensor[]): tf.Tensor[] {
    return tf.tidy(() => {
      const [x, h] = inputs as [tf.Tensor2D, tf.Tensor2D];
      const [bi, bh] = tf.unstack(this.bias.read() as tf.Tensor2D);
      const mx = tf.add(tf.matMul(x, this.kernel.read() as tf.Tensor2D), bi);
      const mh = tf.add(tf.matMul(h, this.recurrentKernel.read() as tf.Tensor2D), bh);
      const [xz, xr, xh] = tf.split(mx, 3, 1);
      const [hz, hr, hh] = tf.split(mh, 3, 1);
      const z = tf.sigmoid(tf.add(xz, hz));
      const r = tf.sigmoid(tf.add(xr, hr));
      const cand = tf.tanh(tf.add(xh, tf.mul(r, hh)));
      const out = tf.add(tf.mul(z, h), tf.mul(tf.sub(1, z), cand));
      return [out, out];
    });
  }

  getConfig() {
    return { ...super.getConfig(), resetAfter: true };
  }
}

/**
 * A one-layer tfjs-layers model equivalent to PyTorch's batch_first RNN/LSTM/GRU with `w`:
 * simpleRNN (tanh), lstm and gru-with-reset_after, sigmoid gates (tfjs-layers' default recurrent
 * activation is hardSigmoid), returnSequences: true. `stockGru` builds tfjs-layers' own gru
 * (reset_after=False): a different function, given weights as close as its layout allows.
 */
export function buildLayersModel(
  cell: CellKind,
  w: TorchWeights,
  opts: { stockGru?: boolean } = {},
): { model: tfl.Sequential; layer: tfl.layers.Layer } {
  const H = w.weight_hh.shape[1];
  const I = w.weight_ih.shape[1];
  const common = { units: H, returnSequences: true, inputShape: [null, I] as [null, number] };
  const gates = { recurrentActivation: 'sigmoid' as const };
  const init = { kernelInitializer: 'zeros', recurrentInitializer: 'zeros' } as const;
  let layer: tfl.layers.Layer;
  if (cell === 'rnn') layer = tfl.layers.simpleRNN({ ...common, ...init, activation: 'tanh' });
  else if (cell === 'lstm') layer = tfl.layers.lstm({ ...common, ...init, ...gates });
  else if (opts.stockGru) layer = tfl.layers.gru({ ...common, ...init, ...gates });
  else {
    const c = new ResetAfterGRUCell({ units: H, ...init, ...gates });
    layer = tfl.layers.rnn({
      cell: c as unknown as RnnCellArg,
      returnSequences: true,
      inputShape: [null, I],
    });
  }
  const model = tfl.sequential({ layers: [layer] });
  const keras = toKeras(cell, w);
  if (cell === 'gru' && opts.stockGru) {
    // reset_after=False has one bias [3H]: the best it can do is b_ih + b_hh.
    const b = tf.sum(keras[2], 0);
    tf.dispose(keras[2]);
    keras[2] = b;
  }
  layer.setWeights(keras);
  tf.dispose(keras);
  return { model, layer };
}
