// What the training commands (spam, names, namegen, g2p) share: their flags, the backend and
// threads setup, the progress bar, and the --save / --referee files.
import { writeFileSync } from 'node:fs';
import { setKernelThreads } from '@rnnkit/cell';
import { kernelBuild } from '@rnnkit/cell/internal';
import { type BackendName, setBackend } from '@rnnkit/ops';
import cliProgress from 'cli-progress';
import { type Command, Option } from 'commander';
import { backendOption, type Io, integer, positive, UsageError } from './cli-args.js';
import { CELLS, type Cell } from './models.js';
import type { RunHooks } from './run.js';
import type { BatchInfo } from './train.js';

/** The hyper-parameters every recipe has and the training flags override. */
export interface BaseRecipe {
  cell: Cell;
  epochs: number;
  batchSize: number;
  lr: number;
  hiddenSize: number;
  embeddingDim: number;
}

export interface TrainingFlags {
  cell?: Cell;
  epochs?: number;
  limit?: number;
  backend: BackendName;
  threads?: number;
  seed: number;
  save?: string;
  referee?: string;
  json?: boolean;
  batchSize?: number;
  lr?: number;
  hidden?: number;
  embeddingDim?: number;
}

/** What a training run gives the CLI: the JSON summary and the files to write. */
export interface Trained {
  summary: Record<string, unknown>;
  modelFile: Uint8Array;
  refereeFile?: Uint8Array;
}

/**
 * Adds the training flags to `cmd`, with `r`'s values as the defaults they name. `unit`: what
 * --limit counts; `seeds`: what --seed seeds.
 */
export function addTrainingOptions(
  cmd: Command,
  r: BaseRecipe,
  text: { unit: string; seeds: string },
): Command {
  return cmd
    .addOption(
      new Option('--cell <cell>', `recurrent cell (default ${r.cell})`).choices([...CELLS]),
    )
    .option('--epochs <n>', `training epochs (default ${r.epochs})`, integer(1))
    .option('--limit <n>', `cap every split at N ${text.unit} (quick runs)`, integer(1))
    .addOption(backendOption())
    .option(
      '--threads <n>',
      "threads for rnnkit's kernel (default: this machine's, at most 4; results do not depend on it)",
      integer(1),
    )
    .option('--seed <n>', `seed of ${text.seeds}`, integer(0), 1)
    .option('--save <file.safetensors>', 'write the trained model (weights + vocabulary)')
    .option(
      '--referee <file.safetensors>',
      'write data, batch orders, initial weights and our test predictions for tooling/golden/tasks.py',
    )
    .option('--json', 'no progress bar; the last line of output is one JSON object')
    .option('--batch-size <n>', `batch size (default ${r.batchSize})`, integer(1))
    .option('--lr <x>', `Adam learning rate (default ${r.lr})`, positive)
    .option('--hidden <n>', `hidden size (default ${r.hiddenSize})`, integer(1))
    .option('--embedding-dim <n>', `embedding size (default ${r.embeddingDim})`, integer(1));
}

/** `base` with the hyper-parameters the flags set. */
export function withFlags<R extends BaseRecipe>(base: R, flags: TrainingFlags): R {
  return {
    ...base,
    cell: flags.cell ?? base.cell,
    epochs: flags.epochs ?? base.epochs,
    batchSize: flags.batchSize ?? base.batchSize,
    lr: flags.lr ?? base.lr,
    hiddenSize: flags.hidden ?? base.hiddenSize,
    embeddingDim: flags.embeddingDim ?? base.embeddingDim,
  };
}

/**
 * Checks the output file names, sets the backend and the kernel's threads. Returns the threads,
 * `say` (a line of progress: stdout, or stderr under --json) and the run's hooks: seed, limit,
 * referee, `say` after each epoch and the progress bar (none under --json or when stderr is not
 * a terminal).
 */
export async function startTraining(flags: TrainingFlags, io: Io, task: string, epochs: number) {
  for (const f of [flags.save, flags.referee]) {
    if (f !== undefined && !f.endsWith('.safetensors')) {
      throw new UsageError(`expected a file name ending in .safetensors, got "${f}"`);
    }
  }
  await setBackend(flags.backend);
  const threads = await setKernelThreads(flags.threads);
  const say = (s: string) => (flags.json ? io.err(`${s}\n`) : io.out(`${s}\n`));
  const hooks: RunHooks = {
    seed: flags.seed,
    limit: flags.limit,
    onBatch: flags.json || !io.progress ? undefined : progressBar(task, epochs),
    onEpoch: say,
    referee: flags.referee !== undefined,
  };
  return { threads, say, hooks };
}

/** A progress bar per epoch on stderr: batches, loss, items per second. */
function progressBar(task: string, epochs: number): (b: BatchInfo) => void {
  let bar: cliProgress.SingleBar | null = null;
  let epochStart = 0;
  let seen = 0;
  return (b) => {
    if (b.batch === 0) {
      bar = new cliProgress.SingleBar(
        {
          format: `${task} epoch ${b.epoch + 1}/${epochs} [{bar}] {value}/{total} batches | loss {loss} | {speed} items/s | eta {eta_formatted}`,
          hideCursor: true,
        },
        cliProgress.Presets.shades_classic,
      );
      bar.start(b.batches, 0, { loss: '-', speed: '-' });
      epochStart = performance.now();
      seen = 0;
    }
    seen += b.items;
    const speed = (seen / ((performance.now() - epochStart) / 1000)).toFixed(1);
    bar!.update(b.batch + 1, { loss: b.loss.toFixed(4), speed });
    if (b.batch + 1 === b.batches) {
      bar!.stop();
      bar = null;
    }
  };
}

/**
 * Writes --save and --referee (noting them in the summary), then prints the summary: one JSON
 * line under --json, else `lines(summary)` and where the files went.
 */
export function finishTraining(
  flags: TrainingFlags,
  io: Io,
  r: Trained,
  lines: (s: Record<string, any>) => string[],
): void {
  const s = r.summary;
  s.kernelBuild = kernelBuild();
  if (flags.save) {
    writeFileSync(flags.save, r.modelFile);
    Object.assign(s, { savedModel: flags.save, modelBytes: r.modelFile.length });
  }
  if (flags.referee && r.refereeFile) {
    writeFileSync(flags.referee, r.refereeFile);
    s.refereeFile = flags.referee;
  }
  if (flags.json) {
    io.out(`${JSON.stringify(s)}\n`);
    return;
  }
  const out = lines(s);
  if (s.savedModel) out.push(`saved the model to ${s.savedModel} (${s.modelBytes} bytes)`);
  if (s.refereeFile) {
    out.push(
      `wrote ${s.refereeFile}; referee: /usr/bin/python3 tooling/golden/tasks.py ${s.refereeFile}${s.savedModel ? ` --model ${s.savedModel}` : ''}`,
    );
  }
  io.out(`${out.join('\n')}\n`);
}
