// Each bundler recipe's page (built by build.mjs into dist/, or served by Vite's dev server) runs
// in Chromium with and without cross-origin isolation (COOP/COEP): the LSTM forward on wasm must
// match the cpu one, tfjs must never hang, and where tfjs's threaded wasm workers break (minified
// production builds) rnnkit must fall back to one thread with exactly one warning.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ISOLATION, launch, serveStatic } from '@rnnkit/vitest-config/browser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPage } from './chromium.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const RNNKIT_WARNING = /^rnnkit: tfjs-backend-wasm's threaded workers failed/;
let browser;

beforeAll(async () => {
  browser = await launch();
});
afterAll(() => browser?.close());

/** The checks every page must pass; `isolate` says whether it was served with COOP/COEP. */
function expectGood({ result, errors, wasmFiles }, isolate) {
  expect(result, `the page never finished; errors: ${errors.join('\n')}`).not.toBeNull();
  expect(result.error).toBeUndefined();
  expect(result.backend).toBe('wasm');
  expect(result.shapes).toEqual([
    [2, 5, 16],
    [1, 2, 16],
    [1, 2, 16],
  ]);
  expect(result.maxDiff).toBeLessThan(1e-5);
  expect(result.crossOriginIsolated).toBe(isolate);
  const fellBack = result.warnings.filter((w) => RNNKIT_WARNING.test(w));
  expect(fellBack.length).toBeLessThanOrEqual(1);
  if (!isolate || fellBack.length === 0) {
    // no fallback: no error of any kind, and the one binary tfjs picks for the page
    expect(errors).toEqual([]);
    expect(wasmFiles).toEqual([isolate ? 'threaded-simd' : 'simd']);
  } else {
    // fallback: the threaded binary first, then the single-threaded one; only worker errors
    expect(wasmFiles).toEqual(['threaded-simd', 'simd']);
    for (const e of errors) expect(e).toMatch(/ErrorEvent|is not defined/);
  }
  return fellBack.length === 1;
}

function builtWarnings(recipe) {
  return JSON.parse(readFileSync(`${here}dist/${recipe}/warnings.json`, 'utf8'));
}

for (const recipe of ['esbuild', 'webpack', 'vite']) {
  describe(`${recipe} recipe (production build)`, () => {
    it('builds without a warning (no node:* import, no unresolvable dynamic import)', () => {
      expect(existsSync(`${here}dist/${recipe}/index.html`), 'run `pnpm build` first').toBe(true);
      expect(builtWarnings(recipe)).toEqual([]);
    });
    for (const isolate of [false, true]) {
      it(`runs in Chromium ${isolate ? 'with' : 'without'} COOP/COEP`, async () => {
        const server = await serveStatic(`${here}dist/${recipe}`, { isolate });
        try {
          const fellBack = expectGood(await runPage(browser, server.url), isolate);
          // esbuild keeps tfjs's worker source intact, so its threads work
          if (recipe === 'esbuild') expect(fellBack).toBe(false);
        } finally {
          await server.close();
        }
      });
    }
  });
}

describe('vite recipe (dev server)', () => {
  for (const isolate of [false, true]) {
    it(`runs in Chromium ${isolate ? 'with' : 'without'} COOP/COEP, with threads when isolated`, async () => {
      const { createServer } = await import('vite');
      const server = await createServer({
        root: `${here}recipes/vite`,
        logLevel: 'error',
        server: { port: 0, host: '127.0.0.1', headers: isolate ? ISOLATION : {} },
      });
      await server.listen();
      try {
        const url = server.resolvedUrls.local[0];
        const fellBack = expectGood(await runPage(browser, url), isolate);
        expect(fellBack).toBe(false);
      } finally {
        await server.close();
      }
    });
  }
});

describe('bundle size', () => {
  it('an LSTM-inference app ships at most 100 KB gzip of rnnkit + tfjs-core, without the gradients', () => {
    const size = JSON.parse(readFileSync(`${here}dist/size.json`, 'utf8'));
    expect(size.gzip).toBeLessThanOrEqual(100 * 1024);
    expect(size.rnnkitFiles.some((f) => f.includes('/dist/index.js'))).toBe(true);
    expect(size.rnnkitFiles.filter((f) => /gradients|train/.test(f))).toEqual([]);
  });
});
