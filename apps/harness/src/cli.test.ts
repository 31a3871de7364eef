import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { BackendName } from '@rnnkit/ops';
import { captureIo } from '@rnnkit/vitest-config/helpers';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { CASES } from './cases.js';
import { colorWanted, main } from './cli.js';
import { runShapeCases } from './runner.js';

const capture = () => captureIo();
/** The vitest project's backend: every test runs on cpu and on wasm. */
const backend = (process.env.RNNKIT_BACKEND ?? 'cpu') as BackendName;

describe('harness', () => {
  it('every tutorial shape passes on the project backend, and leaves no tensors behind', async () => {
    const before = tf.memory().numTensors;
    const results = await runShapeCases(CASES, backend);
    expect(tf.memory().numTensors).toBe(before);
    expect(results.filter((r) => !r.ok)).toEqual([]);
    expect(results.map((r) => r.name)).toEqual(
      expect.arrayContaining([
        'tutorial.myrnn.hidden_states',
        'tutorial.nn_rnn.h_n',
        'tutorial.pooling.case2',
      ]),
    );
  });

  it('fails with exit code 1 and names the case when an expectation is wrong', async () => {
    const c = capture();
    const code = await main(
      [
        '--backend',
        backend,
        '--no-parity',
        '--filter',
        'tutorial.nn_rnn',
        '--expect',
        'tutorial.nn_rnn.h_n=[1,2,255]',
      ],
      c.io,
    );
    expect(code).toBe(1);
    expect(c.get().out).toContain(
      `FAIL tutorial.nn_rnn.h_n on ${backend}: expected [1,2,255], got [1,2,256]`,
    );
    expect(c.get().out).toMatch(/^FAIL: \d+\/\d+ checks passed/m);
  });

  it('passes with --json and reports every selected case', async () => {
    const c = capture();
    const code = await main(
      ['--backend', backend, '--filter', 'tutorial.myrnn', 'parity.ElmanRNN', '--json'],
      c.io,
    );
    const report = JSON.parse(c.get().out);
    expect(code).toBe(0);
    expect(report.ok).toBe(true);
    expect(report.results.map((r: { name: string }) => r.name)).toEqual([
      'tutorial.myrnn.hidden_states',
      'tutorial.myrnn.h',
      'tutorial.myrnn.predictions',
      'parity.ElmanRNN',
    ]);
    const parity = report.results.find((r: { name: string }) => r.name === 'parity.ElmanRNN');
    expect(parity.maxError).toBeLessThanOrEqual(1e-4);
    expect(parity.fixtures).toBe(3); // cell/elman_relu, elman_tanh, tutorial_myrnn
    expect(report.summary).toContain('(3 shape cases, 1 parity checks of 3 PyTorch fixtures');
  });

  it('exits with 2 on bad usage, naming what was wrong', async () => {
    for (const argv of [
      ['--backend', 'tpu'],
      ['--expect', 'nope'],
      ['--expect', 'no.such.case=[1]'],
      ['--frobnicate'],
      ['--filter', 'zzz-no-case', '--no-parity'],
    ]) {
      const c = capture();
      expect(await main(argv, c.io), argv.join(' ')).toBe(2);
      expect(c.get().err.length).toBeGreaterThan(0);
    }
  });

  it('the built command returns exit code 1 on a wrong expectation (as a user runs it)', () => {
    const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
    expect(existsSync(bin), 'build the harness first').toBe(true);
    const r = spawnSync(
      process.execPath,
      [
        bin,
        '-b',
        backend,
        '--no-parity',
        '-f',
        'tutorial.xt',
        '--expect',
        'tutorial.xt=[2,10,301]',
      ],
      { encoding: 'utf8' },
    );
    expect(r.status).toBe(1);
    expect(r.stdout).toContain(`FAIL tutorial.xt on ${backend}`);
    const ok = execFileSync(
      process.execPath,
      [bin, '-b', backend, '--no-parity', '-f', 'tutorial.xt'],
      { encoding: 'utf8' },
    );
    expect(ok).toMatch(new RegExp(`PASS: 1/1 checks passed on ${backend}`));
  });

  it('prints no ANSI codes when piped or with NO_COLOR; colours with FORCE_COLOR', () => {
    const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
    const run = (env: Record<string, string>) => {
      const { NO_COLOR: _n, FORCE_COLOR: _f, ...rest } = process.env;
      return execFileSync(
        process.execPath,
        [bin, '-b', 'cpu', '--no-parity', '-f', 'tutorial.xt'],
        {
          encoding: 'utf8',
          env: { ...rest, ...env },
        },
      );
    };
    const esc = String.fromCharCode(27);
    const piped = run({});
    expect(piped).toContain('tutorial.xt');
    expect(piped).not.toContain(esc);
    expect(run({ NO_COLOR: '1', FORCE_COLOR: '1' })).not.toContain(esc);
    expect(run({ FORCE_COLOR: '1' })).toContain(esc);
    expect(colorWanted(true, {})).toBe(true);
    expect(colorWanted(true, { NO_COLOR: '1' })).toBe(false);
    expect(colorWanted(true, { TERM: 'dumb' })).toBe(false);
    expect(colorWanted(false, {})).toBe(false);
    expect(colorWanted(false, { FORCE_COLOR: '0' })).toBe(false);
  });
});
