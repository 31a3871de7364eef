// Grapheme-to-phoneme data: CMUdict entries -> words with their reference pronunciations, the
// split, the vocabularies. Browser-safe (the dictionary is passed in).
import { type Split, splitOf } from '../split.js';

/** One word and every pronunciation CMUdict gives it (the main one first, then WORD(1), WORD(2)...). */
export interface G2pWord {
  word: string;
  prons: string[][];
}

/** Characters a kept word may hold: letters, apostrophe, period, hyphen. */
export const WORD_CHARS = /^[A-Z'.-]+$/;

/**
 * CMUdict's `{ "WORD": "P1 P2", "WORD(1)": "...", ... }` -> words in dictionary order.
 * Kept: entries whose word has only A-Z, apostrophe, period and hyphen ("A.", "'BOUT", "X-RAY");
 * dropped: the rest (digits as in "A42128", the braces and quotes of CMUdict's verbal punctuation).
 * Alternates WORD(n) join WORD as extra references (duplicates dropped); stress digits are kept.
 */
export function g2pWords(dict: Record<string, string>): { words: G2pWord[]; dropped: string[] } {
  const byWord = new Map<string, G2pWord>();
  const dropped: string[] = [];
  for (const [key, pron] of Object.entries(dict)) {
    const word = key.replace(/\(\d+\)$/, '');
    if (!WORD_CHARS.test(word)) {
      dropped.push(key);
      continue;
    }
    const phones = pron.trim().split(/\s+/);
    let entry = byWord.get(word);
    if (!entry) {
      entry = { word, prons: [] };
      byWord.set(word, entry);
    }
    if (!entry.prons.some((p) => p.join(' ') === phones.join(' '))) entry.prons.push(phones);
  }
  return { words: [...byWord.values()], dropped };
}

/** The split of a word: fnv1a("rnnkit-examples/g2p/" + WORD) % 10 (0 test, 1 validation, else train). */
export function g2pSplit(word: string): Split {
  return splitOf(`g2p/${word}`);
}

export function splitWords(words: G2pWord[]): Record<Split, G2pWord[]> {
  const out: Record<Split, G2pWord[]> = { train: [], val: [], test: [] };
  for (const w of words) out[g2pSplit(w.word)].push(w);
  return out;
}

export const PAD = '<pad>';
export const UNK = '<unk>';
export const BOS = '<s>';
export const EOS = '</s>';

/** Source (characters) and target (phonemes) vocabularies; ids 0 pad, then specials, then sorted symbols. */
export class G2pVocab {
  readonly graphemes: string[];
  readonly phonemes: string[];
  private readonly g: Map<string, number>;
  private readonly p: Map<string, number>;

  constructor(graphemes: string[], phonemes: string[]) {
    this.graphemes = graphemes;
    this.phonemes = phonemes;
    this.g = new Map(graphemes.map((c, i) => [c, i]));
    this.p = new Map(phonemes.map((c, i) => [c, i]));
  }

  /** From the training words: characters -> [<pad>, <unk>, ...], phonemes -> [<pad>, <s>, </s>, ...]. */
  static fromWords(train: G2pWord[]): G2pVocab {
    const chars = new Set<string>();
    const phones = new Set<string>();
    for (const w of train) {
      for (const c of w.word) chars.add(c);
      for (const p of w.prons) for (const ph of p) phones.add(ph);
    }
    return new G2pVocab([PAD, UNK, ...[...chars].sort()], [PAD, BOS, EOS, ...[...phones].sort()]);
  }

  get bos(): number {
    return 1;
  }

  get eos(): number {
    return 2;
  }

  /** A word (any case) -> character ids; unknown characters -> <unk>. */
  encodeWord(word: string): number[] {
    return [...word.toUpperCase()].map((c) => this.g.get(c) ?? 1);
  }

  /** Phonemes -> ids; a phoneme the training split never had -> -1 (counts as an error). */
  encodePron(pron: string[]): number[] {
    return pron.map((ph) => this.p.get(ph) ?? -1);
  }

  decodePron(ids: number[]): string[] {
    return ids.map((i) => this.phonemes[i] ?? '?');
  }
}
