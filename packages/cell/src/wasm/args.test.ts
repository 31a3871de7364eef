import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ATTEND_ARGS, argBytes, FORWARD_ARGS, MODES, SGEMM_ARGS, writeArgs } from './args.js';

/** The constants of assembly/args.ts, which scripts/build-kernel.mjs generates from args.ts. */
function generated(): Map<string, number> {
  const text = readFileSync(new URL('../../assembly/args.ts', import.meta.url), 'utf8');
  const out = new Map<string, number>();
  for (const [, name, value] of text.matchAll(/export const (\w+): \w+ = (\d+);/g))
    out.set(name!, Number(value));
  return out;
}

describe('kernel argument blocks', () => {
  it("the kernel reads each field at the offset of its place in args.ts's list, and numbers the modes in order", () => {
    const consts = generated();
    const blocks = { SGEMM: SGEMM_ARGS, FORWARD: FORWARD_ARGS, ATTEND: ATTEND_ARGS };
    const fields = Object.values(blocks).reduce((n, b) => n + b.length, 0);
    expect(consts.size).toBe(MODES.length + fields);
    for (const [name, block] of Object.entries(blocks))
      for (const [i, f] of block.entries()) expect(consts.get(`${name}_${f}`), f).toBe(i * 4);
    for (const [i, m] of MODES.entries()) expect(consts.get(m.toUpperCase()), m).toBe(i);
  });

  it('writes a block of any length field by field, byte offsets above 2^31 included', () => {
    // Forward's block already has 25 fields; the old positional calls through the thread pool
    // stopped at 28. A block has no such ceiling.
    const fields = Array.from({ length: 40 }, (_, i) => `f${i}`);
    const values = Object.fromEntries(fields.map((f, i) => [f, i === 39 ? 0xffff_fff0 : i * 7]));
    const buffer = new ArrayBuffer(16 + argBytes(fields));
    writeArgs(buffer, 16, fields, values);
    const words = new Uint32Array(buffer, 16, fields.length);
    expect(Array.from(words)).toEqual(fields.map((f) => values[f]));
    expect(new Uint32Array(buffer, 0, 4).every((w) => w === 0)).toBe(true); // nothing before `at`
  });

  it('takes each field from the first layer that has it, and throws for a field none has', () => {
    const buffer = new ArrayBuffer(argBytes(SGEMM_ARGS));
    const call = Object.fromEntries(SGEMM_ARGS.filter((f) => f !== 'c').map((f, i) => [f, i + 1]));
    writeArgs(buffer, 0, SGEMM_ARGS, { M: 90, c: 0 }, call, { c: 8 });
    const want = SGEMM_ARGS.map((f) => (f === 'M' ? 90 : f === 'c' ? 0 : call[f]));
    expect(Array.from(new Uint32Array(buffer))).toEqual(want);
    expect(() => writeArgs(buffer, 0, SGEMM_ARGS, call)).toThrow(/no value for the field c/);
  });
});
