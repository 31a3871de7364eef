/** The command line: rnnkit-bench's options, their parsers, and where its output goes. */
import { join } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { BACKENDS, type BackendName } from './cases.js';
import { APP_DIR, DEFAULT_MODELS_DIR, DEFAULT_PYTHON } from './onnx.js';

export interface IO {
  out: (text: string) => void;
  err: (text: string) => void;
  /** Show the progress bar (on stderr, when it is a terminal). */
  progress?: boolean;
}

export const RESULTS_FILE = join(APP_DIR, 'RESULTS.md');

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

/** rnnkit-bench's options (commander), writing help and errors to `io`. */
export function program(io: IO): Command {
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

export interface Options {
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
