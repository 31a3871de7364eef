// The predict and evaluate commands: a saved model on lines of stdin, or on exported data.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type BackendName, setBackend } from '@rnnkit/ops';
import type { Command } from 'commander';
import { loadModel } from './browser.js';
import { backendOption, type Io, integer, nonNegative, UsageError } from './cli-args.js';
import { evaluateModel } from './export.js';
import { predictG2p } from './g2p/cli.js';
import { isG2pModel } from './g2p/model.js';

interface PredictFlags {
  model: string;
  backend: BackendName;
  json?: boolean;
  temperature: number;
  seed: number;
  samples: number;
  beam: number;
}

/** Adds `predict` and `evaluate` to the program. */
export function addModelCommands(program: Command, io: Io): void {
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
    .action((flags: PredictFlags) => predict(flags, io));
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
}

async function predict(flags: PredictFlags, io: Io): Promise<void> {
  if (!existsSync(flags.model)) throw new UsageError(`model file not found: ${flags.model}`);
  await setBackend(flags.backend);
  const bytes = new Uint8Array(readFileSync(flags.model));
  if (isG2pModel(bytes)) {
    if (io.lines) await predictG2p(bytes, io.lines(), io, flags);
    return;
  }
  let handle: ReturnType<typeof loadModel>;
  try {
    handle = loadModel(bytes);
  } catch (e) {
    throw new UsageError(`cannot read ${flags.model}: ${(e as Error).message}`);
  }
  try {
    if (!io.lines) return;
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
}
