import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { ModelFileError } from '../errors.js';
import { isZip, listZip, readZip } from './zip.js';

const enc = new TextEncoder();

function archive(): Uint8Array {
  return zipSync({
    'a/stored': [enc.encode('hello'), { level: 0 }],
    'a/deflated': [new Uint8Array(10_000).fill(7), { level: 9 }],
  });
}

/** The offset of the end-of-central-directory record. */
function eocd(z: Uint8Array): number {
  const v = new DataView(z.buffer, z.byteOffset);
  for (let i = z.length - 22; i >= 0; i--) if (v.getUint32(i, true) === 0x06054b50) return i;
  throw new Error('no EOCD');
}

describe('zip', () => {
  it('tells zips by their signature', () => {
    expect(isZip(archive())).toBe(true);
    expect(isZip(zipSync({}))).toBe(true);
    expect(isZip(enc.encode('PK'))).toBe(false);
    expect(isZip(enc.encode('{"a":1}'))).toBe(false);
  });

  it('lists members with declared sizes without inflating, and reads the ones asked for', () => {
    const z = archive();
    const entries = listZip('f', z);
    expect(entries.map((e) => [e.name, e.originalSize, e.compression])).toEqual([
      ['a/stored', 5, 0],
      ['a/deflated', 10_000, 8],
    ]);
    expect(entries[1].size).toBeLessThan(100);
    const files = readZip('f', z, entries, new Set(['a/deflated']));
    expect([...files.keys()]).toEqual(['a/deflated']);
    expect(files.get('a/deflated')?.every((b) => b === 7)).toBe(true);
    expect(
      new TextDecoder().decode(readZip('f', z, entries, new Set(['a/stored'])).get('a/stored')),
    ).toBe('hello');
  });

  it('refuses unknown compression methods, archives claiming more members than fit, and truncation', () => {
    const z = archive();
    const entries = listZip('f', z);
    expect(() =>
      readZip('f', z, [{ ...entries[0], compression: 14 }], new Set(['a/stored'])),
    ).toThrow(
      /f: zip member "a\/stored" uses compression method 14; only stored \(0\) and deflate \(8\) are supported/,
    );
    const many = z.slice();
    const at = eocd(many);
    new DataView(many.buffer).setUint16(at + 8, 0xffff, true);
    new DataView(many.buffer).setUint16(at + 10, 0xffff, true);
    expect(() => listZip('f', many)).toThrow(ModelFileError);
    const t0 = performance.now();
    expect(() => listZip('f', many)).toThrow(
      /declares more members than its \d+ bytes can hold|malformed or truncated|holds "" twice/,
    );
    expect(performance.now() - t0).toBeLessThan(500);
    // a stored member cut short: what is read is shorter than declared
    const short = [{ ...entries[0], originalSize: 6 }];
    expect(() => readZip('f', z, short, new Set(['a/stored']))).toThrow(/more than it stores/);
    expect(() => listZip('f', z.subarray(0, z.length - 30))).toThrow(
      /the zip archive is malformed or truncated/,
    );
  });
});
