import { rnnkitConfig } from '@rnnkit/vitest-config';

// The harness switches backends itself; one project is enough.
export default rnnkitConfig({ backends: ['cpu'], timeout: 120_000 });
