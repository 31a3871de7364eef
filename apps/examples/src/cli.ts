// `rnnkit-examples`: the commands (cli-tasks.ts, g2p/cli.ts, cli-predict.ts) and the exit codes.
import { Command, CommanderError } from 'commander';
import { type Io, processIo, UsageError } from './cli-args.js';
import { addModelCommands } from './cli-predict.js';
import { addTaskCommands } from './cli-tasks.js';
import { addG2pCommand } from './g2p/cli.js';

export type { Io } from './cli-args.js';

/** Runs the CLI with `argv` (without node and script); returns the exit code (2 = bad usage). */
export async function main(argv: string[], io: Io = processIo): Promise<number> {
  const program = new Command('rnnkit-examples')
    .description(
      'rnnkit on real text: spam filter, names classifier and name generator (see apps/examples/README.md)',
    )
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err });
  addTaskCommands(program, io);
  addG2pCommand(program, io);
  addModelCommands(program, io);
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
  return 0;
}
