/** rnnkit-bench: parses the command line and runs the comparison (the other modes: cli-modes.ts). */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setKernelThreads } from '@rnnkit/cell';
import { SingleBar } from 'cli-progress';
import { CommanderError } from 'commander';
import { withBrowserSection } from './browser.js';
import { BACKENDS, type BackendName, CELLS, selectCases } from './cases.js';
import { browserMode, profileMode, renderMode } from './cli-modes.js';
import { type IO, type Options, program, RESULTS_FILE } from './cli-options.js';
import { environment } from './environment.js';
import type { MemoryResult } from './memprobe.js';
import { notes } from './notes.js';
import { ensureOnnxModels, type OnnxModels, releaseOrtSessions } from './onnx.js';
import { releaseOrtNodeSessions } from './onnx-node.js';
import { type BenchReport, markdown } from './report.js';
import { addSpeedups, type CaseResult, TOLERANCE } from './results.js';
import { runCase } from './run.js';
import { POLICIES, type RepPolicy } from './stats.js';
import { evaluateTargets } from './targets.js';
import { hasTorch } from './torch.js';

const defaultIO: IO = {
  out: (t) => void process.stdout.write(t),
  err: (t) => void process.stderr.write(t),
  progress: true,
};

const MEMORY_T = [1000, 10_000];

/** Runs the CLI; resolves to the exit code: 0 ok, 1 a check failed (mismatch/error), 2 bad usage. */
export async function main(argv: string[], io: IO = defaultIO): Promise<number> {
  const cmd = program(io);
  try {
    cmd.parse(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      return e.code === 'commander.helpDisplayed' || e.code === 'commander.version' ? 0 : 2;
    }
    throw e;
  }
  const o = cmd.opts<Options>();
  if (o.render !== undefined) return renderMode(o.render, o, io);
  const filter = o.filter ?? [];
  const cases = selectCases(filter, o.quick);
  if (cases.length === 0) {
    io.err(
      `rnnkit-bench: --filter ${filter.join(' ')} matches no case${o.quick ? ' (--quick runs the tutorial shape only)' : ''}\n`,
    );
    return 2;
  }
  const backends = o.backend;
  if (o.profile) return profileMode(cases, backends, argv, o, io);
  if (o.browser) return browserMode(cases, argv, o, io);

  const base = POLICIES[o.quick ? 'quick' : 'full'];
  const policy: RepPolicy = { ...base, budgetMs: (o.budget ?? base.budgetMs / 1000) * 1000 };
  const slowLimitMs = o.quick ? 10_000 : 20_000;
  const fullRun = !o.quick && filter.length === 0 && backends.length === BACKENDS.length;

  const needsOrt = o.onnx && cases.some((c) => c.mode === 'forward');
  const onnx: OnnxModels | null = needsOrt ? ensureOnnxModels(o.python, o.models) : null;
  const withTorch = cases.some((c) => c.mode === 'train') && hasTorch(o.python);
  const ortBackend: BackendName = backends.includes('wasm') ? 'wasm' : backends[0];
  const memoryRuns =
    o.memory && !o.quick && cases.some((c) => c.group === 'long')
      ? backends.flatMap((backend) =>
          CELLS.flatMap((cell) => MEMORY_T.map((T) => ({ backend, cell, T }))),
        )
      : [];

  const showBar = o.progress && io.progress === true && process.stderr.isTTY === true;
  const bar = showBar
    ? new SingleBar({
        format: 'bench [{bar}] {value}/{total} | {duration_formatted} | {task}',
        stream: process.stderr,
        hideCursor: true,
        clearOnComplete: true,
      })
    : null;
  bar?.start(cases.length * backends.length + memoryRuns.length, 0, { task: 'starting' });

  // rnnkit's kernel on the threads asked for (default: this machine's), started before timing.
  const threads = await setKernelThreads(o.threads);
  const results: CaseResult[] = [];
  try {
    for (const c of cases) {
      const passes: CaseResult[] = [];
      for (const backend of backends) {
        const r = await runCase(c, backend, {
          policy,
          threads,
          onnx: o.onnx ? onnx : null,
          withOrt: backend === ortBackend,
          python: withTorch ? o.python : null,
          slowLimitMs,
          progress: (task) => bar?.update({ task }),
        });
        passes.push(r);
        bar?.increment();
      }
      const ortPass = passes.find((p) => p.backend === ortBackend);
      for (const p of passes) addSpeedups(p, ortPass);
      results.push(...passes);
    }
  } finally {
    await releaseOrtSessions();
    await releaseOrtNodeSessions();
  }

  const memory: MemoryResult[] = [];
  const probe = fileURLToPath(new URL('./memprobe.js', import.meta.url));
  for (const m of memoryRuns) {
    bar?.update({ task: `memory ${m.cell} ${m.backend} T=${m.T}` });
    if (!existsSync(probe)) break; // running from sources (tests): no built probe
    const r = spawnSync(process.execPath, ['--expose-gc', probe, m.backend, m.cell, String(m.T)], {
      encoding: 'utf8',
    });
    if (r.status === 0) memory.push(JSON.parse(r.stdout.trim().split('\n').pop()!));
    else
      io.err(
        `memory probe ${m.cell} ${m.backend} T=${m.T} failed: ${r.stderr.trim().split('\n').pop()}\n`,
      );
    bar?.increment();
  }
  bar?.stop();

  const report: BenchReport = {
    tool: 'rnnkit-bench',
    environment: { ...environment(argv, onnx), rnnkitThreads: threads },
    options: {
      quick: o.quick,
      backends,
      filter,
      budgetMs: policy.budgetMs,
      minReps: policy.minReps,
      slowBudgetMs: policy.slowBudgetMs,
      maxReps: policy.maxReps,
      warmupMs: policy.warmupMs,
      maxWarmupCalls: policy.maxWarmupCalls,
      minSampleMs: policy.minSampleMs,
      maxBatch: policy.maxBatch,
      slowLimitMs,
      tolerance: TOLERANCE,
    },
    onnx:
      onnx === null
        ? { available: false, reason: o.onnx ? 'not needed' : '--no-onnx' }
        : onnx.available
          ? { available: true }
          : { available: false, reason: onnx.reason },
    results,
    targets: evaluateTargets(results, memory, threads),
    memory,
    profiles: [],
    notes: [...notes(results, ortBackend, backends), ...(o.note ?? [])],
  };
  const md = markdown(report);
  const file = o.write ? (o.out ?? (fullRun ? RESULTS_FILE : undefined)) : undefined;
  // A browser section written by --browser stays.
  const before = file && existsSync(file) ? readFileSync(file, 'utf8') : null;
  if (file) writeFileSync(file, withBrowserSection(md, before));
  io.out(o.json ? `${JSON.stringify(report)}\n` : md);
  if (file && !o.json) io.err(`wrote ${file}\n`);
  const failed = results.some((r) =>
    Object.values(r.impls).some((v) => v && (v.status === 'mismatch' || v.status === 'error')),
  );
  return failed ? 1 : 0;
}
