// Panels 5 and 6: the trained models of @rnnkit/examples (name generator, names classifier, spam
// filter), loaded from safetensors files that Vite copies into the built site (same origin).
import {
  type ClassifierHandle,
  type GeneratorHandle,
  loadModel,
  type ModelHandle,
  type Prediction,
  tokensFor,
} from '@rnnkit/examples/browser';
import namegenUrl from '@rnnkit/examples/models/namegen.safetensors?url';
import namesUrl from '@rnnkit/examples/models/names.safetensors?url';
import spamUrl from '@rnnkit/examples/models/spam.safetensors?url';
import { getBackend } from '@rnnkit/ops';

type ModelName = 'namegen' | 'names' | 'spam';
const URLS: Record<ModelName, string> = { namegen: namegenUrl, names: namesUrl, spam: spamUrl };

export const SPAM_EXAMPLE =
  'Subject: You have been selected!\n\n' +
  'Congratulations! You have won a FREE $1000 gift card. Click here now to claim your prize, ' +
  'limited time offer, 100% guaranteed. Act now, no credit card required!';

export const HAM_EXAMPLE =
  'Hi Tom,\n\nare we still on for lunch tomorrow? I attached the notes from Monday’s project ' +
  'meeting; could you look at the second section before we talk to the team?\n\nCheers,\nAnna';

export interface PanelDeps {
  /** Resolves when the page's backend switch (if any) has finished. */
  backendReady(): Promise<void>;
  showError(e: unknown): void;
  clearError(): void;
}

// ---------------------------------------------------------------- model files

const bytesCache = new Map<ModelName, Promise<Uint8Array>>();
const loaded = new Map<ModelName, { handle: ModelHandle; backend: string }>();

function modelBytes(name: ModelName): Promise<Uint8Array> {
  let p = bytesCache.get(name);
  if (!p) {
    p = fetch(URLS[name]).then(async (r) => {
      if (!r.ok) throw new Error(`${name} model: HTTP ${r.status} for ${r.url}`);
      return new Uint8Array(await r.arrayBuffer());
    });
    p.catch(() => bytesCache.delete(name));
    bytesCache.set(name, p);
  }
  return p;
}

/** The model on the current backend: fetched once, rebuilt when the page's backend changed. */
async function model(name: ModelName): Promise<ModelHandle> {
  const bytes = await modelBytes(name);
  const backend = getBackend();
  const cur = loaded.get(name);
  if (cur?.backend === backend) return cur.handle;
  cur?.handle.dispose();
  const handle = loadModel(bytes);
  loaded.set(name, { handle, backend });
  return handle;
}

async function generator(): Promise<GeneratorHandle> {
  const m = await model('namegen');
  if (m.kind !== 'generator') throw new TypeError('namegen.safetensors is not a generator');
  return m;
}

async function classifier(name: 'names' | 'spam'): Promise<ClassifierHandle> {
  const m = await model(name);
  if (m.kind !== 'classifier') throw new TypeError(`${name}.safetensors is not a classifier`);
  return m;
}

// ---------------------------------------------------------------- helpers

export const $ = <T extends HTMLElement = HTMLElement>(id: string) =>
  document.getElementById(id) as T;

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className?: string,
  text?: string,
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

function readNumber(input: HTMLInputElement, name: string, integer: boolean): number {
  const n = Number(input.value);
  const min = Number(input.min);
  const max = Number(input.max);
  if (
    input.value.trim() === '' ||
    !Number.isFinite(n) ||
    n < min ||
    n > max ||
    (integer && !Number.isInteger(n))
  ) {
    input.setAttribute('aria-invalid', 'true');
    throw new RangeError(
      `${name}: expected ${integer ? 'a whole number' : 'a number'} from ${min} to ${max}, got "${input.value}"`,
    );
  }
  input.removeAttribute('aria-invalid');
  return n;
}

/**
 * Runs `fn` now (button) or shortly after the last keystroke (typing); a run that started while an
 * older one was pending replaces it, and errors go to the page's error line.
 */
export function runner(
  deps: PanelDeps,
  fn: () => Promise<void>,
): { now(): Promise<void>; soon(): void } {
  let timer = 0;
  let chain = Promise.resolve();
  const now = () => {
    clearTimeout(timer);
    chain = chain.then(async () => {
      deps.clearError();
      try {
        await deps.backendReady();
        await fn();
      } catch (e) {
        deps.showError(e);
        // a RangeError is a bad setting, shown on the page; anything else is a bug worth a trace
        if (!(e instanceof RangeError)) console.error(e);
      }
    });
    return chain;
  };
  return {
    now,
    soon: () => {
      clearTimeout(timer);
      timer = window.setTimeout(() => void now(), 250);
    },
  };
}

const pct = (p: number) =>
  p >= 0.9995
    ? '>99.9%'
    : p < 0.0005
      ? '<0.1%'
      : `${(p * 100).toFixed(p > 0.1 && p < 0.9 ? 0 : 1)}%`;

// ---------------------------------------------------------------- 5. name generator

export function initNameGenerator(deps: PanelDeps): Promise<void> {
  const panel = $('namegen');
  const prefix = $<HTMLInputElement>('name-prefix');
  const temp = $<HTMLInputElement>('name-temp');
  const seed = $<HTMLInputElement>('name-seed');
  const count = $<HTMLInputElement>('name-count');
  const guess = $<HTMLInputElement>('name-guess');
  const button = $<HTMLButtonElement>('run-namegen');
  const list = $<HTMLOListElement>('names-out');
  const next = $('next-chars');
  const meta = $('namegen-meta');

  const run = runner(deps, async () => {
    const p = prefix.value.trim().toLowerCase();
    const temperature = readNumber(temp, 'Temperature', false);
    const s = readNumber(seed, 'Seed', true);
    const n = readNumber(count, 'Count', true);
    panel.dataset.state = 'running';
    const t0 = performance.now();
    const gen = await generator();
    // characters the model never saw are read as <unk>: say so instead of looking confident
    const known = new Set(gen.info.vocab);
    const unknown = [...new Set(tokensFor(gen.info, p))].filter((c) => !known.has(c));
    const names = gen.complete(p, n, { temperature, seed: s, maxLength: 20 });
    const nextChars = gen.nextChars(p).slice(0, 8);
    const sexes = guess.checked ? await classifier('names') : null;
    const ms = performance.now() - t0;

    list.textContent = '';
    for (const name of names) {
      const li = el('li');
      li.dataset.name = name;
      const word = el('span', 'name');
      const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
      word.append(el('b', undefined, cap(name.slice(0, p.length))), name.slice(p.length));
      if (p.length === 0) word.textContent = cap(name);
      li.append(word);
      if (sexes) {
        const pred = sexes.predict(name);
        li.dataset.sex = pred.label;
        li.dataset.probability = pred.probability.toFixed(4);
        li.append(el('span', `sex sex-${pred.label}`, `${pred.label} ${pct(pred.probability)}`));
      }
      list.append(li);
    }
    next.textContent = '';
    next.append(`Next letter after "${p}": `);
    for (const c of nextChars) {
      const chip = el(
        'span',
        'next-char',
        `${c.char === '</s>' ? 'end' : c.char} ${pct(c.probability)}`,
      );
      chip.style.setProperty('--p', String(c.probability));
      next.append(chip);
    }
    const oov = unknown.length
      ? `The model never saw ${unknown.map((c) => JSON.stringify(c)).join(', ')} in a name (it knows ${gen.info.vocab
          .filter((t) => !t.startsWith('<'))
          .sort()
          .join(
            '',
          )}): it reads ${unknown.length === 1 ? 'it' : 'them'} as <unk>, so these names and probabilities are guesses. `
      : '';
    meta.textContent = `${oov}${names.length} names from namegen.safetensors on the ${getBackend()} backend in ${ms.toFixed(0)} ms (temperature ${temperature}, seed ${s}${temperature === 0 ? ': temperature 0 always picks the most likely letter' : ''}).`;
    Object.assign(panel.dataset, {
      state: 'rendered',
      prefix: p,
      unknown: unknown.join(''),
      temperature: String(temperature),
      seed: String(s),
      count: String(names.length),
      backend: getBackend(),
    });
  });

  button.addEventListener('click', () => void run.now());
  for (const input of [prefix, temp, seed, count]) input.addEventListener('input', run.soon);
  guess.addEventListener('change', () => void run.now());
  prefix.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') void run.now();
  });
  return run.now();
}

// ---------------------------------------------------------------- 6. spam filter

/** Diverging colour of a token weight w in [-scale, scale]: blue (ham) - white - red (spam). */
function heatColour(w: number, scale: number): string {
  const a = Math.min(1, Math.abs(w) / (scale || 1));
  return w >= 0
    ? `rgb(228 87 86 / ${(a * 0.85).toFixed(3)})`
    : `rgb(76 120 168 / ${(a * 0.85).toFixed(3)})`;
}

/**
 * Places the model's tokens on the text as typed: tokens are lower-cased runs of the text, in order,
 * so each is found from where the previous one ended. Null if one is not found (e.g. a raw message
 * whose subject is read before its headers): then the panel shows the tokens alone.
 */
function locateTokens(text: string, tokens: string[]): Array<[number, number]> | null {
  const lower = text.toLowerCase();
  if (lower.length !== text.length) return null;
  const spans: Array<[number, number]> = [];
  let at = 0;
  for (const t of tokens) {
    const i = lower.indexOf(t, at);
    if (i < 0) return null;
    spans.push([i, i + t.length]);
    at = i + t.length;
  }
  return spans;
}

function renderHeat(box: HTMLElement, text: string, pred: Prediction): void {
  box.textContent = '';
  const scale = Math.max(...pred.tokenWeights.map(Math.abs));
  const token = (i: number, label: string) => {
    const w = pred.tokenWeights[i];
    const span = el('span', 'tok', label);
    span.dataset.weight = w.toFixed(4);
    span.dataset.token = pred.tokens[i];
    span.style.background = heatColour(w, scale);
    span.title = `"${pred.tokens[i]}": ${w >= 0 ? '+' : ''}${w.toFixed(3)} towards ${w >= 0 ? 'spam' : 'ham'}`;
    return span;
  };
  const spans = locateTokens(text, pred.tokens);
  if (!spans) {
    pred.tokens.forEach((t, i) => {
      box.append(token(i, t), ' ');
    });
    box.dataset.mode = 'tokens';
    return;
  }
  let at = 0;
  spans.forEach(([a, b], i) => {
    if (a > at) box.append(text.slice(at, a));
    box.append(token(i, text.slice(a, b)));
    at = b;
  });
  if (at < text.length) box.append(el('span', 'unread', text.slice(at)));
  box.dataset.mode = 'text';
}

export function initSpamFilter(deps: PanelDeps): Promise<void> {
  const panel = $('spam');
  const input = $<HTMLTextAreaElement>('spam-text');
  const button = $<HTMLButtonElement>('run-spam');
  const bar = $('spam-bar');
  const verdict = $('spam-verdict');
  const heat = $('spam-heat');
  const meta = $('spam-meta');
  input.value = SPAM_EXAMPLE;

  const run = runner(deps, async () => {
    const text = input.value;
    panel.dataset.state = 'running';
    const t0 = performance.now();
    const spam = await classifier('spam');
    if (tokensFor(spam.info, text).length === 0) {
      // nothing to read: the model would only see <unk> and answer from its bias
      bar.style.left = '50%';
      verdict.textContent = 'No words to score: type or paste an email.';
      heat.textContent = '';
      meta.textContent = '';
      Object.assign(panel.dataset, {
        state: 'rendered',
        probability: '',
        label: 'none',
        tokens: '0',
        chars: String(text.length),
        backend: getBackend(),
      });
      return;
    }
    const pred = spam.predict(text);
    const ms = performance.now() - t0;
    const pSpam = pred.probabilities[spam.labels.indexOf('spam')];
    bar.style.left = `${(pSpam * 100).toFixed(1)}%`;
    verdict.textContent = `${pSpam >= 0.5 ? 'Spam' : 'Not spam (ham)'}: spam probability ${pct(pSpam)}`;
    renderHeat(heat, text, pred);
    const margin = pred.tokenWeights.reduce((a, b) => a + b, 0) + pred.biasWeight;
    meta.textContent = `${pred.tokens.length} tokens read (at most ${spam.info.maxTokens}) by spam.safetensors on the ${getBackend()} backend in ${ms.toFixed(0)} ms; logit margin spam − ham = ${margin.toFixed(2)} (tokens ${(margin - pred.biasWeight).toFixed(2)}, bias ${pred.biasWeight.toFixed(2)}).`;
    Object.assign(panel.dataset, {
      state: 'rendered',
      probability: pSpam.toFixed(6),
      label: pred.label,
      tokens: String(pred.tokens.length),
      chars: String(text.length),
      backend: getBackend(),
    });
  });

  button.addEventListener('click', () => void run.now());
  input.addEventListener('input', run.soon);
  for (const [id, example] of [
    ['spam-example-spam', SPAM_EXAMPLE],
    ['spam-example-ham', HAM_EXAMPLE],
  ] as const) {
    $(id).addEventListener('click', () => {
      input.value = example;
      void run.now();
    });
  }
  return run.now();
}
