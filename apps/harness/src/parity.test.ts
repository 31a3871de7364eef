import { allFixtures, CHECKS, check, readFixture, runFixture, tolerance } from '@rnnkit/golden';
import { type BackendName, loadSafetensors, safetensorsMetadata } from '@rnnkit/ops';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { API, KINDS } from './kinds.js';
import { parityChecks, runParity } from './parity.js';

describe('harness parity', () => {
  it('runs every committed fixture, each module kind and every named check, and all pass', async () => {
    const checks = parityChecks();
    const groups = new Set(allFixtures().map(([g]) => g));
    expect([...groups].sort()).toEqual(
      [
        'cell',
        'clip',
        'embedding',
        'heads',
        'loss',
        'ops',
        'packed',
        'phase2',
        'port',
        'rnn',
        'seq2seq',
        'torch',
        'tying',
      ].sort(),
    );
    expect([...checks.values()].flat()).toHaveLength(allFixtures().length);
    const modules = [...checks.keys()].filter((k) => !(k in CHECKS));
    expect(modules.sort()).toEqual(
      [
        'Attention',
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
        'Seq2Seq',
        'SequenceEncoder',
        'pool',
      ].sort(),
    );
    expect(modules.every((k) => k in KINDS)).toBe(true);
    expect([...checks.keys()].filter((k) => k in CHECKS).sort()).toEqual(
      Object.keys(CHECKS).sort(),
    );
    const results = await runParity(
      (process.env.RNNKIT_BACKEND ?? 'cpu') as BackendName,
      () => true,
    );
    expect(results.filter((r) => !r.ok)).toEqual([]);
    expect(results).toHaveLength(checks.size);
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

  it('every named check fails on a wrong result: a value off by 0.1%, a wrong index or token', () => {
    const api = API as Record<string, any>;
    // the wrong result replaces the right one (disposed), so only the value differs
    const off = (t: tf.Tensor) => {
      const bad = tf.mul(t, 1.001);
      t.dispose();
      return bad;
    };
    class OffLSTM extends api.LSTM {
      forward(...a: unknown[]) {
        const [out, state] = super.forward(...a);
        return [off(out), state];
      }
    }
    const wrong: Array<[string, string, Record<string, unknown>]> = [
      ['loss', 'ce_sum_2d', { crossEntropy: (...a: unknown[]) => off(api.crossEntropy(...a)) }],
      ['ops', 'mse', { mseLoss: (...a: unknown[]) => off(api.mseLoss(...a)) }],
      [
        'clip',
        'norm_p2_max1',
        {
          clipGradNorm: (...a: unknown[]) => {
            const r = api.clipGradNorm(...a);
            return { ...r, totalNorm: r.totalNorm * 1.001 };
          },
        },
      ],
      ['phase2', 'gradgrad_lstm', { LSTM: OffLSTM }],
      ['tying', 'tied_lm_sgd', { crossEntropy: (...a: unknown[]) => off(api.crossEntropy(...a)) }],
      [
        'seq2seq',
        'decode_reverse_lstm',
        {
          beamSearch: (...a: unknown[]) => {
            const r = api.beamSearch(...a);
            return { ...r, tokens: r.tokens.map((t: number[]) => [...t].reverse()) };
          },
        },
      ],
      [
        'packed',
        'pack_sequence_unsorted',
        {
          packSequence: (...a: unknown[]) => {
            const p = api.packSequence(...a);
            return Object.assign(Object.create(p), { batchSizes: [...p.batchSizes].reverse() });
          },
        },
      ],
      [
        'torch',
        'lstm.pt',
        {
          loadTorchCheckpoint: (b: Uint8Array) => {
            const sd = api.loadTorchCheckpoint(b);
            const k = Object.keys(sd)[0];
            return { ...sd, [k]: off(sd[k]) };
          },
        },
      ],
    ];
    for (const [group, name, override] of wrong) {
      const codec = { loadSafetensors, safetensorsMetadata };
      let r: ReturnType<typeof check> | undefined;
      try {
        r = check(group, name, { ...api, ...override }, codec);
      } catch (e) {
        // an exact part (indices, tokens, values of a checkpoint) differed, and the error says so
        expect((e as Error).message, `${group}/${name}`).toMatch(/: got .+, expected /);
      }
      if (r) {
        expect(r.leaked, `${group}/${name}`).toBe(0);
        expect(r.forward, `${group}/${name}`).toBeGreaterThan(tolerance(r.check).forward);
      }
    }
  });
});
