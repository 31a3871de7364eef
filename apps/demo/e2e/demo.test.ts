// End to end: the built page (dist/web, from `pnpm build`) served on localhost and driven in
// Debian's Chromium through playwright-core, as a person would use it.
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launch, serveStatic } from '@rnnkit/vitest-config/browser';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ThreadCheck } from '../src/web/thread-check.js';

const web = fileURLToPath(new URL('../dist/web', import.meta.url));
// Every run writes test-results/demo.png (git-ignored); the committed screenshots/demo.png (shown
// in the README) is written when missing or with UPDATE_SCREENSHOT=1 (`pnpm screenshot`), so a
// test run does not dirty the work tree.
const committedShot = fileURLToPath(new URL('../screenshots/demo.png', import.meta.url));
const runShot = fileURLToPath(new URL('../test-results/demo.png', import.meta.url));

let browser: Browser;
let page: Page;
let server: Awaited<ReturnType<typeof serveStatic>>;
const pageErrors: string[] = [];
/** Every URL the page requested (the models included): all must be on the page's own origin. */
const requests: string[] = [];
/** The response headers of the page itself. */
let documentHeaders: Record<string, string> = {};

/** What the page puts on window for tests (src/web/main.ts, src/web/kernel.ts). */
interface DemoWindow {
  rnnkitDemo: {
    threadCheck(): Promise<ThreadCheck>;
    kernelThreads(): number;
  };
}

/** The attributes the training panel publishes: data-loss-<cell>, data-first-loss-<cell>, ... */
async function trainState(): Promise<Record<string, string>> {
  return page.$eval('#train', (el) =>
    Object.fromEntries(Array.from(el.attributes, (a) => [a.name, a.value])),
  );
}

describe('demo page in Chromium', () => {
  beforeAll(async () => {
    if (!existsSync(`${web}/index.html`)) {
      throw new Error(`${web}/index.html is missing: run \`pnpm build\` in apps/demo first`);
    }
    server = await serveStatic(web);
    browser = await launch();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('request', (r) => requests.push(r.url()));
    page.on('console', (m) => {
      if (m.type() === 'error') pageErrors.push(m.text());
    });
    const response = await page.goto(server.url);
    documentHeaders = response?.headers() ?? {};
    // On load the page runs the tutorial example and the gradient flow on cpu.
    await page.waitForSelector('body[data-ready=true]', { timeout: 60_000 });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('is cross-origin isolated and shows the kernel threads', async () => {
    expect(documentHeaders['cross-origin-opener-policy']).toBe('same-origin');
    expect(documentHeaders['cross-origin-embedder-policy']).toBe('require-corp');
    const env = await page.evaluate(() => ({
      isolated: crossOriginIsolated,
      sharedArrayBuffer: typeof SharedArrayBuffer === 'function',
      cores: navigator.hardwareConcurrency,
    }));
    expect(env.isolated).toBe(true);
    expect(env.sharedArrayBuffer).toBe(true);
    const status = page.locator('#kernel-status');
    const text = (await status.textContent())?.trim() ?? '';
    const threads = Number(await status.getAttribute('data-threads'));
    expect(await status.getAttribute('data-kernel')).toBe('wasm');
    expect(await status.getAttribute('data-isolated')).toBe('true');
    expect(text).toBe(`kernel: WebAssembly SIMD, ${threads} thread${threads === 1 ? '' : 's'}`);
    // As many threads as cores, at most 4 (setKernelThreads' default).
    expect(threads).toBe(Math.min(env.cores, 4));
    if (env.cores >= 2) expect(threads).toBeGreaterThanOrEqual(2);
    console.log(`e2e kernel: "${text}" (hardwareConcurrency ${env.cores})`);
  });

  it('a forward split across the kernel threads equals the one-thread forward bit for bit', async () => {
    const r = await page.evaluate(() => (window as unknown as DemoWindow).rnnkitDemo.threadCheck());
    const { batch: B, steps: T, hiddenSize: H } = r.shape;
    // Large enough to be split: batch >= 8 and T*B*4H*H >= 2^22 multiply-adds.
    expect(B).toBeGreaterThanOrEqual(8);
    expect(T * B * 4 * H * H).toBeGreaterThanOrEqual(2 ** 23);
    const cores = await page.evaluate(() => navigator.hardwareConcurrency);
    if (cores >= 2) expect(r.threads).toBeGreaterThanOrEqual(2);
    expect(r.singleThreads).toBe(1);
    // output [B, T, H] + h_n [1, B, H] + c_n [1, B, H]
    expect(r.values).toBe(B * T * H + 2 * B * H);
    expect(r.maxAbsDiff).toBe(0);
    // Back to the default afterwards.
    expect(
      await page.evaluate(() => (window as unknown as DemoWindow).rnnkitDemo.kernelThreads()),
    ).toBe(r.threads);
    console.log(
      `e2e LSTM forward B ${B}, T ${T}, I ${r.shape.inputSize}, H ${H}: ${r.threads} threads ` +
        `${r.msThreads.toFixed(1)} ms, 1 thread ${r.msSingle.toFixed(1)} ms, max |diff| ${r.maxAbsDiff}`,
    );
  });

  it('switches to wasm, runs the tutorial example and renders the heatmap', async () => {
    expect(await page.getAttribute('#backend-status', 'data-backend')).toBe('cpu');
    await page.selectOption('#backend', 'wasm');
    await page.waitForSelector('#backend-status[data-backend=wasm]', { timeout: 30_000 });

    await page.selectOption('#cell', 'lstm');
    await page.fill('#hidden-size', '32');
    await page.fill('#seq-len', '10');
    await page.click('#run-example');
    await page.waitForSelector('#heatmap[data-state=rendered][data-backend=wasm][data-cell=lstm]');
    expect(await page.getAttribute('#heatmap', 'data-steps')).toBe('10');
    expect(await page.getAttribute('#heatmap', 'data-units')).toBe('32');
    // The canvas really has colour on it (not blank, not one flat colour).
    const colours = await page.$eval('#heatmap', (c) => {
      const canvas = c as HTMLCanvasElement;
      const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
      const seen = new Set<string>();
      for (let i = 0; i < data.length; i += 4 * 97)
        seen.add(`${data[i]},${data[i + 1]},${data[i + 2]}`);
      return seen.size;
    });
    expect(colours).toBeGreaterThan(20);
    const shapes = await page.$$eval('#shapes tbody tr', (rows) =>
      rows.map((r) => Array.from((r as HTMLTableRowElement).cells, (c) => c.textContent)),
    );
    expect(shapes).toEqual(
      expect.arrayContaining([
        ['xt', '[2, 10, 300]'],
        ['output', '[2, 10, 32]'],
        ['h_n', '[1, 2, 32]'],
        ['c_n', '[1, 2, 32]'],
        ['predictions', '[2, 10, 1]'],
      ]),
    );
    expect(await page.$$eval('#predictions tbody tr', (r) => r.length)).toBe(2);
  });

  it('plots the gradient flow of the selected cell, or of every cell to compare, with clipping on', async () => {
    const cell0 = await page.inputValue('#cell');
    await page.selectOption('#cell', 'gru');
    await page.click('#run-gradflow');
    await page.waitForSelector('#gradflow[data-state=rendered][data-cells=gru]');
    expect(Number(await page.getAttribute('#gradflow', 'data-ratio-gru'))).toBeGreaterThan(0);
    expect(await page.getAttribute('#gradflow', 'data-ratio-rnn')).toBeNull();
    await page.selectOption('#cell', cell0);
    await page.check('#gradflow-all');
    await page.check('#clip');
    await page.click('#run-gradflow');
    await page.waitForSelector(
      '#gradflow[data-state=rendered][data-backend=wasm][data-clip="1"][data-cells="rnn,lstm,gru,myrnn"]',
    );
    for (const cell of ['rnn', 'lstm', 'gru', 'myrnn']) {
      const ratio = Number(await page.getAttribute('#gradflow', `data-ratio-${cell}`));
      expect(ratio).toBeGreaterThan(0);
    }
    expect(await page.textContent('#gradflow-note')).toMatch(/Clipping is on/);
    await page.uncheck('#clip');
  });

  it('trains RNN, LSTM and GRU in workers until the loss falls, then stops', async () => {
    await page.fill('#steps', '2000');
    await page.fill('#lr', '0.02');
    await page.click('#train-start');
    await page.waitForSelector('#train[data-state=running]');
    // Wait until a cell is well below the 1/6 of always answering the mean (it learned the task),
    // and every cell's loss has at least halved.
    await page.waitForFunction(
      () => {
        const el = document.getElementById('train')!;
        const cells = ['rnn', 'lstm', 'gru'];
        const loss = (c: string) => Number(el.getAttribute(`data-loss-${c}`) ?? Number.NaN);
        const first = (c: string) => Number(el.getAttribute(`data-first-loss-${c}`) ?? Number.NaN);
        const step = (c: string) => Number(el.getAttribute(`data-step-${c}`) ?? 0);
        return (
          cells.every((c) => step(c) >= 20 && loss(c) < first(c) / 2) &&
          Math.min(...cells.map(loss)) < 0.1
        );
      },
      undefined,
      { timeout: 150_000, polling: 500 },
    );
    // The page stayed responsive while the workers trained: a click is handled at once.
    const t0 = Date.now();
    await page.click('#train-stop');
    await page.waitForSelector('#train[data-state=stopped]', { timeout: 20_000 });
    expect(Date.now() - t0).toBeLessThan(20_000);
    const s = await trainState();
    // Each worker started its own kernel threads (nested workers, isolated as the page is).
    const cores = await page.evaluate(() => navigator.hardwareConcurrency);
    for (const cell of ['rnn', 'lstm', 'gru']) {
      expect(Number(s[`data-kernel-threads-${cell}`])).toBe(Math.min(cores, 4));
      expect(Number(s[`data-step-${cell}`])).toBeLessThan(2000);
      expect(Number(s[`data-final-loss-${cell}`])).toBeLessThan(
        Number(s[`data-first-loss-${cell}`]),
      );
    }
    console.log(
      'e2e final losses (mean of last 20 steps):',
      ['rnn', 'lstm', 'gru']
        .map((c) => `${c} ${s[`data-final-loss-${c}`]} after ${s[`data-step-${c}`]} steps`)
        .join(', '),
      `(kernel threads per worker: ${['rnn', 'lstm', 'gru'].map((c) => s[`data-kernel-threads-${c}`]).join(', ')})`,
    );
  });

  it('renders the harness cases as a passing table', async () => {
    await page.click('#run-harness');
    await page.waitForSelector('#harness[data-state=done]', { timeout: 60_000 });
    const total = Number(await page.getAttribute('#harness', 'data-total'));
    const passed = Number(await page.getAttribute('#harness', 'data-passed'));
    expect(total).toBeGreaterThan(10);
    expect(passed).toBe(total);
    expect(await page.$$eval('#harness-table tr[data-ok=true]', (r) => r.length)).toBe(total);
    expect(await page.textContent('#harness-summary')).toMatch(
      /^PASS: \d+\/\d+ shape checks passed on wasm/,
    );
  });

  it('generates names from a prefix, seeded, with a female/male guess', async () => {
    // On load the panel already ran once on its prefilled prefix.
    await page.waitForSelector('#namegen[data-state=rendered][data-prefix=mar]');
    const names = () =>
      page.$$eval('#names-out li[data-name]', (lis) =>
        lis.map((li) => ({
          name: (li as HTMLElement).dataset.name ?? '',
          sex: (li as HTMLElement).dataset.sex ?? '',
          p: Number((li as HTMLElement).dataset.probability),
        })),
      );
    const generate = async (prefix: string, seed: number) => {
      await page.fill('#name-prefix', prefix);
      await page.fill('#name-temp', '0.8');
      await page.fill('#name-seed', String(seed));
      await page.fill('#name-count', '12');
      await page.click('#run-namegen');
      await page.waitForSelector(
        `#namegen[data-state=rendered][data-prefix=${prefix}][data-seed="${seed}"]`,
      );
      return names();
    };
    const first = await generate('jo', 7);
    expect(first).toHaveLength(12);
    for (const n of first) {
      expect(n.name.startsWith('jo')).toBe(true);
      expect(n.name.length).toBeLessThanOrEqual(20);
      expect(['female', 'male']).toContain(n.sex);
      expect(n.p).toBeGreaterThanOrEqual(0.5);
      expect(n.p).toBeLessThanOrEqual(1);
    }
    // Not just the prefix back: the model adds letters.
    expect(first.some((n) => n.name.length > 2)).toBe(true);
    // The shown names start with the prefix as typed (capitalised), the prefix highlighted.
    expect(await page.textContent('#names-out li:first-child .name b')).toBe('Jo');
    // Same seed, same names; another seed, other names.
    expect(await generate('jo', 7)).toEqual(first);
    const other = await generate('jo', 8);
    expect(other.map((n) => n.name)).not.toEqual(first.map((n) => n.name));
    expect(await page.$$eval('#next-chars .next-char', (c) => c.length)).toBeGreaterThan(0);
    console.log(
      'e2e names for "jo" (seed 7):',
      first.map((n) => `${n.name} (${n.sex})`).join(', '),
    );
  });

  it('scores a spammy and a hammy email and renders the token heat', async () => {
    await page.waitForSelector('#spam[data-state=rendered]');
    const check = async (text: string) => {
      await page.fill('#spam-text', text);
      await page.click('#run-spam');
      await page.waitForSelector(`#spam[data-state=rendered][data-chars="${text.length}"]`);
      const p = Number(await page.getAttribute('#spam', 'data-probability'));
      const tokens = Number(await page.getAttribute('#spam', 'data-tokens'));
      const heat = await page.$$eval('#spam-heat [data-weight]', (spans) =>
        spans.map((s) => ({
          w: Number((s as HTMLElement).dataset.weight),
          bg: getComputedStyle(s).backgroundColor,
        })),
      );
      return { p, tokens, heat, verdict: await page.textContent('#spam-verdict') };
    };
    const spammy = await check(
      'URGENT!!! You have WON $5,000,000 CASH. Claim your FREE prize now, click here: ' +
        'limited offer, 100% free, order today and get rich fast!!!',
    );
    const hammy = await check(
      'Hey Sam, thanks for sending the draft. I left a few comments on the budget section; ' +
        "let's go over them at Thursday's meeting with the team. Best, Priya",
    );
    for (const r of [spammy, hammy]) {
      expect(r.p).toBeGreaterThanOrEqual(0);
      expect(r.p).toBeLessThanOrEqual(1);
      // One coloured element per token the model read, each with a finite weight.
      expect(r.heat.length).toBe(r.tokens);
      expect(r.tokens).toBeGreaterThan(10);
      for (const h of r.heat) expect(Number.isFinite(h.w)).toBe(true);
      expect(r.heat.filter((h) => h.bg !== 'rgba(0, 0, 0, 0)').length).toBeGreaterThan(
        r.tokens / 2,
      );
    }
    expect(spammy.p).toBeGreaterThan(hammy.p);
    expect(spammy.p).toBeGreaterThan(0.5);
    expect(hammy.p).toBeLessThan(0.5);
    expect(spammy.verdict).toMatch(/^Spam/);
    expect(hammy.verdict).toMatch(/^Not spam/);
    // Red (towards spam) dominates the spammy text, blue the hammy one.
    const sum = (r: typeof spammy) => r.heat.reduce((a, h) => a + h.w, 0);
    expect(sum(spammy)).toBeGreaterThan(sum(hammy));
    console.log(`e2e spam probability: spammy ${spammy.p}, hammy ${hammy.p}`);
    // Back to the prefilled example for the screenshot.
    await page.click('#spam-example-spam');
    await page.waitForSelector('#spam[data-state=rendered][data-label=spam]');
  });

  it('pronounces typed words: ARPAbet and IPA, beam and greedy hypotheses, the attention heatmap', async () => {
    await page.waitForSelector('#pronounce[data-state=rendered]');
    for (const word of ['cat', 'pronunciation']) {
      await page.fill('#pronounce-word', word);
      await page.click('#run-pronounce');
      await page.waitForSelector(`#pronounce[data-state=rendered][data-word="${word}"]`);
      const arpabet = (await page.getAttribute('#pronounce', 'data-arpabet')) ?? '';
      expect(arpabet).toMatch(/^[A-Z]+[012]?( [A-Z]+[012]?)*$/);
      expect(await page.textContent('#pronounce-arpabet')).toBe(arpabet);
      const ipa = (await page.textContent('#pronounce-ipa')) ?? '';
      expect(ipa).toMatch(/^\/.+\/$/);
      expect(await page.$$eval('#pronounce-beam li', (li) => li.length)).toBe(5);
      expect(await page.$$eval('#pronounce-greedy li', (li) => li.length)).toBe(1);
      // one heatmap row per greedy phoneme plus the end, one column per letter; rows sum to 1
      const greedy = ((await page.getAttribute('#pronounce', 'data-greedy')) ?? '').split(' ');
      const rows = await page.$$eval('#pronounce-align tr', (trs) =>
        trs
          .slice(1)
          .map((tr) => Array.from(tr.querySelectorAll('td'), (td) => Number(td.dataset.weight))),
      );
      expect(rows.length).toBe(greedy.length + 1);
      for (const r of rows) {
        expect(r.length).toBe(word.length);
        expect(r.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 2);
      }
      console.log(`e2e pronounce ${word}: ${arpabet} ${ipa}`);
    }
    // a bad word gets a clear message on the page's error line and the panel keeps working
    await page.fill('#pronounce-word', 'r2d2');
    await page.click('#run-pronounce');
    await page.waitForFunction(() =>
      /Pronounce: expected a word/.test(document.body.textContent ?? ''),
    );
    // a bad input is shown, not logged as a console error (a RangeError)
    expect(pageErrors.filter((m) => /Pronounce: expected a word/.test(m))).toEqual([]);
    await page.fill('#pronounce-word', 'rnnkit');
    await page.click('#run-pronounce');
    await page.waitForSelector('#pronounce[data-state=rendered][data-word="rnnkit"]');
  });

  it('says when there is nothing to score or a prefix has letters the model never saw', async () => {
    await page.fill('#spam-text', '  \n ');
    await page.click('#run-spam');
    await page.waitForSelector('#spam[data-state=rendered][data-label=none]');
    expect(await page.textContent('#spam-verdict')).toBe(
      'No words to score: type or paste an email.',
    );
    expect(await page.getAttribute('#spam', 'data-probability')).toBe('');
    await page.fill('#name-prefix', 'zq9!');
    await page.click('#run-namegen');
    await page.waitForSelector('#namegen[data-state=rendered][data-prefix="zq9!"]');
    expect(await page.getAttribute('#namegen', 'data-unknown')).toBe('9!');
    expect(await page.textContent('#namegen-meta')).toMatch(
      /^The model never saw "9", "!" in a name .* as <unk>, so these names and probabilities are guesses\./,
    );
    await page.fill('#name-prefix', 'mar');
    await page.click('#run-namegen');
    await page.waitForSelector('#namegen[data-state=rendered][data-prefix=mar][data-unknown=""]');
    // Back to the prefilled example for the screenshot.
    await page.click('#spam-example-spam');
    await page.waitForSelector('#spam[data-state=rendered][data-label=spam]');
  });

  it('shows the rnnkit code it ran; a bad setting is shown on the page, not logged as an error', async () => {
    expect(await page.textContent('#example-code')).toMatch(
      /\/\/ rnnkit: what ran here\n.*forward\(xt/s,
    );
    const before = pageErrors.length;
    await page.fill('#hidden-size', '0');
    await page.click('#run-example');
    await page.waitForSelector('#error:not([hidden])');
    expect(await page.textContent('#error')).toMatch(
      /^Hidden size: expected a whole number from 1/,
    );
    expect(pageErrors.slice(before)).toEqual([]);
    // a good setting clears the message (and leaves the page as the screenshot shows it)
    await page.fill('#hidden-size', '32');
    await page.click('#run-example');
    await page.waitForSelector('#error[hidden]', { state: 'attached' });
  });

  it('fits the harness table on a 390 px wide phone screen', async () => {
    const phone = await browser.newPage({ viewport: { width: 390, height: 844 } });
    try {
      await phone.goto(server.url);
      await phone.waitForSelector('body[data-ready=true]', { timeout: 60_000 });
      await phone.click('#run-harness');
      await phone.waitForSelector('#harness[data-state=done]', { timeout: 60_000 });
      const m = await phone.evaluate(() => ({
        page: document.documentElement.scrollWidth,
        table: document.getElementById('harness-table')!.getBoundingClientRect().right,
        ok: document.querySelector('#harness-table tbody tr td:last-child')!.getBoundingClientRect()
          .right,
      }));
      expect(m.page).toBeLessThanOrEqual(390);
      expect(m.table).toBeLessThanOrEqual(390);
      expect(m.ok).toBeLessThanOrEqual(390);
    } finally {
      await phone.close();
    }
  });

  it('had no page errors, fetched only from its own origin; saves a screenshot', async () => {
    expect(pageErrors).toEqual([]);
    const origin = new URL(server.url).origin;
    const remote = requests.filter((u) => !/^(data|blob):/.test(u) && new URL(u).origin !== origin);
    expect(remote).toEqual([]);
    const models = requests
      .filter((u) => u.endsWith('.safetensors'))
      .map((u) => new URL(u).pathname);
    expect(models).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/\/assets\/namegen-[\w-]+\.safetensors$/),
        expect.stringMatching(/\/assets\/names-[\w-]+\.safetensors$/),
        expect.stringMatching(/\/assets\/spam-[\w-]+\.safetensors$/),
        expect.stringMatching(/\/assets\/g2p-[\w-]+\.safetensors$/),
      ]),
    );
    // Each file is fetched once, however often the panels run.
    expect(models).toHaveLength(4);
    // Isolated, tfjs's wasm backend may pick its threaded binary: which ones were fetched.
    console.log(
      'e2e tfjs wasm binaries fetched:',
      requests
        .filter((u) => u.endsWith('.wasm'))
        .map((u) => new URL(u).pathname.split('/').pop())
        .join(', '),
    );
    await page.evaluate(() => window.scrollTo(0, 0));
    const targets = [runShot];
    if (process.env.UPDATE_SCREENSHOT === '1' || !existsSync(committedShot))
      targets.push(committedShot);
    for (const path of targets) {
      mkdirSync(dirname(path), { recursive: true });
      await page.screenshot({ path, fullPage: true });
      expect(existsSync(path)).toBe(true);
    }
  });
});
