// The spam, names and namegen commands: train a task's model, print its report.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { type Io, integer, nonNegative } from './cli-args.js';
import {
  addTrainingOptions,
  finishTraining,
  startTraining,
  type TrainingFlags,
  withFlags,
} from './cli-training.js';
import { taskItems } from './data.js';
import { exportData } from './export.js';
import { runTask } from './run.js';
import { RECIPES, type Recipe, TASKS, type TaskName } from './tasks.js';

interface TaskFlags extends TrainingFlags {
  exportData?: string;
  maxTokens?: number;
  temperature: number;
  samples: number;
  prefix: string;
}

const DESCRIPTIONS: Record<TaskName, string> = {
  spam: 'spam filter on the SpamAssassin corpus (Embedding -> bidirectional GRU -> masked mean -> Linear)',
  names: 'female/male classifier of first names, character level (same stack)',
  namegen: 'character-level LSTM language model of first names; prints samples',
};

/** Adds one command per task to the program. */
export function addTaskCommands(program: Command, io: Io): void {
  for (const task of TASKS) {
    const cmd = program.command(task).description(DESCRIPTIONS[task]);
    addTrainingOptions(cmd, RECIPES[task], {
      unit: 'items',
      seeds: 'the initial weights, shuffling and sampling',
    })
      .option(
        '--export-data <dir>',
        'write the split, token ids, batch orders (data.safetensors) and the initial model (init.safetensors) for python/train_ddp.py, then exit',
      )
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
      .action((flags: TaskFlags) => train(task, flags, io));
  }
}

async function train(task: TaskName, flags: TaskFlags, io: Io): Promise<void> {
  const base = RECIPES[task];
  const recipe: Recipe = {
    ...withFlags(base, flags),
    maxTokens: task === 'spam' ? (flags.maxTokens ?? base.maxTokens) : 0,
  };
  const { threads, say, hooks } = await startTraining(flags, io, task, recipe.epochs);
  const { items, note } = taskItems(task, recipe.maxTokens);
  if (note) say(note);
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
    return;
  }
  const result = runTask({
    ...hooks,
    task,
    items,
    recipe,
    samples: { count: flags.samples, temperature: flags.temperature, prefix: flags.prefix },
  });
  result.summary.kernelThreads = threads;
  finishTraining(flags, io, result, (s) => reportLines(task, s));
}

const pct = (x: unknown) => `${(100 * (x as number)).toFixed(2)}%`;

/** The human-readable report of a task's summary. */
function reportLines(task: TaskName, s: Record<string, any>): string[] {
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
  return lines;
}
