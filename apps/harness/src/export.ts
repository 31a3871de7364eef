import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { manualSeed, saveSafetensors } from '@rnnkit/ops';
import * as tf from '@tensorflow/tfjs-core';
import { KINDS } from './kinds.js';

const rnnBase = { inputSize: 3, hiddenSize: 4, batched: true, withState: true };
/** One config per module kind, in the fixture schema (tooling/golden/README.md), with the inputs to feed. */
const EXPORTS: Array<{
  name: string;
  config: Record<string, unknown>;
  inputs: () => Record<string, tf.Tensor>;
}> = [
  {
    name: 'linear',
    config: { kind: 'Linear', inFeatures: 5, outFeatures: 3, bias: true },
    inputs: () => ({ x: tf.randomNormal([2, 5]) }),
  },
  {
    name: 'myrnn_tutorial',
    config: { kind: 'ElmanRNN', inputDim: 300, hiddenSize: 256, outputDim: 1, activation: 'relu' },
    inputs: () => ({ xt: tf.randomUniform([2, 10, 300]), h0: tf.randomUniform([2, 256]) }),
  },
  {
    name: 'rnn_l2_bi_ragged',
    config: {
      ...rnnBase,
      kind: 'RNN',
      numLayers: 2,
      nonlinearity: 'tanh',
      bias: true,
      batchFirst: true,
      bidirectional: true,
      lengths: [5, 2, 4],
    },
    inputs: () => ({
      x: tf.randomNormal([3, 5, 3]),
      h0: tf.randomNormal([4, 3, 4]),
      lengths: tf.tensor1d([5, 2, 4], 'int32'),
    }),
  },
  {
    name: 'lstm_proj_l2',
    config: {
      ...rnnBase,
      kind: 'LSTM',
      numLayers: 2,
      bias: true,
      batchFirst: false,
      bidirectional: false,
      projSize: 2,
      lengths: null,
    },
    inputs: () => ({
      x: tf.randomNormal([5, 3, 3]),
      h0: tf.randomNormal([2, 3, 2]),
      c0: tf.randomNormal([2, 3, 4]),
    }),
  },
  {
    name: 'gru_l3_bi',
    config: {
      ...rnnBase,
      kind: 'GRU',
      numLayers: 3,
      bias: false,
      batchFirst: true,
      bidirectional: true,
      lengths: null,
    },
    inputs: () => ({ x: tf.randomNormal([3, 5, 3]), h0: tf.randomNormal([6, 3, 4]) }),
  },
];

/**
 * Writes one safetensors file per module kind, made by rnnkit (its own random weights, the
 * state dict as param.*, the inputs and rnnkit's outputs), for `generate.py --check` to load into
 * PyTorch and compare. Returns the paths written.
 */
export function exportForPyTorch(dir: string, seed = 0): string[] {
  mkdirSync(dir, { recursive: true });
  manualSeed(seed);
  const paths: string[] = [];
  for (const { name, config, inputs } of EXPORTS) {
    const adapter = KINDS[config.kind as string];
    const module = adapter.build(config);
    const given = inputs();
    const outs = adapter.run(module, given, config);
    const sd = module.stateDict();
    const file: Record<string, tf.Tensor> = {};
    for (const [k, v] of Object.entries(sd as Record<string, tf.Tensor>)) file[`param.${k}`] = v;
    for (const [k, v] of Object.entries(given)) file[`input.${k}`] = v;
    for (const [k, v] of Object.entries(outs)) file[`output.${k}`] = v;
    const path = join(dir, `${name}.safetensors`);
    writeFileSync(
      path,
      saveSafetensors(file, { config: JSON.stringify(config), producer: 'rnnkit' }),
    );
    paths.push(path);
    tf.dispose(Object.values(file));
    module.dispose();
  }
  return paths;
}
