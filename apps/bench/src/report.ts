/** The run as one JSON object and as the Markdown that RESULTS.md (and the README) shows. */
import { ENGINE_DEFAULTS } from '@rnnkit/cell/internal';
import type { BackendName } from './cases.js';
import type { MemoryResult } from './memprobe.js';
import type { ProfileResult } from './profile.js';
import { profileMarkdown } from './profile.js';
import { buildsTable, nativeTable } from './report-native.js';
import { CELL_NAME, fmtRatio, rowLabel, timedTable } from './report-table.js';
import { type CaseResult, type ImplResult, TOLERANCE } from './results.js';
import type { TargetResult } from './targets.js';

export interface Environment {
  /** The commit measured, and whether packages/ differed from it. */
  rnnkit: string;
  date: string;
  node: string;
  platform: string;
  cpu: string;
  cores: number;
  tfjsCore: string;
  tfjsLayers: string;
  onnxruntimeWeb: string;
  /** Absent in runs saved before the native columns. */
  onnxruntimeNode?: string;
  /** The kernel build rnnkit ran ('relaxed' or 'simd'); absent in older runs. */
  kernelBuild?: string;
  torch: string | null;
  command: string;
  /** Threads of rnnkit's kernel in this run (absent in runs saved before it had threads: 1). */
  rnnkitThreads?: number;
}

export interface BenchReport {
  tool: 'rnnkit-bench';
  environment: Environment;
  options: {
    quick: boolean;
    backends: BackendName[];
    filter: string[];
    budgetMs: number;
    minReps: number;
    slowBudgetMs: number;
    maxReps: number;
    /** The warm-up and sampling policy (absent in runs saved before samples were batched). */
    warmupMs?: number;
    maxWarmupCalls?: number;
    minSampleMs?: number;
    maxBatch?: number;
    slowLimitMs: number;
    tolerance: number;
  };
  onnx: { available: boolean; reason?: string };
  results: CaseResult[];
  targets: TargetResult[];
  memory: MemoryResult[];
  profiles: ProfileResult[];
  notes: string[];
}

export function fmtMs(ms: number): string {
  if (ms >= 10_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms >= 100) return `${ms.toFixed(0)} ms`;
  if (ms >= 10) return `${ms.toFixed(1)} ms`;
  return `${ms.toFixed(2)} ms`;
}

/** "12.3 ms [11.9 ms–13.0 ms] n=20" (n=25×40: 25 samples of 40 calls each), or why there is no time. */
function timeCell(r: ImplResult | undefined): string {
  if (!r) return '–';
  if (r.status === 'mismatch') return `mismatch (${r.reason})`;
  if (r.status === 'skipped') return r.reason ?? 'skipped';
  if (r.status === 'error') return `error: ${r.reason}`;
  if (!r.summary) return '–';
  const s = r.summary;
  const spread = s.reps > 1 ? ` [${fmtMs(s.minMs)}–${fmtMs(s.maxMs)}]` : '';
  const cold = r.cold ? ' (1 cold run)' : '';
  const batch = (r.batch ?? 1) > 1 ? `×${r.batch}` : '';
  return `${fmtMs(s.medianMs)}${spread} n=${s.reps}${batch}${cold}`;
}

function ratioCell(r: ImplResult | undefined): string {
  return r?.speedup !== undefined ? fmtRatio(r.speedup) : '';
}

export function resultsTable(results: CaseResult[]): string {
  const lines = [
    '| case | B,T,I,H | backend | rnnkit | tfjs-layers | ×layers | naive loop | ×naive | ONNX Runtime Web | ×ORT |',
    '|---|---|---|---|---|---:|---|---:|---|---:|',
  ];
  for (const r of results) {
    const i = r.impls;
    lines.push(
      `| ${rowLabel(r)} | ${timeCell(i.rnnkit)} | ` +
        `${timeCell(i['tfjs-layers'])} | ${ratioCell(i['tfjs-layers'])} | ${timeCell(i.naive)} | ` +
        `${ratioCell(i.naive)} | ${timeCell(i.ort)} | ${ratioCell(i.ort)} |`,
    );
  }
  return lines.join('\n');
}

/**
 * rnnkit on one thread against the others, for the rows where rnnkit ran on more: ×X = their
 * median / rnnkit's one-thread median.
 */
export function oneThreadTable(results: CaseResult[], threads: number): string | null {
  return timedTable(
    results,
    'rnnkit-1-thread',
    [
      `| case | B,T,I,H | backend | rnnkit, 1 thread | rnnkit, ${threads} threads | ×layers | ×naive | ×ORT |`,
      '|---|---|---|---|---|---:|---:|---:|',
    ],
    (r) => {
      const one = r.impls['rnnkit-1-thread']!;
      const vs = (v: ImplResult | undefined) =>
        v?.summary ? fmtRatio(v.summary.medianMs / one.summary!.medianMs) : '';
      return (
        `| ${rowLabel(r)} | ${timeCell(one)} | ` +
        `${timeCell(r.impls.rnnkit)} | ${vs(r.impls['tfjs-layers'])} | ${vs(r.impls.naive)} | ${vs(r.impls.ort)} |`
      );
    },
  );
}

const MB = (b: number) => (b / 2 ** 20).toFixed(1);

export function memoryTable(memory: MemoryResult[]): string {
  const lines = [
    '| cell | backend | T | forward | rss before → after (MiB) | tf bytes before → after (MiB) | peak tensor bytes during forward (MiB) | peak bytes per step | tensors left |',
    '|---|---|---:|---:|---|---|---:|---:|---:|',
  ];
  for (const m of memory) {
    lines.push(
      `| ${CELL_NAME[m.cell]} | ${m.backend} | ${m.T.toLocaleString('en-US')} | ${fmtMs(m.forwardMs)} | ` +
        `${MB(m.rssBefore)} → ${MB(m.rssAfter)} (${m.rssAfter >= m.rssBefore ? '+' : '−'}${MB(Math.abs(m.rssAfter - m.rssBefore))}) | ` +
        `${MB(m.tfBytesBefore)} → ${MB(m.tfBytesAfter)} | ${MB(m.peakExtraBytes)} | ` +
        `${(m.peakExtraBytes / m.T).toFixed(0)} B | ${m.tensorsLeft} |`,
    );
  }
  return lines.join('\n');
}

/** How the times were taken, for the paragraph above the table. */
function method(o: BenchReport['options']): string {
  const checked =
    '×X = their median / rnnkit median in the same row (above 1: rnnkit is faster). ' +
    `Every implementation gets the same weights and input; its output (training: its first loss) ` +
    `was checked equal to rnnkit's within ${TOLERANCE} before timing, else the cell says mismatch. `;
  const reps =
    `as many as fit ${fmtMs(o.budgetMs)} of timed calls per implementation and case, ` +
    `at most ${o.maxReps}, at least ${o.minReps} unless those would take over ${fmtMs(o.slowBudgetMs)} ` +
    `(then fewer, down to 1); a first call over ${fmtMs(o.slowLimitMs)} is reported alone (1 cold run).`;
  if (
    o.warmupMs === undefined ||
    o.maxWarmupCalls === undefined ||
    o.minSampleMs === undefined ||
    o.maxBatch === undefined
  ) {
    // A run saved before samples were batched: one call per sample, one or two warm-up calls.
    return (
      'Each cell: median over n timed calls after warm-up, [min–max], n. ' +
      checked +
      'Implementations are timed in interleaved rounds, so load on this shared machine hits every column alike: ' +
      'compare ratios within one run, not times across runs. ' +
      `Repetitions adapt to the time of a warm call: ${reps}`
    );
  }
  return (
    'Each cell: median time per call over n samples, [min–max] of the samples, n=samples×calls per sample ' +
    '(just n when each sample is one call). ' +
    checked +
    `Warm-up first: after its first (checked) call, each implementation is called again until ${fmtMs(o.warmupMs)} ` +
    `has passed (at most ${o.maxWarmupCalls} calls in all; no more after a first call over half the budget), ` +
    'so V8 has optimised every implementation alike before timing. ' +
    'A sample times consecutive calls and records their total time / their number: one call when a warm call ' +
    `(the median of the last 10 warm-up calls) takes ${fmtMs(o.minSampleMs)} or more, ` +
    `else ceil(${fmtMs(o.minSampleMs)} / warm call) calls, at most ${o.maxBatch}, ` +
    "so the timer's resolution and a single GC pause weigh little. " +
    'Implementations are sampled in interleaved rounds (each round takes one sample of every implementation), ' +
    'so load on this shared machine hits every column alike: compare ratios within one run, not times across runs. ' +
    `The number of samples adapts to their time: ${reps}`
  );
}

/** Who runs on how many threads. */
function threadsNote(threads: number): string {
  const ours =
    threads > 1
      ? `rnnkit's WebAssembly kernel splits large calls across ${threads} threads (worker_threads on one shared memory; ` +
        `calls under ${2 * ENGINE_DEFAULTS.minParallelWork} multiply-adds stay on one thread); the next section times it on one thread as well.`
      : "rnnkit's WebAssembly kernel ran on one thread.";
  return (
    `Threads: ${ours} tfjs-layers and the naive loop run on tfjs's backends, which are single-threaded in Node ` +
    '(tfjs-backend-wasm turns its threads off under Node, tfjs issue 3830); ONNX Runtime Web runs on one thread, ' +
    'so its goal is judged one thread against one thread.'
  );
}

/** A section's lines: its title, an intro paragraph (if any) and its body; none without a body. */
function section(title: string, intro: string | null, body: string | null): string[] {
  if (body === null) return [];
  return [title, '', ...(intro === null ? [] : [intro, '']), body, ''];
}

export function markdown(report: BenchReport): string {
  const e = report.environment;
  const o = report.options;
  const parts = [
    '# rnnkit benchmark',
    '',
    `rnnkit: ${e.rnnkit}. Measured ${e.date} with \`${e.command}\` on ${e.cpu} (${e.cores} cores), Node ${e.node}, ${e.platform}; ` +
      `tfjs-core ${e.tfjsCore}, tfjs-layers ${e.tfjsLayers}, onnxruntime-web ${e.onnxruntimeWeb} ` +
      `(wasm, 1 thread)${e.onnxruntimeNode ? `, onnxruntime-node ${e.onnxruntimeNode}` : ''}, models exported by ${e.torch ? `torch ${e.torch}` : '(no torch: ONNX skipped)'}` +
      `${e.kernelBuild ? `; rnnkit's kernel build: ${e.kernelBuild === 'relaxed' ? 'relaxed SIMD (fused multiply-add)' : 'plain SIMD'}` : ''}.`,
    '',
    `Float32. ${method(o)}`,
    '',
    threadsNote(e.rnnkitThreads ?? 1),
    '',
    resultsTable(report.results),
    '',
  ];
  const threads = e.rnnkitThreads ?? 1;
  parts.push(
    ...section(
      '## rnnkit on one thread',
      'The same runs, rnnkit timed with no kernel call split across threads (`enginePolicy.minParallelWork` and `minStepWork` infinite) as one more implementation in the same ' +
        'interleaved rounds (its output checked equal like every other); ×X = their median / rnnkit on one thread.',
      oneThreadTable(report.results, threads),
    ),
    ...section(
      '## rnnkit vs onnxruntime-node, thread for thread',
      "The same runs: onnxruntime-node (native code) on as many threads as rnnkit, and on one thread against rnnkit on one; ×native = its median / rnnkit's.",
      nativeTable(report.results, threads),
    ),
    ...section(
      "## The kernel's builds: relaxed SIMD vs plain SIMD",
      "The same runs: rnnkit's default here is the relaxed-SIMD build (fused multiply-add in the products); `enginePolicy.relaxedSimd = false` runs the plain SIMD build as one more implementation; ×plain = its median / the relaxed build's.",
      buildsTable(report.results, threads),
    ),
    ...section(
      '## Targets (issues 7 and 18), from this run',
      null,
      report.targets.length === 0
        ? null
        : [
            '| target | measured | met |',
            '|---|---|---|',
            ...report.targets.map(
              (t) =>
                `| ${t.target} | ${t.measured} | ${t.met === null ? 'not measured' : t.met ? 'met' : '**not met**'} |`,
            ),
          ].join('\n'),
    ),
    ...section(
      `## Memory, long sequence (B=1, I=${report.memory[0]?.I}, H=${report.memory[0]?.H})`,
      'rnnkit forward only, each row in a fresh Node process (`dist/memprobe.js`). Peak tensor bytes from `tf.profile`; ' +
        'rss is the whole process (on wasm it includes the WebAssembly heap, which grows and never shrinks).',
      report.memory.length === 0 ? null : memoryTable(report.memory),
    ),
  );
  for (const p of report.profiles) parts.push(profileMarkdown(p));
  if (report.notes.length > 0) {
    parts.push('## Notes', '', ...report.notes.map((n) => `- ${n}`), '');
  }
  return parts.join('\n');
}
