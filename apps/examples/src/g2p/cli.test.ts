import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../cli.js';
import { capture } from '../test-utils.js';
import { Pronouncer } from './model.js';

const dir = mkdtempSync(join(tmpdir(), 'rnnkit-g2p-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('rnnkit-examples g2p (CMUdict)', () => {
  it('rejects bad flags with exit code 2', async () => {
    for (const [argv, message] of [
      [['g2p', '--beam', '0'], /--beam.*expected an integer >= 1, got "0"/],
      [['g2p', '--attention', 'luong'], /Allowed choices are dot, general, concat, additive/],
      [['g2p', '--save', 'g2p.bin'], /ending in \.safetensors/],
    ] as Array<[string[], RegExp]>) {
      const c = capture();
      expect(await main(argv, c.io)).toBe(2);
      expect(c.get().err).toMatch(message);
    }
  });

  it('trains on a slice of CMUdict, saves, and predict reads words from stdin', async () => {
    const file = join(dir, 'g2p.safetensors');
    const train = capture();
    const argv = ['g2p', '--limit', '60', '--epochs', '1', '--hidden', '8', '--embedding-dim', '8'];
    expect(
      await main([...argv, '--beam', '2', '--backend', 'cpu', '--save', file, '--json'], train.io),
    ).toBe(0);
    const s = JSON.parse(train.get().out.trim().split('\n').pop()!);
    expect(s.task).toBe('g2p');
    expect(s.testWords).toBe(60);
    expect(s.droppedEntries).toBeGreaterThan(0);
    expect(s.phonemes).toBeGreaterThan(40); // stress digits kept: AA0, AA1, AA2 ...
    expect(s.beam).toBe(2);
    expect(s.savedModel).toBe(file);
    const p = capture(['hello', '', 'World']);
    expect(await main(['predict', '--model', file, '--backend', 'cpu', '--beam', '2'], p.io)).toBe(
      0,
    );
    const out = p.get().out.trim().split('\n');
    expect(out.map((l) => l.split('\t')[0])).toEqual(['hello', 'World']);
    const model = new Pronouncer(new Uint8Array(readFileSync(file)));
    const [direct] = model.pronounce(['World'], { beam: 2 });
    expect(out[1].split('\t')[1]).toBe(direct.phonemes.join(' '));
    model.dispose();
    const j = capture(['cat']);
    expect(await main(['predict', '--model', file, '--backend', 'cpu', '--json'], j.io)).toBe(0);
    const row = JSON.parse(j.get().out);
    expect(row.word).toBe('cat');
    expect(row.hypotheses.length).toBe(5);
  });
});
