import { rnnkitConfig } from '@rnnkit/vitest-config';

// The examples pick their backend per run; the fast tests use cpu only.
export default rnnkitConfig({ backends: ['cpu'], timeout: 60_000 });
