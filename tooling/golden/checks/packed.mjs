// Checks of torch.nn.utils.rnn's counterparts in @rnnkit/rnn (group packed) and of the layers on a
// PackedSequence (phase2/packed_forward_*).
import * as tf from '@tensorflow/tfjs-core';
import { errors, pick } from './errors.mjs';

const ints = (t) => Array.from(t.dataSync());

/** The packed sequence's integer parts against PyTorch's, those the fixture has. */
function samePacking(e, packed, t) {
  const parts = {
    batch_sizes: packed.batchSizes,
    sorted_indices: packed.sortedIndices,
    unsorted_indices: packed.unsortedIndices,
  };
  for (const [k, got] of Object.entries(parts))
    if (`output.${k}` in t) e.same(k, got ?? [], ints(t[`output.${k}`]));
}

/**
 * packPaddedSequence(x, lengths) then padPackedSequence, plain and with paddingValue -1.5 and
 * totalLength T + 2: data, batch sizes, indices, both paddings, and d/dx of
 * sum(data * w1) + sum(padded * w2) + sum(padded_total * w3).
 */
export function packPaddedSequence({ t, config }, api) {
  const e = errors();
  const x = t['input.x'];
  const T = x.shape[config.batchFirst ? 1 : 0];
  const opts = { batchFirst: config.batchFirst, enforceSorted: config.enforceSorted };
  const bf = { batchFirst: config.batchFirst };
  const run = (xx) => {
    const p = api.packPaddedSequence(xx, config.lengths, opts);
    const [padded] = api.padPackedSequence(p, bf);
    const [total] = api.padPackedSequence(p, { ...bf, paddingValue: -1.5, totalLength: T + 2 });
    return { packed: p, out: { data: p.data, padded, padded_total: total } };
  };
  const { packed, out } = run(x);
  if (config.enforceSorted && packed.sortedIndices !== undefined)
    throw new Error('sorted_indices: expected none for sorted lengths');
  samePacking(e, packed, t);
  for (const [k, v] of Object.entries(out)) e.forward(k, v, t[`output.${k}`]);
  tf.dispose(Object.values(out));
  const g = tf.grad((xx) =>
    tf.addN(Object.entries(run(xx).out).map(([k, v]) => tf.sum(tf.mul(v, t[`lossweight.${k}`])))),
  )(x);
  e.grad('input.x', g, t['grad.input.x']);
  g.dispose();
  return e.result;
}

/** input.s0, input.s1, ... in order. */
const sequences = (t) => {
  const seqs = [];
  for (let i = 0; `input.s${i}` in t; i++) seqs.push(t[`input.s${i}`]);
  return seqs;
};

/** padSequence(s0, s1, ...): the padded batch and each sequence's gradient. */
export function padSequence({ t, config }, api) {
  const e = errors();
  const seqs = sequences(t);
  const opts = {
    batchFirst: config.batchFirst,
    paddingValue: config.paddingValue,
    paddingSide: config.paddingSide,
  };
  const y = api.padSequence(seqs, opts);
  e.forward('y', y, t['output.y']);
  const grads = tf.grads((...s) => tf.sum(tf.mul(api.padSequence(s, opts), t['lossweight.y'])))(
    seqs,
  );
  grads.forEach((g, i) => {
    e.grad(`input.s${i}`, g, t[`grad.input.s${i}`]);
  });
  tf.dispose([y, ...grads]);
  return e.result;
}

/** packSequence(s0, s1, ...): data, batch sizes, indices, each sequence's gradient, and unpackSequence giving the sequences back. */
export function packSequence({ t, config }, api) {
  const e = errors();
  const seqs = sequences(t);
  const opts = { enforceSorted: config.enforceSorted };
  const packed = api.packSequence(seqs, opts);
  samePacking(e, packed, t);
  e.forward('data', packed.data, t['output.data']);
  const back = api.unpackSequence(packed);
  back.forEach((s, i) => {
    e.forward(`unpacked.s${i}`, s, seqs[i]);
  });
  tf.dispose([packed.data, ...back]);
  const grads = tf.grads((...s) =>
    tf.sum(tf.mul(api.packSequence(s, opts).data, t['lossweight.data'])),
  )(seqs);
  grads.forEach((g, i) => {
    e.grad(`input.s${i}`, g, t[`grad.input.s${i}`]);
  });
  tf.dispose(grads);
  return e.result;
}

/**
 * RNN/LSTM/GRU.forward on a PackedSequence (phase2/packed_forward_*: x time-first, unsorted
 * lengths): the packed output and h_n (c_n) in the original batch order, and the gradients of x
 * and every parameter.
 */
export function packedForward({ t, config }, api) {
  const e = errors();
  const m = new api[config.kind]({
    inputSize: config.inputSize,
    hiddenSize: config.hiddenSize,
    numLayers: config.numLayers,
    bidirectional: config.bidirectional,
  });
  const run = (x) => {
    const p = api.packPaddedSequence(x, config.lengths, { enforceSorted: false });
    const [out, state] = m.forward(p);
    p.dispose();
    const [h_n, c_n] = Array.isArray(state) ? state : [state];
    return { out, o: { data: out.data, h_n, ...(c_n ? { c_n } : {}) } };
  };
  try {
    m.loadStateDict(pick(t, 'param.'));
    const { out, o } = run(t['input.x']);
    if (!(out instanceof api.PackedSequence))
      throw new Error('forward did not return a PackedSequence');
    samePacking(e, out, t);
    for (const [k, v] of Object.entries(o)) e.forward(k, v, t[`output.${k}`]);
    tf.dispose(Object.values(o));
    const loss = (x) =>
      tf.tidy(() =>
        tf.addN(Object.entries(run(x).o).map(([k, v]) => tf.sum(tf.mul(v, t[`lossweight.${k}`])))),
      );
    const gx = tf.grad(loss)(t['input.x']);
    const { value, grads } = tf.variableGrads(() => loss(t['input.x']));
    e.grad('input.x', gx, t['grad.input.x']);
    for (const [k, p] of m.namedParameters())
      e.grad(`param.${k}`, grads[p.name], t[`grad.param.${k}`]);
    tf.dispose([gx, value, ...Object.values(grads)]);
  } finally {
    m.dispose();
  }
  return e.result;
}
