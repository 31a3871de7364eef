// Running a recipe's page in Chromium (served and launched by @rnnkit/vitest-config/browser).

/** Which tfjs-backend-wasm binary a (possibly hashed) file name is: 'threaded-simd', 'simd' or 'plain'. */
function wasmKind(name) {
  if (!name.startsWith('tfjs-backend-wasm')) return name;
  return name.includes('threaded-simd')
    ? 'threaded-simd'
    : name.includes('simd')
      ? 'simd'
      : 'plain';
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
