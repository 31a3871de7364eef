import { rnnkitConfig } from '@rnnkit/vitest-config';

export default rnnkitConfig();
