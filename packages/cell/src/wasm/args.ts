/**
 * The argument blocks of the kernel's exports `sgemm` and `forward` (and `projectAhead`, whose
 * block is a `forward` block): the caller writes one block into the kernel's memory and passes its
 * byte offset, the kernel reads each field at its offset.
 * Every field is one 32-bit word: a size, a flag (0 or 1), or a byte offset into the kernel's
 * memory (0: absent). The lists below are the only statement of the fields and their order:
 * scripts/build-kernel.mjs reads them (each `export const NAME = [...] as const;` of quoted names)
 * and writes the offsets the kernel reads them at into assembly/args.ts (generated).
 */

/** Cell kinds as the kernel numbers them (the position in this list): PyTorch's RNN_TANH, ... */
export const MODES = ['rnn_tanh', 'rnn_relu', 'lstm', 'gru'] as const;

/**
 * sgemm: columns j0 <= j < j1 (j1 = 0: N) of c [M, N] = a [M, K] x packed b (+ bias [N] when not
 * 0); see assembly/recurrence.ts.
 */
export const SGEMM_ARGS = ['M', 'N', 'K', 'a', 'b', 'bias', 'c', 'j0', 'j1'] as const;

/**
 * forward: the recurrence of sequences b0 <= b < b1 over T steps, or of all of them by `parties`
 * threads sharing chunks of every step's columns through `sync` (see assembly/recurrence.ts for
 * what each buffer holds); or of all of them on one thread while others project its input in
 * chunks of `aheadSteps` steps (`ahead`: the whole projection's SGEMM_ARGS block) through `sync`
 * (assembly/ahead.ts). `syncBytes`: the size of `sync`, zeroed before each run.
 */
export const FORWARD_ARGS = [
  'mode',
  'T',
  'B',
  'H',
  'S',
  'G',
  'reverse',
  'batchFirst',
  'b0',
  'b1',
  'x',
  'whhT',
  'bhh',
  'whrT',
  'valid',
  'h',
  'c',
  'out',
  'hp',
  'full',
  'gates',
  'hn',
  'savedStride',
  'hIn',
  'cIn',
  'unitChunk',
  'stateChunk',
  'parties',
  'party',
  'sync',
  'blocking',
  'tile',
  'hNext',
  'ahead',
  'aheadSteps',
  'syncBytes',
] as const;

/**
 * attend: attention of B queries over S keys each (one decoder step; see assembly/attend.ts for
 * what each buffer holds). D: the width of a scored row (the query's Hq; A with `qp`).
 */
export const ATTEND_ARGS = [
  'B',
  'S',
  'D',
  'Hq',
  'Hk',
  'query',
  'qp',
  'v',
  'against',
  'keys',
  'valid',
  'weights',
  'both',
] as const;

/** The values of one block, by field name. */
export type Args<F extends readonly string[]> = Record<F[number], number>;

/** Bytes of a block of `fields`. */
export const argBytes = (fields: readonly string[]): number => fields.length * 4;

/**
 * Writes the block of `fields` at byte offset `at` of `buffer`, each field (as a uint32) from the
 * first of `layers` that has it: e.g. a share's own fields over the call's, with no merged object
 * made (an object spread of a block's 30-odd fields costs more than the kernel's work in a decode
 * step). A field no layer has is a bug: throws.
 */
export function writeArgs<F extends readonly string[]>(
  buffer: ArrayBufferLike,
  at: number,
  fields: F,
  ...layers: Array<Partial<Args<F>>>
): void {
  const words = new Uint32Array(buffer, at, fields.length);
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i] as F[number];
    let v: number | undefined;
    for (let l = 0; l < layers.length && v === undefined; l++) v = layers[l]![f];
    if (v === undefined) throw new Error(`writeArgs: no value for the field ${f}`);
    words[i] = v;
  }
}
