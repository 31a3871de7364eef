import { describe, expect, it } from 'vitest';
import { withBrowserSection } from './browser.js';

const run = '# rnnkit benchmark\n\nintro\n\n## Targets\n\n| a |\n';
const section = '## In the browser\n\n| case | rnnkit |\n|---|---|\n| LSTM | 1 ms |\n';

describe('RESULTS.md browser section', () => {
  it('keeps the browser section of the file a Node run rewrites', () => {
    const before = `${run}\n${section}\n## Notes\n\n- old\n`;
    const next = '# rnnkit benchmark\n\nnew intro\n\n## Notes\n\n- new\n';
    const out = withBrowserSection(next, before);
    expect(out).toContain('new intro');
    expect(out).toContain('- new');
    expect(out).not.toContain('- old');
    expect(out.endsWith(section)).toBe(true);
  });

  it('replaces the browser section with a new one, once', () => {
    const old = `${run}\n${section.replace('1 ms', '9 ms')}`;
    const out = withBrowserSection(old, null, section);
    expect(out).toContain('| LSTM | 1 ms |');
    expect(out).not.toContain('9 ms');
    expect(out.split('## In the browser')).toHaveLength(2);
    expect(out.startsWith(run.trimEnd())).toBe(true);
  });

  it('leaves a file without one as it is', () => {
    expect(withBrowserSection(run, null)).toBe(run);
    expect(withBrowserSection(run, run)).toBe(run);
  });
});
