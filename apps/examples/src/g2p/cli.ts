// The `g2p` command and G2P predictions for `predict`.
import { writeFileSync } from 'node:fs';
import { setKernelThreads } from '@rnnkit/cell';
import { type BackendName, setBackend } from '@rnnkit/ops';
import { CELL_KIND_NAMES } from '@rnnkit/rnn';
import cliProgress from 'cli-progress';
import { type Command, Option } from 'commander';
import type { BatchInfo } from '../train.js';
import { loadCmudict } from './load.js';
import { Pronouncer } from './model.js';
import { G2P_RECIPE, type G2pRecipe, runG2p } from './run.js';

interface Io {
  out(text: string): void;
  err(text: string): void;
  progress?: boolean;
}

export interface G2pFlags {
  cell?: G2pRecipe['cell'];
  epochs?: number;
  beam?: number;
  limit?: number;
  backend: BackendName;
  threads?: number;
  seed: number;
  save?: string;
  referee?: string;
  json?: boolean;
  batchSize?: number;
  lr?: number;
  decayAfter?: number;
  decay?: number;
  hidden?: number;
  embeddingDim?: number;
  attention?: G2pRecipe['attention'];
}

/** Adds `g2p` to the program; `run` receives the flags. */
export function addG2pCommand(
  program: Command,
  opts: {
    integer: (min: number) => (v: string) => number;
    positive: (v: string) => number;
    backend: () => Option;
  },
  run: (flags: G2pFlags) => Promise<void>,
): void {
  const r = G2P_RECIPE;
  program
    .command('g2p')
    .description(
      'grapheme-to-phoneme on CMUdict: characters -> bidirectional encoder -> attention decoder -> ARPAbet; WER/PER greedy and beam search',
    )
    .addOption(
      new Option('--cell <cell>', `recurrent cell (default ${r.cell})`).choices([
        ...CELL_KIND_NAMES,
      ]),
    )
    .option('--epochs <n>', `training epochs (default ${r.epochs})`, opts.integer(1))
    .option(
      '--beam <n>',
      `beam size of the beam-search evaluation (default ${r.beam})`,
      opts.integer(1),
    )
    .option('--limit <n>', 'cap every split at N words (quick runs)', opts.integer(1))
    .addOption(opts.backend())
    .option(
      '--threads <n>',
      "threads for rnnkit's kernel (results do not depend on it)",
      opts.integer(1),
    )
    .option('--seed <n>', 'seed of the initial weights and shuffling', opts.integer(0), 1)
    .option('--save <file.safetensors>', 'write the trained model (weights + vocabularies)')
    .option(
      '--referee <file.safetensors>',
      'write data, batch orders, initial weights and our predictions for tooling/golden/tasks.py',
    )
    .option('--json', 'no progress bar; the last line of output is one JSON object')
    .option('--batch-size <n>', `batch size (default ${r.batchSize})`, opts.integer(1))
    .option('--lr <x>', `Adam learning rate (default ${r.lr})`, opts.positive)
    .option(
      '--decay-after <n>',
      `epochs at the full learning rate (default ${r.decayAfter})`,
      opts.integer(0),
    )
    .option(
      '--decay <x>',
      `learning-rate factor per epoch after those (default ${r.decay})`,
      opts.positive,
    )
    .option('--hidden <n>', `hidden size (default ${r.hiddenSize})`, opts.integer(1))
    .option('--embedding-dim <n>', `embedding size (default ${r.embeddingDim})`, opts.integer(1))
    .addOption(
      new Option('--attention <mode>', `attention (default ${r.attention})`).choices([
        'dot',
        'general',
        'concat',
        'additive',
      ]),
    )
    .action(run);
}

/** Trains and evaluates; returns the files to write and the report. */
export async function trainG2p(flags: G2pFlags, io: Io) {
  const base = G2P_RECIPE;
  const recipe: G2pRecipe = {
    ...base,
    cell: flags.cell ?? base.cell,
    epochs: flags.epochs ?? base.epochs,
    beam: flags.beam ?? base.beam,
    batchSize: flags.batchSize ?? base.batchSize,
    lr: flags.lr ?? base.lr,
    decayAfter: flags.decayAfter ?? base.decayAfter,
    decay: flags.decay ?? base.decay,
    hiddenSize: flags.hidden ?? base.hiddenSize,
    embeddingDim: flags.embeddingDim ?? base.embeddingDim,
    attention: flags.attention ?? base.attention,
  };
  await setBackend(flags.backend);
  const threads = await setKernelThreads(flags.threads);
  const say = (s: string) => (flags.json ? io.err(`${s}\n`) : io.out(`${s}\n`));
  let bar: cliProgress.SingleBar | null = null;
  const onBatch = (b: BatchInfo) => {
    if (flags.json || !io.progress) return;
    if (b.batch === 0) {
      bar = new cliProgress.SingleBar(
        {
          format: `g2p epoch ${b.epoch + 1}/${recipe.epochs} [{bar}] {value}/{total} batches | loss {loss} | eta {eta_formatted}`,
        },
        cliProgress.Presets.shades_classic,
      );
      bar.start(b.batches, 0, { loss: '-' });
    }
    bar!.update(b.batch + 1, { loss: b.loss.toFixed(4) });
    if (b.batch + 1 === b.batches) {
      bar!.stop();
      bar = null;
    }
  };
  const result = runG2p({
    dict: loadCmudict(),
    recipe,
    seed: flags.seed,
    limit: flags.limit,
    onBatch,
    onEpoch: say,
    referee: flags.referee !== undefined,
    // written before training too, so the PyTorch referee can start at once
    onReferee: (bytes) => writeFileSync(flags.referee!, bytes),
  });
  result.summary.kernelThreads = threads;
  return result;
}

/** Human-readable lines of a G2P summary. */
export function g2pLines(s: Record<string, any>): string[] {
  const f = (x: number) => `${(100 * x).toFixed(2)}%`;
  return [
    `g2p on ${s.backend}: ${s.cell} (bidirectional encoder, ${s.attention} attention), hidden ${s.hiddenSize}, ${s.epochs} epochs, ${s.trainWords} train words (${s.trainPairs} pronunciations) / ${s.valWords} val / ${s.testWords} test, ${s.parameters} parameters`,
    `trained in ${s.trainSeconds} s (${s.pairsPerSecond} pronunciations/s)`,
    `test greedy: WER ${f(s.greedy.wer)}, PER ${f(s.greedy.per)} (${s.greedyWordsPerSecond} words/s)`,
    `test beam ${s.beam}: WER ${f(s.beamSearch.wer)}, PER ${f(s.beamSearch.per)} (${s.beamWordsPerSecond} words/s)`,
    ...s.examples.map(
      (e: any) => `  ${e.word}: ${e.beam}   (reference ${e.references.join(' | ')})`,
    ),
  ];
}

/** `predict` with a G2P model: one word per line -> its pronunciation (beam search). */
export async function predictG2p(
  bytes: Uint8Array,
  lines: AsyncIterable<string>,
  io: Io,
  flags: { beam: number; json?: boolean },
): Promise<void> {
  const p = new Pronouncer(bytes);
  try {
    for await (const line of lines) {
      const word = line.trim();
      if (word === '') continue;
      const [r] = p.pronounce([word], { beam: flags.beam });
      io.out(
        flags.json
          ? `${JSON.stringify({ word, phonemes: r.phonemes.join(' '), score: r.score, hypotheses: r.hypotheses.map((h) => ({ phonemes: h.phonemes.join(' '), score: h.score })) })}\n`
          : `${word}\t${r.phonemes.join(' ')}\n`,
      );
    }
  } finally {
    p.dispose();
  }
}
