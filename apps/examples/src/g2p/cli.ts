// The `g2p` command and G2P predictions for `predict`.
import { writeFileSync } from 'node:fs';
import { type Command, Option } from 'commander';
import { type Io, integer, positive } from '../cli-args.js';
import {
  addTrainingOptions,
  finishTraining,
  startTraining,
  type TrainingFlags,
  withFlags,
} from '../cli-training.js';
import { loadCmudict } from './load.js';
import { Pronouncer } from './model.js';
import { G2P_RECIPE, type G2pRecipe, runG2p } from './run.js';

interface G2pFlags extends TrainingFlags {
  beam?: number;
  decayAfter?: number;
  decay?: number;
  attention?: G2pRecipe['attention'];
}

/** Adds `g2p` to the program. */
export function addG2pCommand(program: Command, io: Io): void {
  const r = G2P_RECIPE;
  const cmd = program
    .command('g2p')
    .description(
      'grapheme-to-phoneme on CMUdict: characters -> bidirectional encoder -> attention decoder -> ARPAbet; WER/PER greedy and beam search',
    );
  addTrainingOptions(cmd, r, { unit: 'words', seeds: 'the initial weights and shuffling' })
    .option('--beam <n>', `beam size of the beam-search evaluation (default ${r.beam})`, integer(1))
    .option(
      '--decay-after <n>',
      `epochs at the full learning rate (default ${r.decayAfter})`,
      integer(0),
    )
    .option(
      '--decay <x>',
      `learning-rate factor per epoch after those (default ${r.decay})`,
      positive,
    )
    .addOption(
      new Option('--attention <mode>', `attention (default ${r.attention})`).choices([
        'dot',
        'general',
        'concat',
        'additive',
      ]),
    )
    .action((flags: G2pFlags) => trainG2p(flags, io));
}

/** Trains and evaluates, writes the files asked for and prints the report. */
async function trainG2p(flags: G2pFlags, io: Io): Promise<void> {
  const base = G2P_RECIPE;
  const recipe: G2pRecipe = {
    ...withFlags(base, flags),
    beam: flags.beam ?? base.beam,
    decayAfter: flags.decayAfter ?? base.decayAfter,
    decay: flags.decay ?? base.decay,
    attention: flags.attention ?? base.attention,
  };
  const { threads, hooks } = await startTraining(flags, io, 'g2p', recipe.epochs);
  const result = runG2p({
    ...hooks,
    dict: loadCmudict(),
    recipe,
    // written before training too, so the PyTorch referee can start at once
    onReferee: (bytes) => writeFileSync(flags.referee!, bytes),
  });
  result.summary.kernelThreads = threads;
  finishTraining(flags, io, result, g2pLines);
}

/** Human-readable lines of a G2P summary. */
function g2pLines(s: Record<string, any>): string[] {
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
