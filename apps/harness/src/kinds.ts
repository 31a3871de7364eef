import * as cell from '@rnnkit/cell';
import { adapters } from '@rnnkit/golden';
import * as heads from '@rnnkit/heads';
import * as ops from '@rnnkit/ops';
import * as rnn from '@rnnkit/rnn';

/**
 * rnnkit's public API by name, as tooling/golden's checks call it: every fixture runs through the
 * exports a user imports.
 */
export const API: Record<string, unknown> = { ...ops, ...cell, ...rnn, ...heads };

/** How each module fixture kind is built and called through that API (tooling/golden/parity.mjs). */
export const KINDS = adapters(API);
