// Serving a built page and opening it in Debian's Chromium (playwright-core) for the recipe tests.
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize, resolve } from 'node:path';
import { chromium } from 'playwright-core';

/** The headers that make a page cross-origin isolated (SharedArrayBuffer, wasm threads). */
export const ISOLATION = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
};
const TYPES = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.wasm': 'application/wasm',
};

/** Serves the files under `root` on 127.0.0.1, with ISOLATION headers when `isolate`; { url, close }. */
export async function serveStatic(root, isolate) {
  const base = resolve(root);
  const headers = isolate ? ISOLATION : {};
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const file = normalize(join(base, path === '/' ? 'index.html' : path));
    if (!file.startsWith(base) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, headers).end('not found');
      return;
    }
    const type = TYPES[extname(file)] ?? 'application/octet-stream';
    res.writeHead(200, { ...headers, 'content-type': type, 'cache-control': 'no-store' });
    createReadStream(file).pipe(res);
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  return {
    url: `http://127.0.0.1:${server.address().port}/`,
    close: () =>
      new Promise((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}

/** Which tfjs-backend-wasm binary a (possibly hashed) file name is: 'threaded-simd', 'simd' or 'plain'. */
function wasmKind(name) {
  if (!name.startsWith('tfjs-backend-wasm')) return name;
  return name.includes('threaded-simd')
    ? 'threaded-simd'
    : name.includes('simd')
      ? 'simd'
      : 'plain';
}

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Launches headless Chromium with the project's flags. */
export function launch() {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/**
 * Opens `url` in a new page and waits (at most `timeout` ms) for body[data-done]; resolves to
 * window.result (null when the page never finished), the errors seen (console, page, HTTP) and
 * which tfjs-backend-wasm binaries the page fetched ('threaded-simd', 'simd', 'plain').
 */
export async function runPage(browser, url, timeout = 60_000) {
  const page = await browser.newPage();
  const errors = [];
  const wasmFiles = [];
  page.on('request', (r) => {
    const url = new URL(r.url());
    const name = url.pathname.split('/').at(-1);
    // (Vite's dev server also serves `x.wasm?url` imports: JavaScript, not the binary)
    if (name.endsWith('.wasm') && !url.search) wasmFiles.push(wasmKind(name));
  });
  page.on('requestfailed', (r) => errors.push(`requestfailed: ${r.url()}`));
  page.on('response', (r) => {
    if (r.status() >= 400) errors.push(`http ${r.status()}: ${r.url()}`);
  });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  try {
    await page.goto(url);
    const done = await page
      .waitForSelector('body[data-done=true]', { timeout })
      .then(() => true)
      .catch(() => false);
    const result = done ? await page.evaluate(() => globalThis.result) : null;
    return { result, errors, wasmFiles };
  } finally {
    await page.close();
  }
}
