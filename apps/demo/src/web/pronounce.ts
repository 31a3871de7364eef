// Panel 7 "Pronounce": the G2P model of @rnnkit/examples (g2p.safetensors, trained on CMUdict):
// word -> ARPAbet and IPA, greedy and beam-search hypotheses with their scores, and the attention
// alignment (letters x phonemes) as a heatmap.
import { arpabetToIpa, Pronouncer, type Pronunciation } from '@rnnkit/examples/browser';
import g2pUrl from '@rnnkit/examples/models/g2p.safetensors?url';
import { getBackend } from '@rnnkit/ops';
import { $, el, type PanelDeps, runner } from './text-models.js';

export const PRONOUNCE_EXAMPLE = 'rnnkit';
const BEAM = 5;

let bytes: Promise<Uint8Array> | null = null;
let loaded: { model: Pronouncer; backend: string } | null = null;

/** The model on the current backend: fetched once, rebuilt when the page's backend changed. */
async function pronouncer(): Promise<{ model: Pronouncer; size: number }> {
  if (!bytes) {
    bytes = fetch(g2pUrl).then(async (r) => {
      if (!r.ok) throw new Error(`g2p model: HTTP ${r.status} for ${r.url}`);
      return new Uint8Array(await r.arrayBuffer());
    });
    bytes.catch(() => {
      bytes = null;
    });
  }
  const b = await bytes;
  if (loaded?.backend !== getBackend()) {
    loaded?.model.dispose();
    loaded = { model: new Pronouncer(b), backend: getBackend() };
  }
  return { model: loaded.model, size: b.length };
}

/** attention [phonemes + eos][letters] as a table: letters across, phonemes down, darker = more weight. */
function renderAlignment(
  box: HTMLElement,
  word: string,
  phonemes: string[],
  attention: number[][],
): void {
  box.textContent = '';
  const table = el('table', 'align');
  const head = el('tr');
  head.append(el('th'));
  for (const c of word.toUpperCase()) head.append(el('th', 'letter', c));
  table.append(head);
  attention.forEach((row, i) => {
    const tr = el('tr');
    tr.append(el('th', 'phoneme', phonemes[i] ?? '</s>'));
    row.forEach((w, j) => {
      const td = el('td', 'align-cell');
      td.dataset.weight = w.toFixed(4);
      td.style.background = `rgb(33 102 172 / ${w.toFixed(3)})`;
      td.title = `${phonemes[i] ?? '</s>'} ← ${word[j]}: ${w.toFixed(3)}`;
      tr.append(td);
    });
    table.append(tr);
  });
  box.append(table);
}

function hypothesisList(list: HTMLElement, r: Pronunciation): void {
  list.textContent = '';
  r.hypotheses.forEach((h) => {
    const li = el('li');
    li.append(
      el('code', 'arpabet', h.phonemes.join(' ')),
      el('span', 'ipa', ` /${arpabetToIpa(h.phonemes)}/ `),
      el('span', 'score', `score ${h.score.toFixed(3)} (log-prob ${h.logProb.toFixed(3)})`),
    );
    list.append(li);
  });
}

export function initPronounce(deps: PanelDeps): Promise<void> {
  const panel = $('pronounce');
  const input = $<HTMLInputElement>('pronounce-word');
  const button = $<HTMLButtonElement>('run-pronounce');
  input.value = PRONOUNCE_EXAMPLE;

  const run = runner(deps, async () => {
    const word = input.value.trim();
    if (!/^[A-Za-z'.-]+$/.test(word)) {
      throw new RangeError(
        `Pronounce: expected a word of letters, apostrophes, periods or hyphens, got "${input.value}"`,
      );
    }
    panel.dataset.state = 'running';
    const t0 = performance.now();
    const { model, size } = await pronouncer();
    const [greedy] = model.pronounce([word], { beam: 1, attention: true });
    const [beam] = model.pronounce([word], { beam: BEAM });
    const ms = performance.now() - t0;
    $('pronounce-arpabet').textContent = beam.phonemes.join(' ');
    $('pronounce-ipa').textContent = `/${arpabetToIpa(beam.phonemes)}/`;
    hypothesisList($('pronounce-greedy'), greedy);
    hypothesisList($('pronounce-beam'), beam);
    renderAlignment($('pronounce-align'), word, greedy.phonemes, greedy.attention ?? []);
    $('pronounce-meta').textContent =
      `g2p.safetensors (${(size / 1e6).toFixed(2)} MB, ${model.config.cell.toUpperCase()} encoder-decoder with ${model.config.attention} attention) on the ${getBackend()} backend: greedy and beam ${BEAM} in ${ms.toFixed(0)} ms. The heatmap is the greedy decoder's attention: one row per phoneme, one column per letter.`;
    Object.assign(panel.dataset, {
      state: 'rendered',
      word,
      arpabet: beam.phonemes.join(' '),
      greedy: greedy.phonemes.join(' '),
      hypotheses: String(beam.hypotheses.length),
      backend: getBackend(),
    });
  });

  button.addEventListener('click', () => void run.now());
  input.addEventListener('input', run.soon);
  return run.now();
}
