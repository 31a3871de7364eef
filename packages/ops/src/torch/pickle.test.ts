import { concat, op, torchFixture } from '@rnnkit/vitest-config/torch';
import { describe, expect, it } from 'vitest';
import { ModelFileError, PickleSecurityError } from '../errors.js';
import { unpickle } from './pickle.js';
import { PyDict, PyGlobal, PyTuple, type PyValue } from './pickle-values.js';

/** The value in the tagged JSON form tooling/golden/torch_checkpoints.py writes (values.json). */
function asJson(v: PyValue): unknown {
  if (typeof v === 'bigint') return { bigint: String(v) };
  if (v instanceof Uint8Array) return { bytes: Array.from(v) };
  if (v instanceof PyTuple) return { tuple: v.items.map(asJson) };
  if (Array.isArray(v)) return v.map(asJson);
  if (v instanceof PyDict) return { dict: [...v.map].map(([k, x]) => [asJson(k), asJson(x)]) };
  return v;
}

const opts = {
  fn: 'test',
  persistentLoad: (pid: PyValue) => ({ pid }),
};

describe('unpickle', () => {
  const expected = JSON.parse(new TextDecoder().decode(torchFixture('values.json')));
  for (const proto of [0, 2, 4]) {
    it(`reads Python's protocol ${proto} pickle of ints, big ints, floats, strings, bytes, tuples, lists, dicts, OrderedDict`, () => {
      const bytes = torchFixture(`values_protocol${proto}.pkl`);
      const { value, end } = unpickle(bytes, 0, opts);
      expect(end).toBe(bytes.length);
      expect(asJson(value)).toEqual(expected[proto]);
    });
  }

  it('starts at an offset and returns where the pickle ended (for back-to-back pickles)', () => {
    const one = concat(op.proto(), op.int(-7), op.stop());
    const two = concat(op.proto(), op.str('x'), op.stop());
    const bytes = concat(one, two);
    const a = unpickle(bytes, 0, opts);
    expect(a).toEqual({ value: -7, end: one.length });
    expect(unpickle(bytes, a.end, opts).value).toBe('x');
  });

  it('hands persistent ids to persistentLoad', () => {
    const bytes = concat(op.proto(), op.str('storage-7'), op.binpersid(), op.stop());
    expect(unpickle(bytes, 0, opts).value).toEqual({ pid: 'storage-7' });
  });

  it('names allowed globals and builds OrderedDict without calling anything', () => {
    const bytes = concat(op.proto(), op.global('torch', 'HalfStorage'), op.stop());
    const g = unpickle(bytes, 0, opts).value as PyGlobal;
    expect(g).toBeInstanceOf(PyGlobal);
    expect(g.path).toBe('torch.HalfStorage');
  });

  it('refuses every other global with PickleSecurityError naming it', () => {
    for (const [module, name] of [
      ['os', 'system'],
      ['builtins', 'eval'],
      ['__builtin__', 'getattr'],
      ['torch', 'load'],
      ['torch._utils', '_rebuild_device_tensor_from_numpy'],
      ['collections', 'defaultdict'],
      ['numpy.core.multiarray', '_reconstruct'],
    ]) {
      const bytes = concat(op.proto(), op.global(module, name), op.stop());
      expect(() => unpickle(bytes, 0, opts)).toThrow(PickleSecurityError);
      try {
        unpickle(bytes, 0, opts);
      } catch (e) {
        expect((e as PickleSecurityError).global).toBe(`${module}.${name}`);
        expect((e as Error).message).toContain(
          `test: the pickle refers to the global ${module}.${name}`,
        );
      }
    }
  });

  it('rejects malformed pickles with ModelFileError saying where and why', () => {
    const cases: Array<[Uint8Array, RegExp]> = [
      [new Uint8Array(0), /at byte 0: truncated/],
      [concat(op.proto(), op.stop()), /stack underflow/],
      [concat(op.proto(6)), /pickle protocol newer than 5/],
      [
        concat(op.proto(), op.raw(0x58, 0xff, 0xff, 0xff, 0x7f)),
        /truncated \(needs 2147483647 more bytes\)/,
      ],
      [
        concat(op.proto(), op.raw(0x58, 2, 0, 0, 0, 0xc3, 0x28), op.stop()),
        /a string is not valid UTF-8/,
      ],
      [
        concat(op.proto(), op.raw(0x8b, 0, 1, 0, 0), new Uint8Array(256), op.stop()),
        /an integer of 256 bytes/,
      ],
      [
        concat(op.proto(), op.int(1), op.append(), op.stop()),
        /stack underflow|APPEND to something that is not a list/,
      ],
      [
        concat(op.proto(), op.emptyList(), op.str('k'), op.int(1), op.setitem(), op.stop()),
        /SETITEM on something that is not a dict/,
      ],
      [concat(op.proto(), op.tuple()), /no mark to pop to/],
      [
        concat(op.proto(), op.raw(0x49), new TextEncoder().encode('12x\n'), op.stop()),
        /not an integer: "12x"/,
      ],
      [
        concat(op.proto(), op.raw(0x56), new TextEncoder().encode('\\U00110000\n'), op.stop()),
        /code point 1114112 in a string/,
      ],
      [
        concat(op.proto(), op.int(1), op.emptyTuple(), op.reduce(), op.stop()),
        /REDUCE of something that is not a global/,
      ],
    ];
    for (const [bytes, message] of cases) {
      expect(() => unpickle(bytes, 0, opts)).toThrow(ModelFileError);
      expect(() => unpickle(bytes, 0, opts)).toThrow(message);
    }
  });

  it('bounds the memo (a 5 MB pickle of 1,000,001 memo entries stops at the limit)', () => {
    // LONG_BINPUT under 1,000,001 distinct keys
    const put = new Uint8Array(5 * 1_000_001);
    const v = new DataView(put.buffer);
    for (let i = 0; i <= 1_000_000; i++) {
      put[i * 5] = 0x72;
      v.setUint32(i * 5 + 1, i, true);
    }
    const bytes = concat(op.proto(), op.none(), put, op.stop());
    const t0 = performance.now();
    expect(() => unpickle(bytes, 0, opts)).toThrow(/memo larger than 1000000 entries/);
    expect(performance.now() - t0).toBeLessThan(5000);
  });
});
