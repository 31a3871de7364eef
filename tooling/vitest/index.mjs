// One vitest config for every package: sources of @rnnkit/* are used directly
// (no stale dist), and every test file runs once per backend (projects "cpu" and "wasm").
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const root = fileURLToPath(new URL('../..', import.meta.url));
export const BACKENDS = ['cpu', 'wasm'];

/** @param {{ backends?: string[], timeout?: number }} [opts] */
export function rnnkitConfig(opts = {}) {
  const backends = opts.backends ?? BACKENDS;
  return defineConfig({
    resolve: {
      alias: [
        {
          find: /^@rnnkit\/(ops|cell|rnn|heads)\/internal$/,
          replacement: `${root}packages/$1/src/internal.ts`,
        },
        {
          find: /^@rnnkit\/(ops|cell|rnn|heads)$/,
          replacement: `${root}packages/$1/src/index.ts`,
        },
      ],
    },
    test: {
      testTimeout: opts.timeout ?? 30_000,
      projects: backends.map((backend) => ({
        extends: true,
        test: {
          name: backend,
          env: { RNNKIT_BACKEND: backend },
          setupFiles: [fileURLToPath(new URL('./setup.mjs', import.meta.url))],
        },
      })),
    },
  });
}
