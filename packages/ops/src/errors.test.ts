import { describe, expect, it, vi } from 'vitest';
import {
  KernelError,
  RnnkitError,
  SafetensorsError,
  ShapeError,
  StateDictError,
} from './errors.js';

describe('RnnkitError', () => {
  it('is the base of every rnnkit error, with the class name as name', () => {
    const e = new ShapeError('f(x): expected [2], got [3]');
    expect(e).toBeInstanceOf(RnnkitError);
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('ShapeError');
    expect(e.message).toBe('f(x): expected [2], got [3]');
    const s = new StateDictError('bad', ['a'], [], []);
    expect(s.name).toBe('StateDictError');
    expect(s.missingKeys).toEqual(['a']);
  });

  it('isInstance tells classes apart and accepts subclasses', () => {
    const e = new ShapeError('x');
    expect(RnnkitError.isInstance(e)).toBe(true);
    expect(ShapeError.isInstance(e)).toBe(true);
    expect(SafetensorsError.isInstance(e)).toBe(false);
    expect(KernelError.isInstance(new KernelError('k'))).toBe(true);
    for (const v of [new Error('x'), null, undefined, 'ShapeError', { name: 'ShapeError' }])
      expect(ShapeError.isInstance(v)).toBe(false);
  });

  it('isInstance works across two copies of the package, where instanceof does not', async () => {
    vi.resetModules();
    const other = await import('./errors.js');
    expect(other.ShapeError).not.toBe(ShapeError);
    const e = new other.ShapeError('from another copy');
    expect(e instanceof ShapeError).toBe(false);
    expect(ShapeError.isInstance(e)).toBe(true);
    expect(RnnkitError.isInstance(e)).toBe(true);
    expect(SafetensorsError.isInstance(e)).toBe(false);
  });
});
