/** The modes besides comparing: --render a saved run, --browser, --profile. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { browserMarkdown, runBrowser, withBrowserSection } from './browser.js';
import type { BackendName, BenchCase } from './cases.js';
import { type IO, type Options, RESULTS_FILE } from './cli-options.js';
import { environment } from './environment.js';
import { notes } from './notes.js';
import { ensureOnnxModels } from './onnx.js';
import { type ProfileResult, profileCase, profileMarkdown } from './profile.js';
import { type BenchReport, markdown } from './report.js';
import { evaluateTargets } from './targets.js';

/** Re-renders a saved run: targets and notes are derived again, the measurements are as saved. */
export function renderMode(file: string, o: Options, io: IO): number {
  let report: BenchReport;
  try {
    report = JSON.parse(readFileSync(file, 'utf8')) as BenchReport;
    if (report.tool !== 'rnnkit-bench' || !Array.isArray(report.results)) {
      throw new Error('not the output of rnnkit-bench --json');
    }
  } catch (e) {
    io.err(`rnnkit-bench --render ${file}: ${(e as Error).message}\n`);
    return 2;
  }
  const backends = report.options.backends;
  const ortBackend: BackendName = backends.includes('wasm') ? 'wasm' : backends[0];
  report.targets = evaluateTargets(
    report.results,
    report.memory,
    report.environment.rnnkitThreads ?? 1,
  );
  report.notes = [...notes(report.results, ortBackend, backends), ...(o.note ?? [])];
  const md = markdown(report);
  const out = o.write ? (o.out ?? RESULTS_FILE) : undefined;
  if (out) {
    const before = existsSync(out) ? readFileSync(out, 'utf8') : null;
    writeFileSync(out, withBrowserSection(md, before));
  }
  io.out(o.json ? `${JSON.stringify(report)}\n` : md);
  return 0;
}

/** The forward cases, which --browser and --profile run; null (said on stderr) when there are none. */
function forwardOnly(cases: BenchCase[], mode: string, io: IO): BenchCase[] | null {
  const forward = cases.filter((c) => c.mode === 'forward');
  if (forward.length > 0) return forward;
  io.err(`rnnkit-bench ${mode}: runs forward cases only; --filter selected none\n`);
  return null;
}

/** The time per case of --browser and --profile: --budget seconds, else 2 s (0.3 s with --quick). */
const timedBudgetMs = (o: Options) => (o.budget ?? (o.quick ? 0.3 : 2)) * 1000;

export async function browserMode(
  cases: BenchCase[],
  argv: string[],
  o: Options,
  io: IO,
): Promise<number> {
  const forward = forwardOnly(cases, '--browser', io);
  if (!forward) return 2;
  const onnx = ensureOnnxModels(o.python, o.models);
  if (!onnx.available) {
    io.err(`rnnkit-bench --browser: needs the exported models (${onnx.reason})\n`);
    return 1;
  }
  const threads = o.threads ?? Math.min(cpus().length, 4);
  const budgetMs = timedBudgetMs(o);
  const run = await runBrowser(forward, { threads, budgetMs, models: o.models });
  const command = environment(argv, null).command;
  const md = browserMarkdown(run, forward, command);
  const out = o.write ? (o.out ?? RESULTS_FILE) : undefined;
  if (out) {
    const existing = existsSync(out) ? readFileSync(out, 'utf8') : null;
    writeFileSync(out, existing ? withBrowserSection(existing, null, md) : md);
  }
  io.out(o.json ? `${JSON.stringify(run)}\n` : md);
  return 0;
}

export async function profileMode(
  cases: BenchCase[],
  backends: BackendName[],
  argv: string[],
  o: Options,
  io: IO,
): Promise<number> {
  const forward = forwardOnly(cases, '--profile', io);
  if (!forward) return 2;
  const budgetMs = timedBudgetMs(o);
  const profiles: ProfileResult[] = [];
  for (const c of forward) {
    for (const backend of backends) {
      profiles.push(await profileCase(c, backend, { budgetMs, threads: o.threads }));
    }
  }
  const env = { ...environment(argv, null), command: ['rnnkit-bench', ...argv].join(' ') };
  const notes = (o.note ?? []).map((n) => `- ${n}\n`).join('');
  const md =
    profileHeader(env, budgetMs) +
    profiles.map((p) => profileMarkdown(p)).join('\n') +
    (notes ? `\n## Notes\n\n${notes}` : '');
  if (o.json) {
    const { rnnkit, date, node, platform, cpu, cores, command } = env;
    io.out(
      `${JSON.stringify({ tool: 'rnnkit-bench', mode: 'profile', rnnkit, date, node, platform, cpu, cores, command, budgetMs, profiles })}\n`,
    );
  } else io.out(md);
  if (o.out && o.write) {
    writeFileSync(o.out, md);
    if (!o.json) io.err(`wrote ${o.out}\n`);
  }
  return 0;
}

function profileHeader(env: BenchReport['environment'], budgetMs: number): string {
  return (
    '# rnnkit profile\n\n' +
    `rnnkit: ${env.rnnkit}. Measured ${env.date} with \`${env.command}\` on ${env.cpu} ` +
    `(${env.cores} cores), Node ${env.node}, ${env.platform}.\n\n` +
    "Each case: rnnkit's `RNN`/`LSTM`/`GRU` (`batchFirst: true`), `forward(x)[0]` read back with " +
    "`dataSync()`, warm. Its median time per call is taken on the kernel's default threads and on 1 " +
    `thread; then V8's CPU profiler (\`node:inspector\`) samples the main thread over about ` +
    `${(budgetMs / 1000).toFixed(1)} s of calls, and each function's self time (samples with it on top of ` +
    'the stack) is given per call and as a share of the sampled time. Only samples inside the profiled ' +
    "calls count, plus garbage collection and `(program)` (V8's own work outside any function).\n\n" +
    "The kernel's worker threads are not seen by the main thread's profiler, so the profiled calls run on " +
    '1 thread (`setKernelThreads(1)`): the table then accounts for all the work. ' +
    "`sgemm`, `forward` and `pack` (recurrence.wasm) are @rnnkit/cell's WebAssembly kernel: `sgemm` " +
    "the products (the input projection, and each step's h·W_hh^T, called from `forward`), `forward` " +
    'the recurrence around them (gate nonlinearities, state updates, output rows), `pack` the weights ' +
    "(once; they stay cached). The bound line divides the call's multiply-adds by sgemm's self time, " +
    "against what sgemm's inner loop reaches on data in L1 cache (measured here).\n\n" +
    'Times from one run on a shared machine: compare shares and ratios, not times across runs.\n\n'
  );
}
