import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type BackendName, setBackend } from '@rnnkit/ops';
import { captureIo } from '@rnnkit/vitest-config/helpers';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from './cli.js';

const capture = () => captureIo({ progress: null });

/** The vitest project's backend: these tests run on cpu and on wasm. */
const backend = (process.env.RNNKIT_BACKEND ?? 'cpu') as BackendName;

const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));

describe('rnnkit-demo', () => {
  afterEach(async () => {
    await setBackend(backend);
  });

  it('train --json prints one JSON object with the first and final loss, steps and seconds', async () => {
    const c = capture();
    const code = await main(
      [
        'train',
        '--cell',
        'gru',
        '--steps',
        '8',
        '--seq-len',
        '6',
        '-H',
        '8',
        '--backend',
        backend,
        '--json',
      ],
      c.io,
    );
    expect(code).toBe(0);
    const lines = c.get().out.trim().split('\n');
    expect(lines).toHaveLength(1);
    const r = JSON.parse(lines[0]);
    expect(r).toMatchObject({ cell: 'gru', backend, steps: 8, stopped: false, seqLen: 6 });
    expect(r.firstLoss).toBeGreaterThan(0);
    expect(r.finalLoss).toBeGreaterThan(0);
    expect(r.seconds).toBeGreaterThan(0);
    expect(r.clipNorm).toBeNull();
    expect(c.get().err).toBe('');
  });

  it('train without --json prints a summary; --clip is passed on', async () => {
    const c = capture();
    const code = await main(
      ['train', '-c', 'rnn', '-s', '3', '-t', '5', '-H', '4', '-b', backend, '--clip', '0.5'],
      c.io,
    );
    expect(code).toBe(0);
    expect(c.get().out).toMatch(
      new RegExp(`^rnn on the adding problem \\(T=5, H=4, ${backend}, clip 0\\.5\\): loss `),
    );
    expect(c.get().out).toMatch(/in 3 steps/);
  });

  it('example prints the tutorial shapes', async () => {
    const c = capture();
    expect(await main(['example', '--backend', backend], c.io)).toBe(0);
    const out = c.get().out;
    expect(out).toMatch(/hidden_states\.shape\s+\[2, 10, 256\]/);
    expect(out).toMatch(/^h\.shape\s+\[2, 256\]/m);
    expect(out).toMatch(/predictions\.shape\s+\[2, 10, 1\]/);
    expect(out).toMatch(/len\(rnn\(xt\)\)\s+3/);
    const j = capture();
    expect(
      await main(['example', '--cell', 'lstm', '-b', backend, '-H', '8', '--json'], j.io),
    ).toBe(0);
    expect(JSON.parse(j.get().out).shapes).toMatchObject({ h: [1, 2, 8], c: [1, 2, 8] });
  });

  it('gradflow prints one line per step and the verdict', async () => {
    const c = capture();
    expect(await main(['gradflow', '-c', 'rnn', '-t', '6', '-b', backend], c.io)).toBe(0);
    const lines = c.get().out.trim().split('\n');
    expect(lines).toHaveLength(7);
    expect(lines[6]).toMatch(/\((vanishing|flowing|exploding)\)/);
  });

  it.each([
    [['train', '--cell', 'transformer']],
    [['train', '--steps', '0']],
    [['train', '--steps', 'many']],
    [['train', '--seq-len', '1']],
    [['train', '--clip', '-1']],
    [['train', '--backend', 'webgl']],
    [['train', '--frobnicate']],
    [['fly']],
    [[]],
  ])('bad usage %j exits 2 with a message', async (argv) => {
    const c = capture();
    expect(await main(argv, c.io)).toBe(2);
    expect(c.get().err).toMatch(/error|Usage/);
  });

  it.skipIf(!existsSync(bin))('the built bin: --json on stdout, exit code 2 on bad usage', () => {
    const ok = spawnSync(
      process.execPath,
      [bin, 'train', '--cell', 'lstm', '--steps', '3', '--seq-len', '5', '--json'],
      { encoding: 'utf8' },
    );
    expect(ok.status).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ cell: 'lstm', backend: 'wasm', steps: 3 });
    const bad = spawnSync(process.execPath, [bin, 'train', '--cell', 'nope'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/argument 'nope' is invalid/);
    expect(bad.stdout).toBe('');
  });
});
