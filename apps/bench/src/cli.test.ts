import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { captureIo } from '@rnnkit/vitest-config/helpers';
import { describe, expect, it } from 'vitest';
import { main } from './cli.js';
import type { ProfileResult } from './profile.js';
import type { BenchReport } from './report.js';
import { planSamples, type RepPolicy, warmEstimate } from './stats.js';

const backend = process.env.RNNKIT_BACKEND ?? 'cpu';

const capture = () => captureIo();

describe('rnnkit-bench CLI', () => {
  it('--quick --json prints one JSON object with every tutorial case, checked and timed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-'));
    try {
      const c = capture();
      const md = join(dir, 'out.md');
      const code = await main(
        [
          '--quick',
          '--json',
          '--backend',
          backend,
          '--budget',
          '0.05',
          '--threads',
          '2',
          '--out',
          md,
        ],
        c.io,
      );
      expect(code, c.get().err).toBe(0);
      const report = JSON.parse(c.get().out) as BenchReport;
      expect(report.tool).toBe('rnnkit-bench');
      expect(report.options).toMatchObject({
        quick: true,
        backends: [backend],
        tolerance: 1e-4,
        warmupMs: 50,
        minSampleMs: 2,
      });
      expect(report.environment.tfjsCore).toBe('4.22.0');
      expect(report.environment.rnnkitThreads).toBe(2);
      expect(report.results.map((r) => `${r.id} ${r.backend}`)).toEqual(
        ['rnn', 'lstm', 'gru'].map((cell) => `${cell}.tutorial ${backend}`),
      );
      for (const r of report.results) {
        expect(r.shape).toEqual({ B: 2, T: 10, I: 300, H: 256 });
        const ours = r.impls.rnnkit!;
        expect(ours.status).toBe('ok');
        expect(ours.summary!.reps).toBeGreaterThanOrEqual(2);
        expect(ours.summary!.minMs).toBeLessThanOrEqual(ours.summary!.medianMs);
        expect(ours.leakedTensors).toBe(0);
        // Warmed up by time (a second call unless the first took half the budget: keepWarming),
        // then sampled in batches planned from the warm calls.
        const policy = report.options as RepPolicy;
        expect(ours.warmupMs!.length).toBeGreaterThanOrEqual(
          ours.warmupMs![0]! * 2 >= policy.budgetMs ? 1 : 2,
        );
        expect(ours.batch).toBe(
          planSamples(warmEstimate(ours.warmupMs!), report.options as RepPolicy).batch,
        );
        expect(ours.samplesMs).toHaveLength(ours.summary!.reps);
        // rnnkit on one thread: timed too, and bit-identical to rnnkit on two.
        expect(r.impls['rnnkit-1-thread']).toMatchObject({ status: 'ok', maxAbsDiff: 0 });
        expect(r.impls['rnnkit-1-thread']!.summary!.reps).toBeGreaterThanOrEqual(2);
        for (const name of ['tfjs-layers', 'naive'] as const) {
          const v = r.impls[name]!;
          expect(v.status, `${r.id} ${name}: ${v.reason}`).toBe('ok');
          expect(v.maxAbsDiff).toBeLessThanOrEqual(1e-4);
          expect(v.speedup).toBeGreaterThan(0);
        }
        const ort = r.impls.ort!;
        if (report.onnx.available) {
          for (const name of ['ort', 'ort-node', 'ort-node-1-thread'] as const) {
            const v = r.impls[name]!;
            expect(v.status, `${r.id} ${name}: ${v.reason}`).toBe('ok');
            expect(v.maxAbsDiff).toBeLessThanOrEqual(1e-4);
          }
        } else {
          expect(ort).toMatchObject({
            status: 'skipped',
            reason: `skipped: ${report.onnx.reason}`,
          });
        }
      }
      expect(report.results[2].impls['tfjs-layers-stock-gru']?.status).toBe(
        backend === 'wasm' ? 'different' : undefined,
      );
      // Only the targets of the cases that ran are judged: the tutorial ones are on wasm.
      expect(report.targets.map((t) => t.target)).toEqual(
        backend === 'wasm'
          ? [
              'goal: RNN 2,10,300,256 on wasm, ×ORT ≥ 1 (1 thread each)',
              'goal: LSTM 2,10,300,256 on wasm, ×ORT ≥ 1 (1 thread each)',
              'goal: GRU 2,10,300,256 on wasm, ×ORT ≥ 1 (1 thread each)',
              'floor: RNN 2,10,300,256 on wasm, ×layers ≥ 4',
              'vs onnxruntime-node: RNN 2,10,300,256, ≥ 0.5',
              'vs onnxruntime-node: LSTM 2,10,300,256, ≥ 0.5',
              'vs onnxruntime-node: GRU 2,10,300,256, ≥ 0.5',
            ]
          : [],
      );
      expect(readFileSync(md, 'utf8')).toMatch(/^\| case \| B,T,I,H \| backend \| rnnkit \|/m);
      expect(readFileSync(md, 'utf8')).toContain('called again until 50.0 ms has passed');
      expect(readFileSync(md, 'utf8')).toContain('splits large calls across 2 threads');
      expect(readFileSync(md, 'utf8')).toMatch(
        /^\| case \| B,T,I,H \| backend \| rnnkit, 1 thread \| rnnkit, 2 threads \|/m,
      );
      const rnn = report.results[0].impls.rnnkit!;
      expect(readFileSync(md, 'utf8')).toContain(
        `n=${rnn.summary!.reps}${rnn.batch! > 1 ? `×${rnn.batch}` : ''} |`,
      );
      // A saved run renders again without measuring, with the same numbers.
      const saved = join(dir, 'run.json');
      writeFileSync(saved, c.get().out);
      const again = join(dir, 'again.md');
      const r = capture();
      expect(
        await main(['--render', saved, '--out', again, '--note', 'rendered again'], r.io),
      ).toBe(0);
      const text = readFileSync(again, 'utf8');
      expect(text).toContain(
        readFileSync(md, 'utf8')
          .split('\n')
          .find((l) => l.startsWith('| RNN')),
      );
      expect(text).toMatch(/^- rendered again$/m);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says "skipped: no torch" in the ONNX column without a Python that has torch', async () => {
    const c = capture();
    const code = await main(
      ['-q', '-b', backend, '-f', 'rnn', '--budget', '0.02', '--python', '/nonexistent/python3'],
      c.io,
    );
    expect(code, c.get().err).toBe(0);
    expect(c.get().out).toMatch(/^\| RNN the tutorial \|.*\| skipped: no torch \| +\|$/m);
  });

  it("--profile: rnnkit's time by function, sgemm and forward of its kernel on top, shares summing to 100%", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-profile-'));
    try {
      const c = capture();
      const md = join(dir, 'PROFILE.md');
      const argv = ['--profile', '-f', 'rnn.tutorial', '-b', backend, '--budget', '0.2'];
      const code = await main([...argv, '--json', '--out', md], c.io);
      expect(code, c.get().err).toBe(0);
      const run = JSON.parse(c.get().out) as { mode: string; profiles: ProfileResult[] };
      expect(run.mode).toBe('profile');
      expect(run.profiles.map((p) => `${p.id} ${p.backend}`)).toEqual([`rnn.tutorial ${backend}`]);
      const p = run.profiles[0]!;
      expect(p.threads).toBeGreaterThanOrEqual(1);
      expect(p.calls).toBeGreaterThanOrEqual(3);
      const names = p.functions.map((f) => `${f.name} (${f.where})`);
      expect(names).toContain('sgemm (recurrence.wasm)');
      expect(names).toContain('forward (recurrence.wasm)');
      expect(p.functions.reduce((s, f) => s + f.share, 0)).toBeCloseTo(1, 6);
      expect(p.functions.reduce((s, f) => s + f.selfMs, 0)).toBeCloseTo(p.sampledMs, 6);
      // RNN, 2,10,300,256: 10·2·(300 + 256)·256 multiply-adds, 2 flops each.
      expect(p.bound!.gflops).toBeCloseTo((2 * 10 * 2 * 556 * 256) / (p.bound!.sgemmMs * 1e6), 6);

      const text = readFileSync(md, 'utf8');
      expect(text).toContain(`\`rnnkit-bench ${argv.join(' ')} --json --out ${md}\``);
      expect(text).toContain('the profiled calls run on 1 thread (`setKernelThreads(1)`)');
      expect(text).toMatch(/^\| sgemm \(recurrence\.wasm\) \| [\d.]+ \| [\d.]+% \|$/m);
      // A row for each of the 12 functions with the most self time; `forward` (the gate math, cheap
      // at this shape) is one of them or in the grouped tail, as the machine's load has it.
      for (const f of p.functions.slice(0, 12))
        expect(text).toContain(`| ${f.where ? `${f.name} (${f.where})` : f.name} | `);
      const shares = [...text.matchAll(/^\| .+ \| [\d.]+ \| ([\d.]+)% \|$/gm)].map((m) =>
        Number(m[1]),
      );
      expect(shares.length).toBeGreaterThanOrEqual(2);
      expect(Math.abs(shares.reduce((s, v) => s + v, 0) - 100)).toBeLessThanOrEqual(1);
      expect(text).toMatch(/^Bound: .* \*\*[\d.]+ GFLOP\/s\*\*/m);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('exits with 2 on bad usage, saying what was wrong', async () => {
    for (const argv of [
      ['--backend', 'tpu'],
      ['--frobnicate'],
      ['--filter', 'zzz-no-case'],
      ['--quick', '--filter', 'train'],
      ['--budget', '0'],
      ['--budget', 'soon'],
      ['--threads', '0'],
      ['--threads', '1.5'],
      ['stray-argument'],
      ['--render', '/nonexistent/run.json'],
      ['--profile', '-f', 'train'],
    ]) {
      const c = capture();
      expect(await main(argv, c.io), argv.join(' ')).toBe(2);
      expect(c.get().err.length, argv.join(' ')).toBeGreaterThan(0);
    }
  });

  it('the built command exits with 2 on a bad backend (as a user runs it)', () => {
    const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
    expect(existsSync(bin), 'build the bench first').toBe(true);
    const r = spawnSync(process.execPath, [bin, '--backend', 'gpu'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('expected cpu, wasm or cpu,wasm, got "gpu"');
  });
});
