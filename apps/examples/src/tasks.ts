// The three tasks: items, splits, vocabularies and recipes. Browser-safe (raw data is passed in).
import type { Cell } from './models.js';
import { fnv1a, type Split, splitOf } from './split.js';
import { BOS, EMAIL_MAX_TOKENS, EOS, emailTokens, nameChars, Vocab } from './text.js';

export type TaskName = 'spam' | 'names' | 'namegen';
export const TASKS: readonly TaskName[] = ['spam', 'names', 'namegen'];

/** One example: its split key, its tokens and its class (-1 for the language model). */
export interface Item {
  key: string;
  tokens: string[];
  label: number;
}

export const SPAM_LABELS = ['ham', 'spam'] as const;
export const NAME_LABELS = ['female', 'male'] as const;

/** Every hyper-parameter of a run; the PyTorch referee receives the same object. */
export interface Recipe {
  cell: Cell;
  embeddingDim: number;
  hiddenSize: number;
  batchSize: number;
  lr: number;
  epochs: number;
  /** Global gradient-norm clip (clip_grad_norm_). */
  clipNorm: number;
  /** Vocabulary: tokens seen at least this often in the training split. */
  minFreq: number;
  /** spam only: emails are cut to this many tokens. */
  maxTokens: number;
}

export const RECIPES: Record<TaskName, Recipe> = {
  spam: {
    cell: 'gru',
    embeddingDim: 32,
    hiddenSize: 32,
    batchSize: 32,
    lr: 0.002,
    epochs: 3,
    clipNorm: 5,
    minFreq: 3,
    maxTokens: EMAIL_MAX_TOKENS,
  },
  names: {
    cell: 'gru',
    embeddingDim: 32,
    hiddenSize: 64,
    batchSize: 32,
    lr: 0.003,
    epochs: 8,
    clipNorm: 5,
    minFreq: 1,
    maxTokens: 0,
  },
  namegen: {
    cell: 'lstm',
    embeddingDim: 32,
    hiddenSize: 128,
    batchSize: 32,
    lr: 0.003,
    epochs: 10,
    clipNorm: 5,
    minFreq: 1,
    maxTokens: 0,
  },
};

/** Emails: key = MD5 checksum (exact duplicates share a split), label 1 = spam (groups spam-1/2). */
export function spamItems(
  emails: ReadonlyArray<{ group: string; checksum: { value: string }; text: string }>,
  maxTokens = EMAIL_MAX_TOKENS,
): Item[] {
  return emails.map((e) => ({
    key: e.checksum.value,
    tokens: emailTokens(e.text, maxTokens),
    label: e.group.startsWith('spam') ? 1 : 0,
  }));
}

/**
 * Names for the female/male classifier, lower-cased and de-duplicated. A name in both lists
 * (419 of them, e.g. "alexis", "jean") is ambiguous and dropped from every split; they are returned
 * in `ambiguous`. Label 0 = female, 1 = male; key = the lower-cased name.
 */
export function nameItems(
  female: readonly string[],
  male: readonly string[],
): { items: Item[]; ambiguous: string[] } {
  const f = new Set(female.map((n) => n.trim().toLowerCase()));
  const m = new Set(male.map((n) => n.trim().toLowerCase()));
  const ambiguous = [...f].filter((n) => m.has(n)).sort();
  const items: Item[] = [];
  for (const [set, label] of [
    [f, 0],
    [m, 1],
  ] as const) {
    for (const n of [...set].sort()) {
      if (!ambiguous.includes(n)) items.push({ key: n, tokens: nameChars(n), label });
    }
  }
  return { items, ambiguous };
}

/** Every distinct lower-cased name of both lists (ambiguous ones too), as <s> c h a r s </s>. */
export function namegenItems(female: readonly string[], male: readonly string[]): Item[] {
  const all = new Set([...female, ...male].map((n) => n.trim().toLowerCase()));
  return [...all].sort().map((n) => ({ key: n, tokens: [BOS, ...nameChars(n), EOS], label: -1 }));
}

/**
 * Splits items by key (see splitOf). Within a split, items are ordered by fnv1a("order/" + key), a
 * fixed mix of the classes, so `--limit N` (the first N of each split) is a fair sample.
 */
export function splitItems(items: readonly Item[]): Record<Split, Item[]> {
  const out: Record<Split, Item[]> = { train: [], val: [], test: [] };
  for (const it of items) out[splitOf(it.key)].push(it);
  for (const s of Object.values(out)) {
    const rank = new Map(s.map((it) => [it, fnv1a(`order/${it.key}`)]));
    s.sort((a, b) => rank.get(a)! - rank.get(b)! || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }
  return out;
}

/** The vocabulary of a task, from its training split only. */
export function buildVocab(task: TaskName, train: readonly Item[], minFreq: number): Vocab {
  return Vocab.build(
    train.map((i) => i.tokens),
    { minFreq, specials: task === 'namegen' ? [BOS, EOS] : [] },
  );
}
