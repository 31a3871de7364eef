// What the CLI tests share (not built: tsconfig.build.json leaves test-utils.ts out).
import { captureIo } from '@rnnkit/vitest-config/helpers';

/** The CLI's io with `lines` as stdin; get() returns what it printed. */
export const capture = (lines: string[] = []) =>
  captureIo({
    lines: async function* () {
      yield* lines;
    },
  });
