import { BACKENDS, type BackendName, setBackend } from '@rnnkit/ops';
import { SingleBar } from 'cli-progress';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import {
  ADDING_BASELINE,
  CELL_TYPES,
  type CellType,
  gradientFlow,
  trainAdding,
  tutorialExample,
} from './engine/index.js';

export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** Where the progress bar draws (stderr in a terminal); null: no bar. */
  progress: NodeJS.WritableStream | null;
  /** Called with an abort function while training, so Ctrl-C can stop it. */
  onInterrupt?: (stop: () => void) => () => void;
}

const processIo: Io = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  progress: process.stderr.isTTY ? process.stderr : null,
  onInterrupt: (stop) => {
    process.once('SIGINT', stop);
    return () => process.off('SIGINT', stop);
  },
};

/** Exit codes: 0 ok, 1 failure while running, 2 bad usage. */
class UsageError extends Error {}

function intArg(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\s*-?\d+\s*$/.test(value) || !Number.isInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected an integer in [${min}, ${max}], got "${value}"`);
    }
    return n;
  };
}

function positiveArg(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) {
    throw new InvalidArgumentError(`expected a positive number, got "${value}"`);
  }
  return n;
}

const fmt = (shape: number[] | null) => (shape ? `[${shape.join(', ')}]` : '-');

/** Runs `rnnkit-demo` with `argv` (without node and script); returns the exit code. */
export async function main(argv: string[], io: Io = processIo): Promise<number> {
  let code = 0;
  const program = new Command('rnnkit-demo')
    .description(
      "rnnkit's demo engine from the terminal: the tutorial's example, training on the adding problem, gradient flow.",
    )
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .showHelpAfterError('(run rnnkit-demo --help for usage)');

  /** A subcommand: --cell first, then `options`, then --seed, --backend and --json. */
  const subcommand = (
    name: string,
    description: string,
    cell: CellType,
    options: (c: Command) => Command,
    text: { seed: string; json: string } = { seed: 'seed', json: 'print one JSON object' },
  ) =>
    options(
      program
        .command(name)
        .description(description)
        .addOption(
          new Option('-c, --cell <type>', 'recurrent layer').choices([...CELL_TYPES]).default(cell),
        ),
    )
      .option('--seed <n>', text.seed, intArg(0, 2 ** 32 - 1), 0)
      .addOption(
        new Option('-b, --backend <name>', 'tfjs backend').choices([...BACKENDS]).default('wasm'),
      )
      .option('--json', text.json);

  /** -t and -H of the adding-problem commands (train, gradflow), in the engine's ranges. */
  const addingSizes = (c: Command, seqLen: number) =>
    c
      .option('-t, --seq-len <n>', 'sequence length T', intArg(2, 10_000), seqLen)
      .option('-H, --hidden-size <n>', 'hidden size', intArg(1, 4096), 32);

  subcommand(
    'train',
    'train <cell> + Linear on the adding problem (Adam, BPTT, optional clipping)',
    'lstm',
    (c) =>
      addingSizes(c, 20)
        .option('-s, --steps <n>', 'training steps', intArg(1, 1_000_000), 300)
        .option('--batch-size <n>', 'sequences per step', intArg(1, 4096), 32)
        .option('--lr <rate>', 'Adam learning rate', positiveArg, 0.01)
        .option('--clip <maxNorm>', 'clip the global gradient norm to maxNorm', positiveArg),
    {
      seed: 'seed for init and data',
      json: 'print one JSON object instead of a progress bar and a summary',
    },
  ).action(async (o) => {
    code = await train(o, io);
  });

  subcommand('example', "run the tutorial's example and print the shapes", 'myrnn', (c) =>
    c
      .option('--batch <n>', 'bs', intArg(1, 64), 2)
      .option('-t, --seq-len <n>', 'seq_len', intArg(1, 1000), 10)
      .option('--input-size <n>', 'emb_size', intArg(1, 4096), 300)
      .option('-H, --hidden-size <n>', 'hidden_dim', intArg(1, 4096), 256),
  ).action(async (o) => {
    await setBackend(o.backend);
    const r = tutorialExample(o); // the flags are its options: cell, batch, seqLen, ...
    const { hiddenStates: _h, ...rest } = r;
    io.out(o.json ? `${JSON.stringify(rest)}\n` : exampleText(r));
  });

  subcommand(
    'gradflow',
    'print |dL/dx_t| for every step t: vanishing or exploding gradients',
    'rnn',
    (c) =>
      addingSizes(c, 30)
        .option('--gain <g>', 'scale the recurrent weights by g after init', positiveArg, 1)
        .option('--clip <maxNorm>', 'also show the norms after clipping to maxNorm', positiveArg),
  ).action(async (o) => {
    await setBackend(o.backend);
    const r = gradientFlow({ ...o, clipNorm: o.clip ?? null });
    io.out(o.json ? `${JSON.stringify(r)}\n` : gradflowText(r, o.clip));
  });

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if (e instanceof UsageError || e instanceof RangeError) {
      io.err(`rnnkit-demo: ${(e as Error).message}\n`);
      return 2;
    }
    io.err(`rnnkit-demo: ${(e as Error).stack ?? e}\n`);
    return 1;
  }
  return code;
}

/** The tutorial's example as the terminal shows it: its code, then every shape. */
function exampleText(r: ReturnType<typeof tutorialExample>): string {
  const s = r.shapes;
  const my = r.cell === 'myrnn';
  const rows: Array<[string, string]> = [
    ['xt.shape', fmt(s.input)],
    ...(s.h0 ? [['h0.shape', fmt(s.h0)] as [string, string]] : []),
    [my ? 'hidden_states.shape' : 'output.shape', fmt(s.output)],
    [my ? 'h.shape' : 'h_n.shape', fmt(s.h)],
    ...(s.c ? [['c_n.shape', fmt(s.c)] as [string, string]] : []),
    ['predictions.shape', fmt(s.predictions)],
    ['len(rnn(xt))', String(r.returns)],
  ];
  const lines = [
    ...r.code.map((c) => `>>> ${c}`),
    ...rows.map(([k, v]) => `${k.padEnd(20)} ${v}`),
    `(${r.cell}, ${r.backend} backend, ${r.ms.toFixed(0)} ms)`,
  ];
  return `${lines.join('\n')}\n`;
}

/** |dL/dx_t| as a bar per step (log scale), then the ratio and the clipping factor. */
function gradflowText(r: ReturnType<typeof gradientFlow>, clip: number | undefined): string {
  const max = Math.max(...r.norms);
  const bars = r.norms.map((n, t) => {
    const bar = '#'.repeat(Math.max(0, Math.round(40 + 4 * Math.log10(n / max))));
    return `t=${String(t).padStart(4)}  ${n.toExponential(2).padStart(9)}  ${bar}\n`;
  });
  return (
    bars.join('') +
    `|dL/dx_0| / |dL/dx_T-1| = ${r.ratio.toExponential(2)} (${r.verdict}); parameter gradient norm ${r.paramGradNorm.toFixed(3)}` +
    (clip ? `, clipping to ${clip} scales it by ${r.clipFactor.toFixed(3)}` : '') +
    '\n'
  );
}

interface TrainArgs {
  cell: CellType;
  steps: number;
  seqLen: number;
  hiddenSize: number;
  batchSize: number;
  lr: number;
  clip?: number;
  seed: number;
  backend: BackendName;
  json?: boolean;
}

async function train(o: TrainArgs, io: Io): Promise<number> {
  await setBackend(o.backend);
  const controller = new AbortController();
  const release = io.onInterrupt?.(() => controller.abort()) ?? (() => {});
  const bar =
    !o.json && io.progress
      ? new SingleBar({
          stream: io.progress,
          format: `${o.cell.toUpperCase().padEnd(5)} {bar} {value}/{total} | loss {loss} | grad norm {gradNorm} | ETA {eta_formatted}`,
          hideCursor: true,
          barsize: 30,
        })
      : null;
  bar?.start(o.steps, 0, { loss: '-', gradNorm: '-' });
  let result: Awaited<ReturnType<typeof trainAdding>>;
  try {
    result = await trainAdding({
      cell: o.cell,
      steps: o.steps,
      seqLen: o.seqLen,
      hiddenSize: o.hiddenSize,
      batchSize: o.batchSize,
      lr: o.lr,
      clipNorm: o.clip ?? null,
      seed: o.seed,
      signal: controller.signal,
      yieldMs: 50,
      onStep: ({ step, loss, gradNorm }) =>
        bar?.update(step, { loss: loss.toFixed(4), gradNorm: gradNorm.toFixed(3) }),
    });
  } finally {
    bar?.stop();
    release();
  }
  const summary = {
    cell: result.cell,
    backend: result.backend,
    steps: result.steps,
    stopped: result.stopped,
    firstLoss: result.firstLoss,
    finalLoss: result.finalLoss,
    recentLoss: result.recentLoss,
    baseline: ADDING_BASELINE,
    seconds: result.seconds,
    seqLen: o.seqLen,
    hiddenSize: o.hiddenSize,
    lr: o.lr,
    clipNorm: o.clip ?? null,
    seed: o.seed,
  };
  if (o.json) {
    io.out(`${JSON.stringify(summary)}\n`);
  } else {
    io.out(
      `${o.cell} on the adding problem (T=${o.seqLen}, H=${o.hiddenSize}, ${result.backend}${o.clip ? `, clip ${o.clip}` : ''}): ` +
        `loss ${result.firstLoss.toFixed(4)} -> ${result.finalLoss.toFixed(4)} (mean of last 20: ${result.recentLoss.toFixed(4)}; ` +
        `always answering 1 scores ${ADDING_BASELINE.toFixed(4)}) in ${result.steps} steps, ${result.seconds.toFixed(1)}s` +
        `${result.stopped ? ' (stopped)' : ''}\n`,
    );
  }
  return 0;
}
