/**
 * `rnnkit-bench --browser`: the forward cases in headless Chromium (playwright-core, Debian's
 * /usr/bin/chromium) on a cross-origin isolated page served from here, so that every
 * implementation can use threads: rnnkit vs ONNX Runtime Web (wasm) vs tfjs-layers on
 * tfjs-backend-wasm, each on the same number of threads. The page is browser/page.ts, bundled with
 * esbuild when the bench starts.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { dirname, extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHROMIUM, launch } from '@rnnkit/vitest-config/browser';
import { build } from 'esbuild';
import type { PageConfig, PageRun } from './browser/page.js';
import { type BenchCase, fmtShape, GROUPS } from './cases.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.wasm': 'application/wasm',
};

/** The page's script: browser/page.js (built) or page.ts (sources, under vitest) bundled. */
async function bundle(): Promise<string> {
  const here = dirname(fileURLToPath(import.meta.url));
  const entry = ['page.js', 'page.ts'].map((f) => join(here, 'browser', f)).find(existsSync);
  if (!entry) throw new Error('rnnkit-bench --browser: no browser/page.js; build the bench first');
  const r = await build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    write: false,
    minify: true,
    external: ['/ort/*', 'node:*'],
    logLevel: 'error',
  });
  return r.outputFiles[0]!.text;
}

/** Serves the page and the runtimes' files with the headers of cross-origin isolation. */
function serve(script: string, models: string): Promise<Server> {
  const require = createRequire(import.meta.url);
  const dist = (pkg: string) => dirname(require.resolve(pkg));
  const roots: Record<string, string> = {
    '/tfjs/': dist('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm'),
    '/ort/': dirname(require.resolve('onnxruntime-web')),
    '/models/': models,
  };
  const server = createServer((req, res) => {
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
    const url = (req.url ?? '/').split('?')[0]!;
    if (url === '/') {
      res.setHeader('Content-Type', 'text/html');
      return res.end('<!doctype html><script type="module" src="/page.js"></script>');
    }
    if (url === '/page.js') {
      res.setHeader('Content-Type', 'text/javascript');
      return res.end(script);
    }
    const prefix = Object.keys(roots).find((p) => url.startsWith(p));
    const root = prefix === undefined ? null : roots[prefix]!;
    const file = root === null ? '' : normalize(join(root, url.slice(prefix!.length)));
    if (root === null || !file.startsWith(root) || !existsSync(file)) {
      res.statusCode = 404;
      return res.end();
    }
    res.setHeader('Content-Type', TYPES[extname(file)] ?? 'application/octet-stream');
    res.end(readFileSync(file));
  });
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => ok(server)));
}

/** Runs `cases` (forward ones) in Chromium on `threads` threads; models from export_onnx.py. */
export async function runBrowser(
  cases: BenchCase[],
  opts: { threads: number; budgetMs: number; models: string },
): Promise<PageRun & { browser: string }> {
  const script = await bundle();
  const browser = await launch(); // Chromium with the project's flags (tooling/vitest/browser.mjs)
  let server: Server | undefined;
  try {
    server = await serve(script, opts.models);
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const port = (server.address() as AddressInfo).port;
    await page.goto(`http://127.0.0.1:${port}/?threads=${opts.threads}`);
    await page.waitForFunction(() => 'rnnkitBench' in globalThis, null, { timeout: 60_000 });
    const config: PageConfig = {
      cases: cases.filter((c) => c.mode === 'forward'),
      threads: opts.threads,
      budgetMs: opts.budgetMs,
    };
    const run = (await page.evaluate(
      (c) =>
        (globalThis as unknown as { rnnkitBench(c: unknown): Promise<unknown> }).rnnkitBench(c),
      config as unknown,
    )) as PageRun;
    if (errors.length > 0) throw new Error(`page errors: ${errors.join('; ')}`);
    return { ...run, browser: browser.version() };
  } finally {
    await browser.close();
    server?.close();
  }
}

const CELL = { rnn: 'RNN', lstm: 'LSTM', gru: 'GRU' } as const;

/** The browser run as Markdown: a section of RESULTS.md. */
export function browserMarkdown(
  run: PageRun & { browser: string },
  cases: BenchCase[],
  command: string,
): string {
  const ms = (v: number) => (v >= 100 ? `${v.toFixed(0)} ms` : `${v.toPrecision(3)} ms`);
  const cell = (r: PageRun['results'][number], name: string) => {
    const v = r.impls[name];
    if (!v) return '–';
    if (v.status !== 'ok') return `${v.status}${v.reason ? ` (${v.reason})` : ''}`;
    const s = v.summary!;
    if (v.cold) return `${ms(s.medianMs)} (1 cold run)`;
    return `${ms(s.medianMs)} [${ms(s.minMs)}–${ms(s.maxMs)}] n=${s.reps}${(v.batch ?? 1) > 1 ? `×${v.batch}` : ''}`;
  };
  const ratio = (r: PageRun['results'][number], name: string) => {
    const a = r.impls[name]?.summary?.medianMs;
    const b = r.impls.rnnkit?.summary?.medianMs;
    if (a === undefined || b === undefined) return '';
    const x = a / b;
    return x >= 10 ? `${x.toFixed(0)}×` : `${x.toFixed(2)}×`;
  };
  const lines = [
    '## In the browser',
    '',
    `\`${command}\`: headless Chromium ${run.browser} (${CHROMIUM}), a cross-origin isolated page ` +
      `(crossOriginIsolated: ${run.crossOriginIsolated}); rnnkit on ${run.rnnkitThreads} kernel threads ` +
      `(build: ${run.kernelBuild === 'relaxed' ? 'relaxed SIMD' : run.kernelBuild}), ONNX Runtime Web (wasm) on ` +
      `${run.ortThreads} threads, tfjs-layers on tfjs-backend-wasm (threaded SIMD build: ${run.tfjsMultithread}) asked for ` +
      `${run.ortThreads} threads with \`setThreadsCount\`, reporting ${run.tfjsThreads} (\`getThreadsCount()\`). Same weights ` +
      "and input (the exported models'), outputs checked equal within 1e-4, then interleaved rounds " +
      "(samples of at least 10 ms of calls; a first call over 5 s is reported alone, as 1 cold run); ×X = their median / rnnkit's.",
    '',
    '| case | B,T,I,H | rnnkit | ONNX Runtime Web | ×ORT | tfjs-layers | ×layers |',
    '|---|---|---|---|---:|---|---:|',
  ];
  for (const r of run.results) {
    const c = cases.find((k) => k.id === r.id)!;
    lines.push(
      `| ${CELL[c.cell]} ${GROUPS[c.group].label} | ${fmtShape(c.shape)} | ${cell(r, 'rnnkit')} | ` +
        `${cell(r, 'ort')} | ${ratio(r, 'ort')} | ${cell(r, 'tfjs-layers')} | ${ratio(r, 'tfjs-layers')} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}

const SECTION = '## In the browser';

/** `md` with the browser section of `existing` (a RESULTS.md) kept, or replaced by `section`. */
export function withBrowserSection(md: string, existing: string | null, section?: string): string {
  const cut = (text: string) => {
    const at = text.indexOf(`\n${SECTION}\n`);
    if (at < 0) return { rest: text, section: null };
    const end = text.indexOf('\n## ', at + 1);
    return {
      rest: text.slice(0, at + 1) + (end < 0 ? '' : text.slice(end + 1)),
      section: text.slice(at + 1, end < 0 ? undefined : end + 1),
    };
  };
  const own = cut(md);
  const kept = section ?? own.section ?? (existing ? cut(existing).section : null);
  if (!kept) return md;
  return `${own.rest.trimEnd()}\n\n${kept.trimEnd()}\n`;
}
