import { rnnkitConfig } from '@rnnkit/vitest-config';

// Three projects: "cpu" and "wasm" run the engine and CLI tests on their backend (sources of
// @rnnkit/* via the shared config; the adding-problem training tests switch to wasm themselves, it is
// ~4x faster), "e2e" builds nothing: it serves the page that `pnpm build` put in dist/web and
// drives it in Chromium.
const config = rnnkitConfig({ timeout: 120_000 });
for (const project of config.test.projects) project.test.include = ['src/**/*.test.ts'];
config.test.projects.push({
  extends: true,
  test: {
    name: 'e2e',
    include: ['e2e/**/*.test.ts'],
    testTimeout: 240_000,
    hookTimeout: 120_000,
  },
});
export default config;
