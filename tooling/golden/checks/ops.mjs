// Checks of @rnnkit/ops functions and options against their fixtures (groups ops, loss, clip,
// embedding). Each takes the fixture ({ t, config }) and the rnnkit API by name.
import * as tf from '@tensorflow/tfjs-core';
import { errors, pick } from './errors.mjs';

/** crossEntropy(logits, targets, config.options): the loss and d sum(loss * w) / d logits. */
export function crossEntropy({ t, config }, api) {
  const e = errors();
  const opts = config.options ?? {};
  const targets = t['input.targets'];
  const f = (logits) => api.crossEntropy(logits, targets, opts);
  lossAndGrad(e, f, t['input.logits'], 'logits', t);
  return e.result;
}

/** mseLoss(pred, target): the loss and its gradient w.r.t. pred. */
export function mseLoss({ t }, api) {
  const e = errors();
  lossAndGrad(e, (p) => api.mseLoss(p, t['input.target']), t['input.pred'], 'pred', t);
  return e.result;
}

// relative: a sum over a dozen targets carries float32 rounding of ~1e-6
function lossAndGrad(e, f, x, name, t) {
  const loss = f(x);
  e.forward('loss', loss, t['output.loss'], 'rel');
  const g = tf.grad((xx) => tf.sum(tf.mul(f(xx), t['lossweight.loss'])))(x);
  e.grad(`input.${name}`, g, t[`grad.input.${name}`]);
  tf.dispose([loss, g]);
}

const NORM_TYPES = { inf: Number.POSITIVE_INFINITY, '-inf': Number.NEGATIVE_INFINITY };

/**
 * clipGradNorm(input.*, maxNorm, { normType }): the total norm and every clipped gradient, NaN
 * where PyTorch has NaN (else an infinite error), relative to max(1, |expected|) elsewhere.
 */
export function clipGradNorm({ t, config }, api) {
  const e = errors();
  const grads = pick(t, 'input.');
  const normType = NORM_TYPES[config.normType] ?? config.normType;
  const out = api.clipGradNorm(grads, config.maxNorm, normType === undefined ? {} : { normType });
  try {
    e.value('total_norm', out.totalNorm, t['output.total_norm'].dataSync()[0]);
    for (const [k, g] of Object.entries(out.grads)) {
      const want = t[`output.${k}`].dataSync();
      g.dataSync().forEach((v, i) => {
        e.value(`${k}[${i}]`, v, want[i]);
      });
    }
  } finally {
    tf.dispose(Object.values(out.grads));
  }
  return e.result;
}

/** clipGradValue(input.*, clipValue): every clipped gradient. */
export function clipGradValue({ t, config }, api) {
  const e = errors();
  const out = api.clipGradValue(pick(t, 'input.'), config.clipValue);
  for (const [k, g] of Object.entries(out)) e.forward(k, g, t[`output.${k}`]);
  tf.dispose(Object.values(out));
  return e.result;
}

/**
 * An Embedding with maxNorm / normType / scaleGradByFreq (group embedding): built from
 * `input.weight` (the weight before the call; `param.weight` when absent), the lookup, the weight
 * after maxNorm renormalised it in place (`param.weight`), and the weight's gradient.
 */
export function embeddingOptions({ t, config }, api) {
  const e = errors();
  const m = new api.Embedding(config.numEmbeddings, config.embeddingDim, {
    ...(config.paddingIdx === null ? {} : { paddingIdx: config.paddingIdx }),
    ...(config.maxNorm === null ? {} : { maxNorm: config.maxNorm }),
    normType: config.normType,
    scaleGradByFreq: config.scaleGradByFreq,
  });
  try {
    m.loadStateDict({ weight: t['input.weight'] ?? t['param.weight'] });
    const y = m.forward(t['input.ids']);
    e.forward('y', y, t['output.y']);
    e.forward('weight', m.weight, t['param.weight']);
    const { value, grads } = tf.variableGrads(
      () => tf.sum(tf.mul(m.forward(t['input.ids']), t['lossweight.y'])),
      [m.weight],
    );
    e.grad('param.weight', grads[m.weight.name], t['grad.param.weight']);
    tf.dispose([y, value, ...Object.values(grads)]);
  } finally {
    m.dispose();
  }
  return e.result;
}
