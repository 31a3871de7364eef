import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setKernelThreads } from '@rnnkit/cell';
import { BACKENDS, type BackendName, setBackend } from '@rnnkit/ops';
import cliProgress from 'cli-progress';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { loadModel } from './browser.js';
import { taskItems } from './data.js';
import { evaluateModel, exportData } from './export.js';
import { addG2pCommand, g2pLines, predictG2p, trainG2p } from './g2p/cli.js';
import { isG2pModel } from './g2p/model.js';
import { CELLS, type Cell } from './models.js';
import { runTask } from './run.js';
import { RECIPES, type Recipe, TASKS, type TaskName } from './tasks.js';
import type { BatchInfo } from './train.js';

export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** Lines of standard input (for predict). */
  lines?(): AsyncIterable<string>;
  /** Whether to draw a progress bar (stderr is a terminal). */
  progress?: boolean;
}

const processIo: Io = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  lines: () => createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY }),
  progress: process.stderr.isTTY === true,
};

/** A bad command line: reported on stderr, exit code 2. */
class UsageError extends Error {}

function integer(min: number) {
  return (value: string): number => {
    if (!/^\d+$/.test(value.trim()) || Number(value) < min) {
      throw new InvalidArgumentError(`expected an integer >= ${min}, got "${value}"`);
    }
    return Number(value);
  };
}

function positive(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) {
    throw new InvalidArgumentError(`expected a positive number, got "${value}"`);
  }
  return n;
}

function nonNegative(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) {
    throw new InvalidArgumentError(`expected a number >= 0, got "${value}"`);
  }
  return n;
}

interface TrainFlags {
  cell?: Cell;
  epochs?: number;
  limit?: number;
  backend: BackendName;
  threads?: number;
  seed: number;
  save?: string;
  referee?: string;
  exportData?: string;
  json?: boolean;
  batchSize?: number;
  lr?: number;
  hidden?: number;
  embeddingDim?: number;
  maxTokens?: number;
  temperature: number;
  samples: number;
  prefix: string;
}

function pct(x: unknown): string {
  return `${(100 * (x as number)).toFixed(2)}%`;
}

async function train(task: TaskName, flags: TrainFlags, io: Io): Promise<number> {
  for (const f of [flags.save, flags.referee]) {
    if (f !== undefined && !f.endsWith('.safetensors')) {
      throw new UsageError(`expected a file name ending in .safetensors, got "${f}"`);
    }
  }
  const base = RECIPES[task];
  const recipe: Recipe = {
    ...base,
    cell: flags.cell ?? base.cell,
    epochs: flags.epochs ?? base.epochs,
    batchSize: flags.batchSize ?? base.batchSize,
    lr: flags.lr ?? base.lr,
    hiddenSize: flags.hidden ?? base.hiddenSize,
    embeddingDim: flags.embeddingDim ?? base.embeddingDim,
    maxTokens: task === 'spam' ? (flags.maxTokens ?? base.maxTokens) : 0,
  };
  await setBackend(flags.backend);
  const threads = await setKernelThreads(flags.threads);
  const { items, note } = taskItems(task, recipe.maxTokens);
  const say = (s: string) => (flags.json ? io.err(`${s}\n`) : io.out(`${s}\n`));
  if (note) say(note);
  let bar: cliProgress.SingleBar | null = null;
  let epochStart = 0;
  let seen = 0;
  const onBatch = (b: BatchInfo) => {
    if (flags.json || !io.progress) return;
    if (b.batch === 0) {
      bar = new cliProgress.SingleBar(
        {
          format: `${task} epoch ${b.epoch + 1}/${recipe.epochs} [{bar}] {value}/{total} batches | loss {loss} | {speed} items/s | eta {eta_formatted}`,
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
  if (flags.exportData) {
    const { data, init } = exportData({
      task,
      items,
      recipe,
      seed: flags.seed,
      limit: flags.limit,
    });
    mkdirSync(flags.exportData, { recursive: true });
    writeFileSync(join(flags.exportData, 'data.safetensors'), data);
    writeFileSync(join(flags.exportData, 'init.safetensors'), init);
    say(`wrote ${join(flags.exportData, 'data.safetensors')} and init.safetensors (no training)`);
    return 0;
  }
  const result = runTask({
    task,
    items,
    recipe,
    seed: flags.seed,
    limit: flags.limit,
    onBatch,
    onEpoch: say,
    referee: flags.referee !== undefined,
    samples: { count: flags.samples, temperature: flags.temperature, prefix: flags.prefix },
  });
  const s = result.summary;
  s.kernelThreads = threads;
  if (flags.save) {
    writeFileSync(flags.save, result.modelFile);
    s.savedModel = flags.save;
    s.modelBytes = result.modelFile.length;
  }
  if (flags.referee && result.refereeFile) {
    writeFileSync(flags.referee, result.refereeFile);
    s.refereeFile = flags.referee;
  }
  if (flags.json) {
    io.out(`${JSON.stringify(s)}\n`);
    return 0;
  }
  const lines = [
    `${task} on ${s.backend}: ${s.cell}, ${s.epochs} epochs, ${s.trainItems} train / ${s.valItems} val / ${s.testItems} test items, vocabulary ${s.vocabSize}, ${s.parameters} parameters`,
    `trained in ${s.trainSeconds} s (${s.itemsPerSecond} items/s)`,
  ];
  if (task === 'namegen') {
    lines.push(
      `test bits per character: ${s.testBitsPerChar} (unigram baseline ${s.unigramBitsPerChar})`,
      `samples at temperature ${s.sampleTemperature}, seed ${s.sampleSeed}${s.samplePrefix ? `, prefix "${s.samplePrefix}"` : ''}: ${(s.samples as string[]).join(', ')}`,
    );
  } else {
    const [neg, posLabel] = s.labels as string[];
    const c = s.confusion as number[][];
    lines.push(
      `test accuracy ${pct(s.testAccuracy)} (majority baseline "${s.majorityClass}" ${pct(s.baselineAccuracy)})`,
      `${posLabel}: precision ${pct(s.precision)}, recall ${pct(s.recall)}, F1 ${pct(s.f1)}`,
      'confusion matrix (rows actual, columns predicted):',
      `  ${''.padEnd(8)}${neg.padStart(8)}${posLabel.padStart(8)}`,
      `  ${neg.padEnd(8)}${String(c[0][0]).padStart(8)}${String(c[0][1]).padStart(8)}`,
      `  ${posLabel.padEnd(8)}${String(c[1][0]).padStart(8)}${String(c[1][1]).padStart(8)}`,
    );
  }
  if (s.savedModel) lines.push(`saved the model to ${s.savedModel} (${s.modelBytes} bytes)`);
  if (s.refereeFile) {
    lines.push(
      `wrote ${s.refereeFile}; referee: /usr/bin/python3 tooling/golden/tasks.py ${s.refereeFile}${s.savedModel ? ` --model ${s.savedModel}` : ''}`,
    );
  }
  io.out(`${lines.join('\n')}\n`);
  return 0;
}

interface PredictFlags {
  model: string;
  backend: BackendName;
  json?: boolean;
  temperature: number;
  seed: number;
  samples: number;
  beam: number;
}

async function predict(flags: PredictFlags, io: Io): Promise<number> {
  if (!existsSync(flags.model)) throw new UsageError(`model file not found: ${flags.model}`);
  await setBackend(flags.backend);
  const bytes = new Uint8Array(readFileSync(flags.model));
  if (isG2pModel(bytes)) {
    if (io.lines) await predictG2p(bytes, io.lines(), io, flags);
    return 0;
  }
  let handle: ReturnType<typeof loadModel>;
  try {
    handle = loadModel(bytes);
  } catch (e) {
    throw new UsageError(`cannot read ${flags.model}: ${(e as Error).message}`);
  }
  try {
    if (!io.lines) return 0;
    for await (const line of io.lines()) {
      if (handle.kind === 'classifier') {
        if (line.trim() === '') continue;
        const p = handle.predict(line);
        io.out(
          flags.json
            ? `${JSON.stringify({ text: line, label: p.label, probability: p.probability, probabilities: p.probabilities })}\n`
            : `${p.label}\t${p.probability.toFixed(4)}\t${line}\n`,
        );
      } else {
        const names = handle.complete(line.trim(), flags.samples, {
          temperature: flags.temperature,
          seed: flags.seed,
        });
        io.out(
          flags.json
            ? `${JSON.stringify({ prefix: line.trim(), completions: names })}\n`
            : `${line.trim()}\t${names.join(' ')}\n`,
        );
      }
    }
  } finally {
    handle.dispose();
  }
  return 0;
}

/** Runs the CLI with `argv` (without node and script); returns the exit code (2 = bad usage). */
export async function main(argv: string[], io: Io = processIo): Promise<number> {
  const program = new Command('rnnkit-examples')
    .description(
      'rnnkit on real text: spam filter, names classifier and name generator (see apps/examples/README.md)',
    )
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err });
  const backendOption = () =>
    new Option('--backend <name>', 'tfjs backend').choices([...BACKENDS]).default('wasm');
  let code = 0;
  const descriptions: Record<TaskName, string> = {
    spam: 'spam filter on the SpamAssassin corpus (Embedding -> bidirectional GRU -> masked mean -> Linear)',
    names: 'female/male classifier of first names, character level (same stack)',
    namegen: 'character-level LSTM language model of first names; prints samples',
  };
  for (const task of TASKS) {
    const r = RECIPES[task];
    program
      .command(task)
      .description(descriptions[task])
      .addOption(
        new Option('--cell <cell>', `recurrent cell (default ${r.cell})`).choices([...CELLS]),
      )
      .option('--epochs <n>', `training epochs (default ${r.epochs})`, integer(1))
      .option('--limit <n>', 'cap every split at N items (quick runs)', integer(1))
      .addOption(backendOption())
      .option(
        '--threads <n>',
        "threads for rnnkit's kernel (default: this machine's, at most 4; results do not depend on it)",
        integer(1),
      )
      .option('--seed <n>', 'seed of the initial weights, shuffling and sampling', integer(0), 1)
      .option('--save <file.safetensors>', 'write the trained model (weights + vocabulary)')
      .option(
        '--referee <file.safetensors>',
        'write data, batch orders, initial weights and our test predictions for tooling/golden/tasks.py',
      )
      .option(
        '--export-data <dir>',
        'write the split, token ids, batch orders (data.safetensors) and the initial model (init.safetensors) for python/train_ddp.py, then exit',
      )
      .option('--json', 'no progress bar; the last line of output is one JSON object')
      .option('--batch-size <n>', `batch size (default ${r.batchSize})`, integer(1))
      .option('--lr <x>', `Adam learning rate (default ${r.lr})`, positive)
      .option('--hidden <n>', `hidden size (default ${r.hiddenSize})`, integer(1))
      .option('--embedding-dim <n>', `embedding size (default ${r.embeddingDim})`, integer(1))
      .option(
        '--max-tokens <n>',
        `spam: tokens kept per email (default ${RECIPES.spam.maxTokens})`,
        integer(1),
      )
      .option('--samples <n>', 'namegen: names to sample after training', integer(0), 10)
      .option(
        '--temperature <t>',
        'namegen: sampling temperature (0 = most likely)',
        nonNegative,
        0.8,
      )
      .option('--prefix <text>', 'namegen: start every sample with this', '')
      .action(async (flags: TrainFlags) => {
        code = await train(task, flags, io);
      });
  }
  addG2pCommand(program, { integer, positive, backend: backendOption }, async (flags) => {
    for (const f of [flags.save, flags.referee]) {
      if (f !== undefined && !f.endsWith('.safetensors')) {
        throw new UsageError(`expected a file name ending in .safetensors, got "${f}"`);
      }
    }
    const r = await trainG2p(flags, io);
    if (flags.save) {
      writeFileSync(flags.save, r.modelFile);
      Object.assign(r.summary, { savedModel: flags.save, modelBytes: r.modelFile.length });
    }
    if (flags.referee && r.refereeFile) {
      writeFileSync(flags.referee, r.refereeFile);
      r.summary.refereeFile = flags.referee;
    }
    io.out(flags.json ? `${JSON.stringify(r.summary)}\n` : `${g2pLines(r.summary).join('\n')}\n`);
  });
  program
    .command('predict')
    .description(
      'read lines on stdin; classifiers print label and probability per line, namegen prints completions of each line as a prefix, g2p prints the pronunciation of each word',
    )
    .requiredOption('--model <file.safetensors>', 'a model written with --save')
    .addOption(backendOption())
    .option('--json', 'one JSON object per line')
    .option('--samples <n>', 'namegen: completions per prefix', integer(1), 5)
    .option(
      '--temperature <t>',
      'namegen: sampling temperature (0 = most likely)',
      nonNegative,
      0.8,
    )
    .option('--seed <n>', 'namegen: sampling seed', integer(0), 1)
    .option('--beam <n>', 'g2p: beam size (1 = greedy)', integer(1), 5)
    .action(async (flags: PredictFlags) => {
      code = await predict(flags, io);
    });
  program
    .command('evaluate')
    .description('test accuracy (or bits per character) of a model file on --export-data data')
    .requiredOption(
      '--model <file.safetensors>',
      'a model file (--save, or python/train_ddp.py --out)',
    )
    .requiredOption('--data <dir>', 'a directory written by --export-data')
    .option(
      '--torch <file.safetensors>',
      "PyTorch's test predictions for the same model (train_ddp.py --predictions)",
    )
    .addOption(backendOption())
    .action(
      async (flags: { model: string; data: string; torch?: string; backend: BackendName }) => {
        const files = [flags.model, join(flags.data, 'data.safetensors'), flags.torch];
        for (const f of files)
          if (f !== undefined && !existsSync(f)) throw new UsageError(`file not found: ${f}`);
        await setBackend(flags.backend);
        const [model, data, torch] = files.map((f) =>
          f === undefined ? undefined : new Uint8Array(readFileSync(f)),
        );
        io.out(
          `${JSON.stringify(evaluateModel(model as Uint8Array, data as Uint8Array, torch))}\n`,
        );
      },
    );
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if (e instanceof UsageError) {
      io.err(`rnnkit-examples: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  return code;
}
