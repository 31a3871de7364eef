import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, platform, release } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setKernelThreads } from '@rnnkit/cell';
import { kernelBuild } from '@rnnkit/cell/internal';
import * as tf from '@tensorflow/tfjs-core';
import { version_layers } from '@tensorflow/tfjs-layers';
import { SingleBar } from 'cli-progress';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { browserMarkdown, runBrowser, withBrowserSection } from './browser.js';
import { BACKENDS, type BackendName, type BenchCase, CELLS, selectCases } from './cases.js';
import type { MemoryResult } from './memprobe.js';
import {
  APP_DIR,
  DEFAULT_MODELS_DIR,
  DEFAULT_PYTHON,
  ensureOnnxModels,
  type OnnxModels,
  ORT_VERSION,
  releaseOrtSessions,
} from './onnx.js';
import { ORT_NODE_VERSION, releaseOrtNodeSessions } from './onnx-node.js';
import { type ProfileResult, profileCase, profileMarkdown } from './profile.js';
import { type BenchReport, fmtMs, markdown } from './report.js';
import { addSpeedups, type CaseResult, TOLERANCE } from './results.js';
import { runCase } from './run.js';
import { POLICIES, type RepPolicy } from './stats.js';
import { evaluateTargets } from './targets.js';
import { hasTorch } from './torch.js';

export interface IO {
  out: (text: string) => void;
  err: (text: string) => void;
  /** Show the progress bar (on stderr, when it is a terminal). */
  progress?: boolean;
}

const defaultIO: IO = {
  out: (t) => void process.stdout.write(t),
  err: (t) => void process.stderr.write(t),
  progress: true,
};

export const RESULTS_FILE = join(APP_DIR, 'RESULTS.md');
const MEMORY_T = [1000, 10_000];

function parseBackends(value: string): BackendName[] {
  const list = value === 'both' || value === 'all' ? [...BACKENDS] : value.split(',');
  for (const b of list) {
    if (!(BACKENDS as readonly string[]).includes(b)) {
      throw new InvalidArgumentError(`expected cpu, wasm or cpu,wasm, got "${b}".`);
    }
  }
  return BACKENDS.filter((b) => list.includes(b));
}

function parsePositive(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0)
    throw new InvalidArgumentError(`expected a positive number, got "${value}".`);
  return n;
}

function parseThreads(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new InvalidArgumentError(`expected an integer >= 1, got "${value}".`);
  return n;
}

function program(io: IO): Command {
  return new Command()
    .name('rnnkit-bench')
    .description(
      'Times rnnkit (RNN, LSTM, GRU) against tfjs-layers, ONNX Runtime Web and a naive tfjs loop, ' +
        'with the same weights, checked equal, in one run.',
    )
    .option('-b, --backend <list>', 'tfjs backends: cpu, wasm or cpu,wasm', parseBackends, [
      ...BACKENDS,
    ])
    .option(
      '-f, --filter <patterns...>',
      'cases whose id contains a pattern (ids: {rnn,lstm,gru}.{tutorial,large,long,step,train}), or a shape B,T,I,H',
    )
    .option('-q, --quick', 'tutorial shape only, few repetitions (CI smoke)', false)
    .option('--json', 'print the whole run as one JSON object instead of Markdown', false)
    .option(
      '--budget <seconds>',
      'time budget for the timed calls of one implementation in one case, warm-up not counted (default 2, quick 0.3); with --profile, for the profiled calls of a case',
      parsePositive,
    )
    .option(
      '-o, --out <file>',
      `write the Markdown there (a full run writes ${RESULTS_FILE} unless --no-write)`,
    )
    .option(
      '--threads <n>',
      "threads for rnnkit's kernel (default: this machine's, at most 4); above 1, rnnkit is also timed on 1",
      parseThreads,
    )
    .option('--no-write', 'write no file')
    .option('--no-onnx', 'leave ONNX Runtime Web out')
    .option('--no-memory', 'skip the long-sequence memory probes')
    .option('--no-progress', 'no progress bar')
    .option('--python <path>', 'Python with torch, to export the ONNX models', DEFAULT_PYTHON)
    .option('--models <dir>', 'where the exported models go', DEFAULT_MODELS_DIR)
    .addOption(
      new Option(
        '--profile',
        "instead of comparing: where rnnkit's forward spends its time, by function (V8's CPU profiler, kernel on 1 thread)",
      ).default(false),
    )
    .option(
      '--render <json>',
      'no measuring: render the Markdown of a saved --json run (writes RESULTS.md, or --out)',
    )
    .option('--note <text...>', 'add a line to the Notes section')
    .option(
      '--browser',
      'the forward cases in headless Chromium instead (rnnkit vs ONNX Runtime Web vs tfjs-layers, each on --threads threads); writes the browser section of RESULTS.md',
      false,
    )
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .showHelpAfterError('(run with --help for usage)')
    .allowExcessArguments(false);
}

interface Options {
  backend: BackendName[];
  filter?: string[];
  quick: boolean;
  json: boolean;
  budget?: number;
  threads?: number;
  out?: string;
  write: boolean;
  onnx: boolean;
  memory: boolean;
  progress: boolean;
  python: string;
  models: string;
  profile: boolean;
  render?: string;
  note?: string[];
  browser: boolean;
}

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

/** Re-renders a saved run: targets and notes are derived again, the measurements are as saved. */
function renderMode(file: string, o: Options, io: IO): number {
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

async function browserMode(
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

async function profileMode(
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

/** Which rnnkit was measured: the commit, and whether packages/ had uncommitted changes. */
function rnnkitSource(): string {
  const git = (...args: string[]) =>
    spawnSync('git', args, { cwd: APP_DIR, encoding: 'utf8' }).stdout?.trimEnd() ?? '';
  const commit = git('rev-parse', '--short', 'HEAD');
  if (!commit) return 'unknown (not a git checkout)';
  const dirty = git('status', '--porcelain', '--', '../../packages')
    .split('\n')
    .filter((l) => l.trim() !== '');
  if (dirty.length === 0) return `commit ${commit}, packages/ as committed`;
  const dirs = [...new Set(dirty.map((l) => l.slice(3).split('/').slice(0, 2).join('/')))];
  return `commit ${commit} plus uncommitted changes to ${dirty.length} files in ${dirs.join(', ')}`;
}

function environment(argv: string[], onnx: OnnxModels | null): BenchReport['environment'] {
  const cpu = cpus();
  return {
    rnnkit: rnnkitSource(),
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    node: process.version,
    platform: `${platform()} ${release()}`,
    cpu: cpu[0]?.model?.trim() ?? 'unknown cpu',
    cores: cpu.length,
    tfjsCore: tf.version_core,
    tfjsLayers: version_layers,
    onnxruntimeWeb: ORT_VERSION,
    onnxruntimeNode: ORT_NODE_VERSION,
    kernelBuild: kernelBuild() ?? 'none',
    torch: onnx?.available ? onnx.torch : null,
    command:
      process.env.npm_lifecycle_event === 'bench'
        ? 'pnpm bench'
        : ['rnnkit-bench', ...argv].join(' '),
  };
}

function notes(results: CaseResult[], ortBackend: BackendName, backends: BackendName[]): string[] {
  const n: string[] = [
    'rnnkit: `RNN`/`LSTM`/`GRU` from @rnnkit/rnn with `batchFirst: true`, `forward(x)[0]`, output read back with `dataSync()` (every column reads its output back).',
    'tfjs-layers: one `simpleRNN`/`lstm` layer (returnSequences, sigmoid gates: tfjs-layers defaults to hardSigmoid) called eagerly with `layer.apply(x)` (lighter than `model.predict`), weights converted from PyTorch: kernel = weight_ih^T, recurrentKernel = weight_hh^T, bias = bias_ih + bias_hh. ' +
      "tfjs-layers 4.22 refuses `resetAfter: true`, which PyTorch's GRU is, so its GRU column runs a Keras reset_after=True GRU cell (`ResetAfterGRUCell`, gates r,z,n reordered to z,r,h, biases kept apart) inside tfjs-layers' own `tf.layers.rnn` loop.",
    "onnxruntime-node (native, CPU execution provider, `intraOpNumThreads` = rnnkit's threads, and 1 against rnnkit on one thread; sequential execution, idle threads not spinning: `session.intra_op.allow_spinning` = 0, else they take the CPU from the contender timed next) on the same exported models, in the same interleaved rounds as ONNX Runtime Web.",
    "PyTorch (training step): torch_train.py with Debian's torch in its own Python process on rnnkit's threads (`torch.set_num_threads`), `nn.{RNN,LSTM,GRU}(batch_first=True)` with rnnkit's initial weights, MSE loss, Adam(1e-3); each call asks it for one step over a pipe (about 0.1 ms of the call), in the same interleaved rounds.",
    'decode step: one step (T = 1) of one sequence (B = 1) from a zero state, output read back; every implementation alike (none passes a state in).',
    'naive loop: plain tfjs-core ops, per step `tf.slice` of x_t and two matMuls (x_t and h), no hoisted input projection, `tf.stack` at the end.',
    `ONNX Runtime Web: \`torch.onnx.export\` (opset 14, dynamic batch and time) of the PyTorch module whose weights rnnkit loads (export_onnx.py), run with the wasm execution provider, 1 thread, in Node. It does not depend on the tfjs backend: it is timed once per case, interleaved with the ${ortBackend} pass${backends.length > 1 ? ", and the other backend's row repeats that time" : ''}.`,
    "training step: forward + MSE loss + backward + Adam(1e-3); rnnkit `trainStep`, tfjs-layers `model.trainOnBatch` (compiled with Adam and meanSquaredError), naive loop `tf.variableGrads` + `applyGradients`. Checked: the first step's loss is equal.",
    "tfjs-core's Node build registers no chained tensor methods, which tfjs-layers needs; the bench registers tfjs-core's own (as @tensorflow/tfjs does). rnnkit does not use them.",
  ];
  const stock = results.filter((r) => r.impls['tfjs-layers-stock-gru']?.summary);
  if (stock.length > 0) {
    n.push(
      "Stock `tf.layers.gru` (reset_after=False: a different function, output differs from PyTorch's by up to " +
        `${Math.max(...stock.map((r) => r.impls['tfjs-layers-stock-gru']!.maxAbsDiff ?? 0)).toExponential(1)}), timed for reference: ` +
        stock
          .map((r) => {
            const s = r.impls['tfjs-layers-stock-gru']!;
            return `${r.group} ${r.backend} ${fmtMs(s.summary!.medianMs)} (×${s.speedup?.toFixed(2)} vs rnnkit)`;
          })
          .join(', ') +
        '.',
    );
  }
  const cold = results.flatMap((r) =>
    Object.entries(r.impls)
      .filter(([, v]) => v?.cold && v.summary)
      .map(([k, v]) => `${k} on ${r.id} ${r.backend} (${fmtMs(v!.summary!.medianMs)})`),
  );
  if (cold.length > 0) {
    n.push(`Too slow to repeat, one cold run only: ${cold.join(', ')}.`);
  }
  const leaks = results.flatMap((r) =>
    Object.entries(r.impls)
      .filter(([, v]) => (v?.leakedTensors ?? 0) !== 0)
      .map(([k, v]) => `${k} on ${r.id} ${r.backend}: ${v!.leakedTensors}`),
  );
  if (leaks.length > 0) n.push(`Tensors left behind over the timed calls: ${leaks.join(', ')}.`);
  return n;
}
