// Every committed fixture, the check that runs it, and its tolerances: the one list the harness
// runs and the packages' parity tests draw from.
import { readdirSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { decodes } from './checks/decode.mjs';
import * as ops from './checks/ops.mjs';
import * as packed from './checks/packed.mjs';
import { torchCheckpoint } from './checks/torch.mjs';
import { gradGradFixture, tiedLMTraining } from './checks/train.mjs';
import { FIXTURES, readFixture } from './fixtures.mjs';
import { adapters, runFixture } from './parity.mjs';

/** Worst forward (abs, or as the check says) and gradient (relative) errors each check allows. */
const MODULE_TOL = { forward: 1e-5, grad: 1e-4 };
export const CHECKS = {
  crossEntropy: { run: ops.crossEntropy, tol: { forward: 1e-6, grad: 1e-4 } },
  mseLoss: { run: ops.mseLoss, tol: { forward: 1e-6, grad: 1e-4 } },
  clipGradNorm: { run: ops.clipGradNorm, tol: { forward: 1e-6, grad: 0 } },
  clipGradValue: { run: ops.clipGradValue, tol: { forward: 0, grad: 0 } },
  'Embedding.maxNorm': { run: ops.embeddingOptions, tol: { forward: 1e-6, grad: 1e-6 } },
  packPaddedSequence: { run: packed.packPaddedSequence, tol: { forward: 0, grad: 1e-5 } },
  padSequence: { run: packed.padSequence, tol: { forward: 0, grad: 1e-6 } },
  packSequence: { run: packed.packSequence, tol: { forward: 0, grad: 1e-6 } },
  'forward(PackedSequence)': { run: packed.packedForward, tol: { forward: 1e-6, grad: 1e-5 } },
  gradgrad: { run: gradGradFixture, tol: { forward: 1e-5, grad: 1e-5 } },
  TiedLM: { run: tiedLMTraining, tol: { forward: 1e-6, grad: 0 } },
  'greedyDecode/beamSearch': { run: decodes, tol: { forward: 5e-5, grad: 0 } },
  loadTorchCheckpoint: { run: torchCheckpoint, tol: { forward: 0, grad: 0 } },
};

/** The check of a fixture: one of CHECKS, else its module kind (runFixture through the kind's adapter). */
export function checkOf(group, name, config) {
  if (group === 'torch') return 'loadTorchCheckpoint';
  if (group === 'embedding') return 'Embedding.maxNorm';
  if (name.startsWith('gradgrad_')) return 'gradgrad';
  if (name.startsWith('packed_forward_')) return 'forward(PackedSequence)';
  if (name.startsWith('decode_')) return 'greedyDecode/beamSearch';
  return config.kind;
}

/** Tolerances of a check (module kinds: 1e-5 forward, 1e-4 gradients). */
export const tolerance = (check) => CHECKS[check]?.tol ?? MODULE_TOL;

/**
 * Every committed fixture as [group, name]: each group's `.safetensors` cases; in `torch`, the
 * checkpoints (`.pt`, whose `.safetensors` is the reference) and the ONNX file. The torch group's
 * plain pickles (`values_protocol*.pkl`) are read by the unpickler's own unit tests only.
 */
export function allFixtures() {
  const out = [];
  for (const group of readdirSync(FIXTURES).sort()) {
    const files = readdirSync(`${FIXTURES}${group}`).sort();
    if (group === 'torch') {
      for (const f of files) if (/\.(pt|onnx)$/.test(f)) out.push([group, f]);
    } else {
      for (const f of files)
        if (f.endsWith('.safetensors')) out.push([group, f.slice(0, -'.safetensors'.length)]);
    }
  }
  return out;
}

/** A fixture's tensors and config (the torch group's files have neither: checks read them). */
function load(group, name, codec) {
  if (group === 'torch') return { t: {}, config: {} };
  const bytes = readFixture(group, name);
  return {
    t: codec.loadSafetensors(bytes),
    config: JSON.parse(codec.safetensorsMetadata(bytes).config),
  };
}

/**
 * Runs one fixture through its check with the rnnkit API given by name (`api`: classes and
 * functions; `codec`: loadSafetensors and safetensorsMetadata). Returns the check's name, its
 * worst errors and where they occurred, `ok` against its tolerances, and how many tensors the run
 * left behind; throws when rnnkit threw or an exact part (indices, tokens, keys) differed.
 */
export function check(group, name, api, codec) {
  const { t, config } = load(group, name, codec);
  const which = checkOf(group, name, config);
  try {
    const before = tf.memory().numTensors;
    let r;
    if (CHECKS[which]) r = CHECKS[which].run({ group, name, t, config, codec }, api);
    else {
      const adapter = adapters(api)[which];
      if (!adapter) throw new Error(`${group}/${name}: no check or adapter for kind ${which}`);
      r = runFixture(t, config, adapter);
    }
    const tol = tolerance(which);
    const leaked = tf.memory().numTensors - before;
    const ok = leaked === 0 && r.forward <= tol.forward && r.grad <= tol.grad;
    return { ...r, check: which, leaked, ok };
  } finally {
    tf.dispose(Object.values(t));
  }
}
