// The fixed train/validation/test split. Browser-safe.

export type Split = 'train' | 'val' | 'test';

/** FNV-1a, 32 bits, over the UTF-8 bytes of `key`. */
export function fnv1a(key: string): number {
  let h = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(key)) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/**
 * The split of an item, from its key alone (no RNG, the same in every run and in PyTorch):
 * fnv1a("rnnkit-examples/" + key) mod 10 = 0 -> test, 1 -> validation, 2..9 -> train (about 10/10/80).
 * Keys: an email's MD5 checksum (so exact duplicates share a split), a lower-cased name.
 */
export function splitOf(key: string): Split {
  const b = fnv1a(`rnnkit-examples/${key}`) % 10;
  return b === 0 ? 'test' : b === 1 ? 'val' : 'train';
}
