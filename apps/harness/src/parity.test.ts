import { readFixture, runFixture } from '@rnnkit/golden';
import { type BackendName, loadSafetensors, safetensorsMetadata } from '@rnnkit/ops';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { KINDS } from './kinds.js';
import { parityKinds, runParity } from './parity.js';

describe('harness parity', () => {
  it('covers every module kind with committed fixtures, and all pass on cpu', async () => {
    expect([...parityKinds().keys()].sort()).toEqual(
      [
        'AttentionPooling',
        'ElmanRNN',
        'Embedding',
        'GRU',
        'GRUCell',
        'LSTM',
        'LSTMCell',
        'Linear',
        'RNN',
        'RNNCell',
        'SequenceEncoder',
        'pool',
      ].sort(),
    );
    const results = await runParity(
      (process.env.RNNKIT_BACKEND ?? 'cpu') as BackendName,
      () => true,
    );
    expect(results.filter((r) => !r.ok)).toEqual([]);
  });

  it('detects a wrong number: a fixture whose expected output or gradient is off by 1% fails', () => {
    const bytes = readFixture('rnn', 'tutorial_rnn');
    const config = JSON.parse(safetensorsMetadata(bytes).config);
    for (const key of ['output.h_n', 'grad.param.weight_hh_l0']) {
      const t = loadSafetensors(bytes);
      const bad = tf.mul(t[key], 1.01);
      t[key].dispose();
      t[key] = bad;
      const r = runFixture(t, config, KINDS.RNN);
      if (key.startsWith('output')) {
        expect(r.forward).toBeGreaterThan(1e-5);
        expect(r.forwardAt).toBe('h_n');
      } else {
        expect(r.grad).toBeGreaterThan(1e-4);
        expect(r.gradAt).toBe('param.weight_hh_l0');
      }
      tf.dispose(Object.values(t));
    }
  });
});
