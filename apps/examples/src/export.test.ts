import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModel as loadModule } from '@rnnkit/heads';
import { loadSafetensors, safetensorsMetadata, saveSafetensors } from '@rnnkit/ops';
import { captureIo } from '@rnnkit/vitest-config/helpers';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from './cli.js';
import { DATA_FORMAT } from './export.js';

const dir = mkdtempSync(join(tmpdir(), 'rnnkit-export-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const capture = () => captureIo();

const read = (f: string) => new Uint8Array(readFileSync(f));
const recipe = [
  '--limit',
  '40',
  '--epochs',
  '2',
  '--hidden',
  '8',
  '--embedding-dim',
  '8',
  '--backend',
  'cpu',
];

describe('--export-data and evaluate', () => {
  it('exports the data, batch orders and initial weights that training uses, and evaluate scores a model file on it', async () => {
    const data = join(dir, 'names-data');
    expect(await main(['names', ...recipe, '--export-data', data], capture().io)).toBe(0);
    const model = join(dir, 'names.safetensors');
    const referee = join(dir, 'names-referee.safetensors');
    const run = capture();
    expect(
      await main(['names', ...recipe, '--save', model, '--referee', referee, '--json'], run.io),
    ).toBe(0);
    const summary = JSON.parse(run.get().out.trim().split('\n').pop() as string);

    const exported = loadSafetensors(read(join(data, 'data.safetensors')));
    const meta = safetensorsMetadata(read(join(data, 'data.safetensors')));
    expect(meta.format).toBe(DATA_FORMAT);
    expect(JSON.parse(meta.recipe)).toMatchObject({ epochs: 2, hiddenSize: 8, seed: 1 });
    const ref = loadSafetensors(read(referee));
    // the same split, tokens and per-epoch orders as the training run
    for (const k of [
      'orders',
      'train.ids',
      'train.lengths',
      'train.labels',
      'test.ids',
      'test.labels',
    ]) {
      expect(exported[k].shape, k).toEqual(ref[k].shape);
      expect(Array.from(exported[k].dataSync()), k).toEqual(Array.from(ref[k].dataSync()));
    }
    // init.safetensors is a model file holding the run's initial weights
    const init = loadModule(read(join(data, 'init.safetensors')));
    for (const [k, v] of Object.entries(init.stateDict())) {
      expect(Array.from(v.dataSync()), k).toEqual(Array.from(ref[`init.${k}`].dataSync()));
      v.dispose();
    }
    init.dispose();

    // evaluate: the run's own test accuracy; against "PyTorch's" predictions equal to rnnkit's own
    const probs = ref['rnnkit.test_prob'].arraySync() as number[];
    const torch = join(dir, 'preds.safetensors');
    const p = tf.tensor2d(probs.map((q) => [1 - q, q]));
    writeFileSync(torch, saveSafetensors({ 'test.prob': p }));
    const ev = capture();
    expect(
      await main(
        ['evaluate', '--model', model, '--data', data, '--torch', torch, '--backend', 'cpu'],
        ev.io,
      ),
    ).toBe(0);
    const r = JSON.parse(ev.get().out);
    expect(r.testAccuracy).toBeCloseTo(summary.testAccuracy, 4);
    expect(r.torchAgreement).toBe(1);
    expect(r.maxProbabilityDiff).toBeLessThan(1e-6);
    tf.dispose([p, ...Object.values(exported), ...Object.values(ref)]);
  });

  it('evaluate refuses missing files and data that is not exported', async () => {
    const c = capture();
    expect(
      await main(['evaluate', '--model', join(dir, 'none.safetensors'), '--data', dir], c.io),
    ).toBe(2);
  });
});
