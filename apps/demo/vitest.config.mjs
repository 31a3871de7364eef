import { rnnkitConfig } from '@rnnkit/vitest-config';

// Two projects: "cpu" runs the engine and CLI tests (sources of @rnnkit/* via the shared config;
// the training tests switch to wasm themselves, it is ~4x faster), "e2e" builds nothing: it serves
// the page that `pnpm build` put in dist/web and drives it in Chromium.
const config = rnnkitConfig({ backends: ['cpu'], timeout: 120_000 });
config.test.projects[0].test.include = ['src/**/*.test.ts'];
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
