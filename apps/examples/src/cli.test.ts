import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadModel as loadModule, SequenceEncoder, SequenceTagger } from '@rnnkit/heads';
import { setBackend } from '@rnnkit/ops';
import { afterAll, describe, expect, it } from 'vitest';
import { loadModel } from './browser.js';
import { main } from './cli.js';
import { capture } from './test-utils.js';

const dir = mkdtempSync(join(tmpdir(), 'rnnkit-examples-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The vitest project's backend: every test runs on cpu and on wasm. */
const backend = process.env.RNNKIT_BACKEND ?? 'cpu';

const tiny = [
  '--limit',
  '48',
  '--epochs',
  '1',
  '--hidden',
  '8',
  '--embedding-dim',
  '8',
  '--backend',
  backend,
];

describe('rnnkit-examples CLI', () => {
  it('bad arguments give a clear message and exit code 2', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['names', '--threads', '0'], /--threads.*expected an integer >= 1, got "0"/],
      [['bogus'], /unknown command 'bogus'/],
      [['names', '--epochs', 'abc'], /--epochs.*expected an integer >= 1, got "abc"/],
      [['names', '--epochs', '0'], /expected an integer >= 1/],
      [['spam', '--cell', 'transformer'], /Allowed choices are rnn, lstm, gru/],
      [['names', '--backend', 'gpu'], /Allowed choices are cpu, wasm/],
      [['names', '--save', 'model.bin'], /ending in \.safetensors/],
      [['predict'], /required option '--model/],
      [['predict', '--model', join(dir, 'missing.safetensors')], /model file not found/],
      [[], /Usage: rnnkit-examples/],
    ];
    for (const [argv, message] of cases) {
      const c = capture();
      expect(await main(argv, c.io), argv.join(' ')).toBe(2);
      expect(c.get().err, argv.join(' ')).toMatch(message);
    }
  });

  it('a file that is not a model is refused with exit code 2', async () => {
    const c = capture(['x']);
    const bogus = fileURLToPath(new URL('../package.json', import.meta.url));
    expect(await main(['predict', '--model', bogus], c.io)).toBe(2);
    expect(c.get().err).toMatch(/cannot read/);
  });

  it('trains the same model bit for bit on 1 and 2 kernel threads', async () => {
    // hidden 64, batch 32: the recurrences are large enough to be split across threads
    const args = [
      'names',
      '--limit',
      '64',
      '--epochs',
      '1',
      '--hidden',
      '64',
      '--batch-size',
      '32',
    ];
    const models = [];
    for (const threads of ['1', '2']) {
      const file = join(dir, `names-${threads}.safetensors`);
      const c = capture();
      expect(await main([...args, '--threads', threads, '--save', file, '--json'], c.io)).toBe(0);
      const lines = c.get().out.trim().split('\n');
      expect(JSON.parse(lines[lines.length - 1]).kernelThreads).toBe(Number(threads));
      models.push(readFileSync(file));
    }
    expect(Buffer.compare(models[0]!, models[1]!)).toBe(0);
  });

  it('trains names, saves, and predict round-trips the saved model', async () => {
    const file = join(dir, 'names.safetensors');
    const train = capture();
    expect(await main(['names', ...tiny, '--save', file, '--json'], train.io)).toBe(0);
    const lines = train.get().out.trim().split('\n');
    const summary = JSON.parse(lines[lines.length - 1]);
    expect(summary).toMatchObject({ task: 'names', backend, epochs: 1, trainItems: 48 });
    expect(summary.kernelThreads).toBeGreaterThanOrEqual(1);
    for (const k of [
      'trainSeconds',
      'testAccuracy',
      'baselineAccuracy',
      'precision',
      'recall',
      'f1',
    ])
      expect(typeof summary[k], k).toBe('number');
    expect(existsSync(file)).toBe(true);

    const names = ['Alice', 'Bob', 'Christopher'];
    const p = capture(names);
    expect(await main(['predict', '--model', file, '--backend', backend], p.io)).toBe(0);
    const out = p.get().out.trim().split('\n');
    expect(out).toHaveLength(3);
    const model = loadModel(new Uint8Array(readFileSync(file)));
    expect(model.kind).toBe('classifier');
    if (model.kind !== 'classifier') return;
    out.forEach((line, i) => {
      const [label, prob, text] = line.split('\t');
      const direct = model.predict(names[i]);
      expect(text).toBe(names[i]);
      expect(label).toBe(direct.label);
      expect(Number(prob)).toBeCloseTo(direct.probability, 4);
      expect(['female', 'male']).toContain(label);
    });
    // token weights decompose the logit margin exactly (mean pooling)
    const d = model.predict('Christopher');
    const margin = Math.log(d.probabilities[1] / d.probabilities[0]);
    const sum = d.tokenWeights.reduce((a, b) => a + b, 0) + d.biasWeight;
    expect(d.tokens.join('')).toBe('christopher');
    expect(sum).toBeCloseTo(margin, 4);
    model.dispose();
  });

  it('namegen: --json summary with bits per character and samples; predict completes prefixes', async () => {
    const file = join(dir, 'namegen.safetensors');
    const train = capture();
    expect(
      await main(
        ['namegen', ...tiny, '--save', file, '--json', '--samples', '3', '--prefix', 'Jo'],
        train.io,
      ),
    ).toBe(0);
    const out = train.get().out.trim().split('\n');
    const s = JSON.parse(out[out.length - 1]);
    expect(s.testBitsPerChar).toBeGreaterThan(0);
    expect(s.unigramBitsPerChar).toBeGreaterThan(0);
    expect(s.samples).toHaveLength(3);
    for (const n of s.samples) expect(n.startsWith('jo')).toBe(true);
    const p = capture(['Ma', '']);
    expect(
      await main(
        ['predict', '--model', file, '--backend', backend, '--samples', '2', '--seed', '5'],
        p.io,
      ),
    ).toBe(0);
    const lines = p.get().out.trim().split('\n');
    expect(lines[0]).toMatch(/^Ma\tma\S* ma\S*$/);
    // same seed, same completions
    const again = capture(['Ma', '']);
    await main(
      ['predict', '--model', file, '--backend', backend, '--samples', '2', '--seed', '5'],
      again.io,
    );
    expect(again.get().out).toBe(p.get().out);
  });

  it('the built bin exits with code 2 on a bad argument', () => {
    const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
    if (!existsSync(bin)) return; // built by `turbo run test` (test depends on build)
    const r = spawnSync(process.execPath, [bin, 'names', '--epochs', 'many'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/expected an integer/);
  });

  it('the built bin trains on the relaxed-SIMD kernel (Node 20 has it behind a flag)', () => {
    const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
    if (!existsSync(bin)) return; // built by `turbo run test` (test depends on build)
    const args = [bin, 'names', '--epochs', '1', '--limit', '20', '--backend', 'cpu', '--json'];
    const r = spawnSync(process.execPath, args, { encoding: 'utf8' });
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(JSON.parse(lines[lines.length - 1]!).kernelBuild).toBe('relaxed');
  });

  it('the committed models are rnnkit model files: loadModel rebuilds them, predict classifies with them', async () => {
    await setBackend('cpu');
    const models = fileURLToPath(new URL('../models/', import.meta.url));
    for (const [task, cls] of [
      ['spam', SequenceEncoder],
      ['names', SequenceEncoder],
      ['namegen', SequenceTagger],
    ] as const) {
      const m = loadModule(new Uint8Array(readFileSync(`${models}${task}.safetensors`)));
      expect(m.constructor).toBe(cls);
      m.dispose();
    }
    const c = capture(['Congratulations, you WON a free prize! Click here to claim your cash now']);
    const file = `${models}spam.safetensors`;
    expect(await main(['predict', '--model', file, '--backend', 'cpu'], c.io)).toBe(0);
    expect(c.get().out).toMatch(/^spam\t0\.\d{4}\tCongratulations/);
  });
});
