#!/usr/bin/env node
// rnnkit-bench-seq2seq: the sequence-to-sequence bench (see src/seq2seq.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { DEFAULT_PYTHON } from './onnx.js';
import { runSeq2SeqBench, seq2seqMarkdown } from './seq2seq.js';

const program = new Command('rnnkit-bench-seq2seq')
  .description(
    'G2P-size Seq2Seq: decoder step vs plain tfjs and ONNX Runtime Web, training step vs PyTorch, beam search words/s',
  )
  .addOption(
    new Option('--backend <name>', 'tfjs backend').choices(['cpu', 'wasm']).default('wasm'),
  )
  .option(
    '--reps <n>',
    'timed repetitions of the training step (the decoder step is timed as the main bench times its cases)',
    (v) => Number(v),
    10,
  )
  .option('--python <path>', 'Python with torch (export and PyTorch times)', DEFAULT_PYTHON)
  .option('--json', 'one JSON object instead of Markdown')
  .parse();
const o = program.opts();
const dir = mkdtempSync(join(tmpdir(), 'rnnkit-seq2seq-bench-'));
try {
  const r = await runSeq2SeqBench({ backend: o.backend, dir, python: o.python, reps: o.reps });
  process.stdout.write(`${o.json ? JSON.stringify(r) : seq2seqMarkdown(r)}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
