// Tokenisers and vocabularies. Browser-safe: no Node imports.

/** Emails are cut to this many tokens (subject first, then the body). */
export const EMAIL_MAX_TOKENS = 200;

/** Special tokens: padding is always id 0, unknown id 1. */
export const PAD = '<pad>';
export const UNK = '<unk>';
/** Start and end of a name, for the name generator. */
export const BOS = '<s>';
export const EOS = '</s>';

const TOKEN = /[a-z]+(?:'[a-z]+)?|[0-9]+|[!$%?]/g;

/**
 * The spam tokeniser, a short rule (the same in the PyTorch referee, which reads the ids we export):
 * 1. a raw message (starting with a `From ` line or a `Name:` header) is split at its first blank
 *    line into headers and body; of the headers only the `Subject:` value is kept, placed before the
 *    body (any other text is all body);
 * 2. HTML comments and tags (`<...>`) and entities (`&nbsp;`, `&#36;`) become spaces;
 * 3. lower-cased, the text is cut into tokens: runs of letters (with one inner apostrophe, as in
 *    "don't"), runs of digits, and each of `! $ % ?`;
 * 4. only the first `maxTokens` (default 200) tokens are kept.
 */
export function emailTokens(raw: string, maxTokens = EMAIL_MAX_TOKENS): string[] {
  const text = emailText(raw)
    .replace(/<!--[\s\S]*?-->/g, ' ')
    .replace(/<[^>]*>/g, ' ')
    .replace(/&#?[a-z0-9]+;/gi, ' ')
    .toLowerCase();
  const out: string[] = [];
  for (const m of text.matchAll(TOKEN)) {
    if (out.length >= maxTokens) break;
    out.push(m[0]);
  }
  return out;
}

/** Subject and body of a raw message (see emailTokens); plain text without headers is returned as is. */
export function emailText(raw: string): string {
  const m = /\r?\n\r?\n/.exec(raw);
  if (!m || !/^(From |[\w-]+:)/.test(raw)) return raw;
  const headers = raw.slice(0, m.index);
  const body = raw.slice(m.index + m[0].length);
  const subject = /^subject:[ \t]*(.*(?:\r?\n[ \t].*)*)/im.exec(headers);
  return subject ? `${subject[1]}\n${body}` : body;
}

/** Names are lower-cased and cut into characters ("Mary-Ann" -> m a r y - a n n). */
export function nameChars(name: string): string[] {
  return [...name.trim().toLowerCase()];
}

/**
 * A token <-> id table: `<pad>` = 0, `<unk>` = 1, then any extra specials, then the tokens seen at
 * least `minFreq` times in the training split, most frequent first (ties alphabetical).
 */
export class Vocab {
  readonly tokens: readonly string[];
  readonly #ids: Map<string, number>;

  constructor(tokens: readonly string[]) {
    if (tokens[0] !== PAD || tokens[1] !== UNK) {
      throw new TypeError(
        `Vocab(tokens): expected "${PAD}" at 0 and "${UNK}" at 1, got ${JSON.stringify(tokens.slice(0, 2))}`,
      );
    }
    this.tokens = tokens;
    this.#ids = new Map(tokens.map((t, i) => [t, i]));
    if (this.#ids.size !== tokens.length) throw new TypeError('Vocab(tokens): duplicate tokens');
  }

  static build(
    sequences: Iterable<readonly string[]>,
    opts: { minFreq?: number; maxSize?: number; specials?: string[] } = {},
  ): Vocab {
    const minFreq = opts.minFreq ?? 1;
    const specials = [PAD, UNK, ...(opts.specials ?? [])];
    const counts = new Map<string, number>();
    for (const seq of sequences) for (const t of seq) counts.set(t, (counts.get(t) ?? 0) + 1);
    const kept = [...counts]
      .filter(([t, n]) => n >= minFreq && !specials.includes(t))
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      .map(([t]) => t);
    const max = opts.maxSize ?? Number.POSITIVE_INFINITY;
    return new Vocab([...specials, ...kept].slice(0, Math.max(max, specials.length)));
  }

  get size(): number {
    return this.tokens.length;
  }

  id(token: string): number {
    return this.#ids.get(token) ?? 1;
  }

  encode(tokens: readonly string[]): number[] {
    return tokens.map((t) => this.id(t));
  }

  decode(ids: Iterable<number>): string[] {
    return [...ids].map((i) => this.tokens[i] ?? UNK);
  }
}
