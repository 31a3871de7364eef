// What every command of the CLI shares: its input/output, its errors and its argument parsers.
import { createInterface } from 'node:readline';
import { BACKENDS } from '@rnnkit/ops';
import { InvalidArgumentError, Option } from 'commander';

export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** Lines of standard input (for predict). */
  lines?(): AsyncIterable<string>;
  /** Whether to draw a progress bar (stderr is a terminal). */
  progress?: boolean;
}

export const processIo: Io = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  lines: () => createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY }),
  progress: process.stderr.isTTY === true,
};

/** A bad command line: reported on stderr, exit code 2. */
export class UsageError extends Error {}

/** Parses an integer >= min. */
export function integer(min: number) {
  return (value: string): number => {
    if (!/^\d+$/.test(value.trim()) || Number(value) < min) {
      throw new InvalidArgumentError(`expected an integer >= ${min}, got "${value}"`);
    }
    return Number(value);
  };
}

export function positive(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) {
    throw new InvalidArgumentError(`expected a positive number, got "${value}"`);
  }
  return n;
}

export function nonNegative(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) {
    throw new InvalidArgumentError(`expected a number >= 0, got "${value}"`);
  }
  return n;
}

/** --backend <name>, a tfjs backend. @default 'wasm' */
export const backendOption = () =>
  new Option('--backend <name>', 'tfjs backend').choices([...BACKENDS]).default('wasm');
