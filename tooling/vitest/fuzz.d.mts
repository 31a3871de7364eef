import type { Tensor } from '@tensorflow/tfjs-core';
import type fc from 'fast-check';

/** A mutation any binary file takes. */
export type ByteMutation =
  | { kind: 'byte'; pos: number; value: number }
  | { kind: 'truncate'; pos: number }
  | { kind: 'delete'; pos: number; n: number }
  | { kind: 'insert'; pos: number; bytes: Uint8Array };

/** Mutations any binary file takes: one byte set, a truncation, up to 8 bytes deleted or inserted. */
export declare const byteMutations: fc.Arbitrary<ByteMutation>[];
/** Applies a mutation of byteMutations to a copy of `bytes`. */
export declare function applyByteMutation(bytes: Uint8Array, m: ByteMutation): Uint8Array;
/** Loads mutants of `files`: each loads or is rejected as `rejects` says (see fuzz.mjs). */
export declare function fuzzLoader<M>(opts: {
  files: Uint8Array[];
  mutation: fc.Arbitrary<M>;
  apply: (bytes: Uint8Array, m: M) => Uint8Array;
  load: (bytes: Uint8Array) => Record<string, Tensor>;
  rejects: (e: unknown) => boolean;
  prefix: RegExp;
  numRuns: number;
  kindLength: number;
}): { loaded: number; rejected: Set<string> };
