import { describe, expect, it } from 'vitest';
import { POLICIES } from './stats.js';
import { callWhile, sample, warmUp } from './timing.js';

/** A call that counts itself and logs the hooks around it. */
function counter() {
  const log: string[] = [];
  let calls = 0;
  return {
    log,
    calls: () => calls,
    k: {
      call: () => ++calls,
      enter: async () => log.push('enter'),
      exit: async () => log.push('exit'),
    },
  };
}

describe('timing', () => {
  it('callWhile records one time per call between the hooks and returns the last output', async () => {
    const c = counter();
    const times: number[] = [];
    const out = await callWhile(c.k, times, () => c.calls() < 3);
    expect(out).toBe(3);
    expect(times).toHaveLength(3);
    expect(c.log).toEqual(['enter', 'exit']);
  });

  it('sample makes `batch` calls and runs exit also when a call throws', async () => {
    const c = counter();
    expect(await sample(c.k, 5)).toBeGreaterThanOrEqual(0);
    expect(c.calls()).toBe(5);
    const failing = { ...c.k, call: () => Promise.reject(new Error('boom')) };
    await expect(sample(failing, 2)).rejects.toThrow('boom');
    expect(c.log).toEqual(['enter', 'exit', 'enter', 'exit']);
  });

  it('warmUp keeps calling until the policy is satisfied and plans the samples', async () => {
    const c = counter();
    const times: number[] = [];
    const plan = await warmUp(c.k, times, POLICIES.quick);
    expect(times.length).toBe(c.calls());
    expect(times.length).toBeGreaterThan(1);
    expect(plan.samples).toBeGreaterThan(0);
    expect(plan.batch).toBeGreaterThan(0);
  });
});
