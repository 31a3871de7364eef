import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  applyByteMutation,
  type ByteMutation,
  byteMutations,
  fuzzLoader,
} from '@rnnkit/vitest-config/fuzz';
import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { SafetensorsError } from './errors.js';
import { loadSafetensors, safetensorsMetadata, saveSafetensors } from './safetensors.js';

const CORPUS = fileURLToPath(new URL('../test-corpus/safetensors/', import.meta.url));
const enc = new TextEncoder();

/** A safetensors file by hand: 8-byte little-endian header length, header, data. */
function build(header: object | string, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const h = enc.encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

function u16le(values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 2);
  const v = new DataView(out.buffer);
  for (const [i, x] of values.entries()) v.setUint16(i * 2, x, true);
  return out;
}

function i64le(values: bigint[]): Uint8Array {
  const out = new Uint8Array(values.length * 8);
  const v = new DataView(out.buffer);
  for (const [i, x] of values.entries()) v.setBigInt64(i * 8, x, true);
  return out;
}

function f64le(values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 8);
  const v = new DataView(out.buffer);
  for (const [i, x] of values.entries()) v.setFloat64(i * 8, x, true);
  return out;
}

function entry(dtype: string, shape: number[], begin: number, end: number) {
  return { dtype, shape, data_offsets: [begin, end] };
}

/** Element-wise equality that tells NaN from NaN-free values and -0 from 0. */
function sameValues(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

function disposeAll(d: Record<string, tf.Tensor>): void {
  tf.dispose(Object.values(d));
}

/** Loads, expecting SafetensorsError; returns its message. */
function loadError(bytes: Uint8Array): string {
  try {
    disposeAll(loadSafetensors(bytes));
  } catch (e) {
    expect(e).toBeInstanceOf(SafetensorsError);
    return (e as Error).message;
  }
  throw new Error('expected loadSafetensors to throw');
}

describe('saveSafetensors / loadSafetensors', () => {
  it('round-trips F32 and I32 tensors with metadata', () => {
    const t = {
      w: tf.tensor2d([
        [1.5, -2, 3e-8],
        [Number.POSITIVE_INFINITY, -0, 65504.5],
      ]),
      ids: tf.tensor1d([0, -1, 2147483647, -2147483648], 'int32'),
      s: tf.scalar(0.1),
    };
    const meta = { format: 'pt', note: 'ünïcödé "quoted"' };
    const bytes = saveSafetensors(t, meta);
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    // the header is padded with spaces so the data starts 8-byte aligned, as the reference writer does
    expect((8 + n) % 8).toBe(0);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
    expect(header.w).toEqual(entry('F32', [2, 3], 0, 24));
    expect(header.ids).toEqual(entry('I32', [4], 24, 40));
    expect(header.s).toEqual(entry('F32', [], 40, 44));
    expect(header.__metadata__).toEqual(meta);
    expect(bytes.length).toBe(8 + n + 44);

    const before = tf.memory().numTensors;
    const back = loadSafetensors(bytes);
    expect(tf.memory().numTensors).toBe(before + 3);
    expect(Object.keys(back)).toEqual(['w', 'ids', 's']);
    for (const k of Object.keys(t) as Array<keyof typeof t>) {
      expect(back[k].dtype).toBe(t[k].dtype);
      expect(back[k].shape).toEqual(t[k].shape);
      expect(sameValues(back[k].dataSync(), t[k].dataSync())).toBe(true);
    }
    expect(safetensorsMetadata(bytes)).toEqual(meta);
    expect(safetensorsMetadata(saveSafetensors({ s: t.s }))).toEqual({});
    disposeAll(back);
    disposeAll(t);
  });

  it('reads F16 values exactly, including subnormals, infinities, -0 and NaN', () => {
    const bits = [0x3c00, 0xc000, 0x0001, 0x03ff, 0x0400, 0x7bff, 0x7c00, 0xfc00, 0x8000, 0x3555];
    const want = [
      1,
      -2,
      2 ** -24,
      1023 * 2 ** -24,
      2 ** -14,
      65504,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      -0,
      0.333251953125,
    ];
    const bytes = build({ h: entry('F16', [2, 5], 0, 20) }, u16le(bits));
    const { h } = loadSafetensors(bytes);
    expect(h.dtype).toBe('float32');
    expect(h.shape).toEqual([2, 5]);
    expect(sameValues(h.dataSync(), want)).toBe(true);
    const nan = loadSafetensors(build({ n: entry('F16', [2], 0, 4) }, u16le([0x7e00, 0xfc01])));
    expect([...nan.n.dataSync()].every(Number.isNaN)).toBe(true);
    tf.dispose([h, nan.n]);
  });

  it('reads BF16 values exactly', () => {
    const bits = [0x3f80, 0xc040, 0x4049, 0x7f80, 0xff80, 0x0001, 0x8000, 0x7f7f];
    const want = [
      1,
      -3,
      3.140625,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      2 ** -133,
      -0,
      Math.fround(3.3895313892515355e38),
    ];
    const { b } = loadSafetensors(build({ b: entry('BF16', [8], 0, 16) }, u16le(bits)));
    expect(b.dtype).toBe('float32');
    expect(sameValues(b.dataSync(), want)).toBe(true);
    const nan = loadSafetensors(build({ n: entry('BF16', [1], 0, 2) }, u16le([0x7fc0])));
    expect(Number.isNaN(nan.n.dataSync()[0])).toBe(true);
    tf.dispose([b, nan.n]);
  });

  it('reads F64 as float32 (rounded to nearest), warning once per process', () => {
    const values = [1 / 3, -1e-3, 1e10, 2 ** -149, -0, 123456789.123, 1e300];
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      const { d } = loadSafetensors(build({ d: entry('F64', [7], 0, 56) }, f64le(values)));
      expect(d.dtype).toBe('float32');
      expect(sameValues(d.dataSync(), values.map(Math.fround))).toBe(true);
      d.dispose();
      const again = loadSafetensors(build({ e: entry('F64', [7], 0, 56) }, f64le(values)));
      again.e.dispose();
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0][0])).toMatch(
        /^loadSafetensors: tensor "d" \(and any other F64 tensor\) is float64; it is read as float32/,
      );
    } finally {
      warn.mockRestore();
    }
  });

  it('reads I64 within int32 as int32 and rejects values outside, naming tensor, value and index', () => {
    const ok = [0n, -1n, 2147483647n, -2147483648n, 42n];
    const { i } = loadSafetensors(build({ i: entry('I64', [5], 0, 40) }, i64le(ok)));
    expect(i.dtype).toBe('int32');
    expect([...i.dataSync()]).toEqual([0, -1, 2147483647, -2147483648, 42]);
    i.dispose();
    for (const [v, at] of [
      [2147483648n, 2],
      [-2147483649n, 0],
      [9223372036854775807n, 1],
      [-9223372036854775808n, 2],
    ] as const) {
      const vals = [1n, 2n, 3n];
      vals[at] = v;
      const before = tf.memory().numTensors;
      const bytes = build(
        { first: entry('F32', [1], 0, 4), big: entry('I64', [3], 4, 28) },
        new Uint8Array([0, 0, 128, 63, ...i64le(vals)]),
      );
      expect(loadError(bytes)).toBe(
        `loadSafetensors: tensor "big": I64 value ${v} at flat index ${at} does not fit in int32`,
      );
      // the tensor decoded before the failure was freed
      expect(tf.memory().numTensors).toBe(before);
    }
  });

  it('reads I32 and a file whose header lists tensors out of data order', () => {
    const data = new Uint8Array(4 + 8 + 2);
    const v = new DataView(data.buffer);
    v.setInt32(0, -7, true);
    v.setFloat32(4, 0.5, true);
    v.setFloat32(8, -0.25, true);
    v.setUint16(12, 0xbc00, true); // F16 -1
    const bytes = build(
      {
        __metadata__: { a: 'b' },
        z: entry('F16', [1, 1], 12, 14),
        y: entry('F32', [2], 4, 12),
        x: entry('I32', [], 0, 4),
      },
      data,
    );
    const out = loadSafetensors(bytes);
    expect(Object.keys(out)).toEqual(['z', 'y', 'x']);
    expect(out.x.shape).toEqual([]);
    expect(out.x.dtype).toBe('int32');
    expect(out.x.dataSync()[0]).toBe(-7);
    expect([...out.y.dataSync()]).toEqual([0.5, -0.25]);
    expect(out.z.shape).toEqual([1, 1]);
    expect(out.z.dataSync()[0]).toBe(-1);
    expect(safetensorsMetadata(bytes)).toEqual({ a: 'b' });
    disposeAll(out);
  });

  it('reads "__metadata__": null as no metadata, and integer literals as written by any writer', () => {
    // As Python's safetensors 0.8: __metadata__ is optional (null is None); "4" and a surrogate
    // pair written as escapes are fine, only a fraction, an exponent or a lone surrogate is not.
    const json =
      '{"__metadata__":null,"\\ud83d\\ude00":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}';
    const header = new TextEncoder().encode(json);
    const bytes = new Uint8Array(8 + header.length + 4);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(header.length), true);
    bytes.set(header, 8);
    new DataView(bytes.buffer).setFloat32(8 + header.length, 2.5, true);
    expect(safetensorsMetadata(bytes)).toEqual({});
    const out = loadSafetensors(bytes);
    expect(Object.keys(out)).toEqual(['\u{1f600}']);
    expect(Array.from(out['\u{1f600}']!.dataSync())).toEqual([2.5]);
    tf.dispose(Object.values(out));
  });

  it('handles empty tensors and an empty file', () => {
    const t = { e: tf.tensor1d([]), f: tf.zeros([2, 0, 3]), g: tf.tensor1d([], 'int32') };
    const bytes = saveSafetensors(t);
    const back = loadSafetensors(bytes);
    expect(back.e.shape).toEqual([0]);
    expect(back.f.shape).toEqual([2, 0, 3]);
    expect(back.g.shape).toEqual([0]);
    expect(back.g.dtype).toBe('int32');
    expect(back.e.dataSync().length).toBe(0);
    // by hand: an empty tensor between two others, and one at the very end
    const data = new Uint8Array(8);
    const hand = build(
      {
        a: entry('F32', [1], 0, 4),
        empty: entry('I64', [0], 4, 4),
        b: entry('F32', [1], 4, 8),
        last: entry('BF16', [0, 5], 8, 8),
      },
      data,
    );
    const h = loadSafetensors(hand);
    expect(h.empty.shape).toEqual([0]);
    // a zero dimension makes any other dimension harmless
    const wide = loadSafetensors(build({ z: entry('F32', [2 ** 40, 0], 0, 0) }));
    expect(wide.z.shape).toEqual([2 ** 40, 0]);
    wide.z.dispose();
    expect(h.last.shape).toEqual([0, 5]);
    const none = saveSafetensors({});
    expect(loadSafetensors(none)).toEqual({});
    expect(loadSafetensors(build('{}'))).toEqual({});
    disposeAll(t);
    disposeAll(back);
    disposeAll(h);
  });

  it('reads from a Node Buffer or a Uint8Array view with a non-zero (unaligned) byteOffset', () => {
    const t = { w: tf.tensor2d([[1, 2, 3]]), i: tf.tensor1d([5, -6], 'int32') };
    const bytes = saveSafetensors(t, { k: 'v' });
    const pool = Buffer.alloc(bytes.length + 13 + 7, 0xab);
    pool.set(bytes, 13);
    const view = pool.subarray(13, 13 + bytes.length);
    expect(view.byteOffset).toBe(13);
    expect(view).toBeInstanceOf(Buffer);
    const a = loadSafetensors(view);
    expect([...a.w.dataSync()]).toEqual([1, 2, 3]);
    expect([...a.i.dataSync()]).toEqual([5, -6]);
    expect(safetensorsMetadata(view)).toEqual({ k: 'v' });
    const plain = new Uint8Array(pool.buffer, pool.byteOffset + 13, bytes.length);
    const b = loadSafetensors(plain);
    expect([...b.w.dataSync()]).toEqual([1, 2, 3]);
    // the garbage after the view is not read: as a file of its own it would be "trailing data"
    const longer = pool.subarray(13, 13 + bytes.length + 1);
    expect(loadError(longer)).toMatch(/tensors cover 20 bytes of data but the file has 21/);
    disposeAll(t);
    disposeAll(a);
    disposeAll(b);
  });

  it('keeps names like __proto__ and constructor as plain keys, without touching prototypes', () => {
    const t: Record<string, tf.Tensor> = {};
    for (const name of ['__proto__', 'constructor', 'toString', '', 'a.b.c', '0', 'naïve 名前']) {
      Object.defineProperty(t, name, {
        value: tf.tensor1d([name.length]),
        enumerable: true,
        configurable: true,
      });
    }
    const meta: Record<string, string> = {};
    Object.defineProperty(meta, '__proto__', { value: 'x', enumerable: true });
    const bytes = saveSafetensors(t, meta);
    const back = loadSafetensors(bytes);
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    expect(Object.keys(back).sort()).toEqual(Object.keys(t).sort());
    expect(Object.hasOwn(back, '__proto__')).toBe(true);
    const proto = Object.getOwnPropertyDescriptor(back, '__proto__')?.value as tf.Tensor;
    expect(proto.dataSync()[0]).toBe(9);
    expect(back.constructor).toBeInstanceOf(tf.Tensor);
    const md = safetensorsMetadata(bytes);
    expect(Object.getPrototypeOf(md)).toBe(Object.prototype);
    expect(Object.keys(md)).toEqual(['__proto__']);
    expect(({} as any).x).toBeUndefined();
    disposeAll(t);
    disposeAll(back);
  });

  it('saveSafetensors rejects bad input, naming the tensor', () => {
    const ok = tf.ones([2]);
    expect(() => saveSafetensors(null as any)).toThrow(
      /saveSafetensors\(tensors\): expected an object of tensors, got null/,
    );
    const b = tf.tensor1d([1, 0], 'bool');
    expect(() => saveSafetensors({ ok, b })).toThrow(TypeError);
    expect(() => saveSafetensors({ ok, b })).toThrow(
      /saveSafetensors\(tensors\): "b" must be float32 or int32, got bool/,
    );
    expect(() => saveSafetensors({ ok, a: [1, 2] as any })).toThrow(
      /"a" must be a live tf\.Tensor, got an array of length 2/,
    );
    const dead = tf.ones([1]);
    dead.dispose();
    expect(() => saveSafetensors({ dead })).toThrow(/"dead" must be a live tf\.Tensor/);
    expect(() => saveSafetensors({ __metadata__: ok })).toThrow(/"__metadata__" is reserved/);
    expect(() => saveSafetensors({ ok }, { v: 1 as any })).toThrow(
      /saveSafetensors\(metadata\): "v" must be a string, got 1/,
    );
    // a lone surrogate (as Python's safetensors would fail to read the file), in a key or metadata
    expect(() => saveSafetensors({ 'w\ud800': ok })).toThrow(
      new TypeError(
        'saveSafetensors(tensors): the key "w\\ud800" has a lone surrogate (not valid Unicode), which Python\'s safetensors cannot read; expected well-formed text',
      ),
    );
    expect(() => saveSafetensors({ ok }, { '\udfff': 'v' })).toThrow(
      /^saveSafetensors\(metadata\): the key "\\udfff" has a lone surrogate/,
    );
    expect(() => saveSafetensors({ ok }, { k: 'x\ud83d' })).toThrow(
      /^saveSafetensors\(metadata\): "k" holds "x\\ud83d" has a lone surrogate/,
    );
    // a surrogate pair is one well-formed character: fine
    const pair = loadSafetensors(saveSafetensors({ 'w\ud83d\ude00': ok }));
    expect(Object.keys(pair)).toEqual(['w\u{1f600}']);
    tf.dispose(Object.values(pair));
    tf.dispose([ok, b]);
  });

  it('loadSafetensors rejects what is not a Uint8Array with a TypeError', () => {
    const bytes = saveSafetensors({});
    expect(() => loadSafetensors(bytes.buffer as any)).toThrow(TypeError);
    expect(() => loadSafetensors(bytes.buffer as any)).toThrow(
      /loadSafetensors\(bytes\): expected a Uint8Array, got an ArrayBuffer of \d+ bytes/,
    );
    expect(() => loadSafetensors([0, 0] as any)).toThrow(/got an array of length 2/);
    expect(() => safetensorsMetadata('x' as any)).toThrow(TypeError);
    expect(() => loadSafetensors(null as any)).toThrow(/expected a Uint8Array, got null/);
  });

  it('rejects a header longer than the reference limit of 100 MB before decoding it', () => {
    const n = 100_000_001;
    const bytes = new Uint8Array(8 + n);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(n), true);
    const t0 = performance.now();
    expect(loadError(bytes)).toBe(
      'loadSafetensors: header length 100000001 exceeds the limit of 100000000 bytes',
    );
    expect(performance.now() - t0).toBeLessThan(500);
  });
});

/** Expected message (after "loadSafetensors: ") of every file in the hostile corpus. */
const HOSTILE: Record<string, string | RegExp> = {
  empty: 'file too short: expected at least 8 bytes (header length), got 0',
  'truncated-length-field': 'file too short: expected at least 8 bytes (header length), got 5',
  'header-length-exceeds-file':
    'header length 1000 is larger than the 7 bytes after the length field',
  'header-length-2pow63':
    'header length 9223372036854775808 is larger than the 2 bytes after the length field',
  'header-length-max-u64':
    'header length 18446744073709551615 is larger than the 2 bytes after the length field',
  'header-not-json': /^header is not valid JSON \(.+\)$/,
  'header-trailing-garbage': /^header is not valid JSON \(.+\)$/,
  'header-array': 'header must be a JSON object, got an array',
  'header-null': 'header must be a JSON object, got null',
  'header-invalid-utf8': 'header is not valid UTF-8',
  'duplicate-keys': 'header has the key "a" twice',
  'duplicate-keys-escaped': 'header has the key "a" twice',
  'duplicate-field-in-entry': 'header has the key "dtype" twice',
  'metadata-non-string': '__metadata__["version"] must be a string, got 1',
  'metadata-not-object': '__metadata__ must be an object of strings',
  'entry-not-object': 'tensor "a": expected an object { dtype, shape, data_offsets }, got 5',
  'unknown-dtype':
    'tensor "a": unsupported dtype "C64"; expected one of F32, F16, BF16, F64, I32, I64',
  'dtype-prototype-key':
    'tensor "a": unsupported dtype "constructor"; expected one of F32, F16, BF16, F64, I32, I64',
  'missing-dtype':
    'tensor "a": unsupported dtype undefined; expected one of F32, F16, BF16, F64, I32, I64',
  'negative-dimension': 'tensor "a": shape must be an array of non-negative integers, got [-1,2]',
  'fractional-dimension':
    'tensor "a": shape must hold integers written without a fraction or exponent, got 1.5',
  'header-utf8-bom':
    'header starts with a UTF-8 byte order mark; expected "{" (Python safetensors rejects it)',
  'shape-float-literal':
    'tensor "a": shape must hold integers written without a fraction or exponent, got 1.0',
  'offsets-float-literal':
    'tensor "a": data_offsets must hold integers written without a fraction or exponent, got 4.0',
  'offsets-exponent-literal':
    'tensor "a": data_offsets must hold integers written without a fraction or exponent, got 4e0',
  'key-lone-surrogate':
    'header has a string with a lone surrogate escape ("a\\ud800"), which is not valid Unicode',
  'metadata-lone-surrogate':
    'header has a string with a lone surrogate escape ("x\\udc00"), which is not valid Unicode',
  'shape-not-array': 'tensor "a": shape must be an array of non-negative integers, got 4',
  'deeply-nested-shape':
    'tensor "a": shape must be an array of non-negative integers, got an array of length 1',
  'huge-dims-overflow':
    'tensor "a": shape [4294967296,4294967296,4294967296] needs more bytes than the file\'s 0 bytes of data',
  'huge-dim-unsafe-integer':
    'tensor "a": shape must be an array of non-negative integers, got [9007199254740992]',
  'shape-offset-mismatch':
    'tensor "a": shape [2,3] of F32 needs 24 bytes, but data_offsets [0, 20] hold 20',
  'offsets-reversed':
    'tensor "a": data_offsets must be [begin, end] with 0 <= begin <= end, got [8,0]',
  'offsets-not-pair':
    'tensor "a": data_offsets must be [begin, end] with 0 <= begin <= end, got [0]',
  'offsets-huge':
    'tensor "a": data_offsets must hold integers written without a fraction or exponent, got 1e300',
  'offsets-past-end': 'tensor "a": data_offsets [0, 8] run past the 4 bytes of data',
  'overlapping-offsets': 'tensor "b" data_offsets [4, 12] overlap the previous tensor (ends at 8)',
  'hole-between-tensors': 'tensor "b" starts at 8, leaving a hole after byte 4 of the data',
  'trailing-data': 'tensors cover 4 bytes of data but the file has 8',
  'truncated-data': 'tensor "b": data_offsets [8, 20] run past the 16 bytes of data',
  'i64-out-of-int32-range':
    'tensor "ids": I64 value 2147483648 at flat index 1 does not fit in int32',
};

describe('loadSafetensors on hostile files (test-corpus/safetensors)', () => {
  const files = readdirSync(CORPUS)
    .filter((f) => f.endsWith('.safetensors'))
    .map((f) => f.slice(0, -'.safetensors'.length))
    .sort();

  it('has an expected message for every corpus file and a file for every expectation', () => {
    expect(files.length).toBeGreaterThanOrEqual(15);
    expect(files).toEqual(Object.keys(HOSTILE).sort());
  });

  for (const name of Object.keys(HOSTILE)) {
    it(`rejects ${name} with SafetensorsError, quickly and without leaking tensors`, () => {
      const bytes = new Uint8Array(readFileSync(`${CORPUS}${name}.safetensors`));
      const before = tf.memory().numTensors;
      const t0 = performance.now();
      const msg = loadError(bytes);
      const elapsed = performance.now() - t0;
      const want = HOSTILE[name];
      if (typeof want === 'string') expect(msg).toBe(`loadSafetensors: ${want}`);
      else expect(msg.replace(/^loadSafetensors: /, '')).toMatch(want);
      expect(elapsed).toBeLessThan(1000);
      expect(tf.memory().numTensors).toBe(before);
      // safetensorsMetadata checks the file the same way (except decoding values)
      if (name !== 'i64-out-of-int32-range') {
        expect(() => safetensorsMetadata(bytes)).toThrow(SafetensorsError);
      }
    });
  }
});

describe('safetensors properties (fast-check)', () => {
  const name = fc.string({
    unit: fc.oneof(
      fc.constantFrom('a', 'b', '.', '_', '0', '"', '\\', ' ', '\n', '\u0000'),
      // any code point but the surrogates, which alone are not Unicode text (saveSafetensors refuses them)
      fc
        .integer({ min: 0, max: 0x10ffff - 0x800 })
        .map((c) => String.fromCodePoint(c < 0xd800 ? c : c + 0x800)),
    ),
    maxLength: 12,
  });
  const tensorSpec = fc
    .record({
      dtype: fc.constantFrom('float32' as const, 'int32' as const),
      shape: fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }),
    })
    .chain(({ dtype, shape }) => {
      const n = shape.reduce((a, b) => a * b, 1);
      const value =
        dtype === 'float32' ? fc.float() : fc.integer({ min: -2147483648, max: 2147483647 });
      return fc.record({
        dtype: fc.constant(dtype),
        shape: fc.constant(shape),
        values: fc.array(value, { minLength: n, maxLength: n }),
      });
    });

  it('random tensor dicts and metadata round-trip exactly', () => {
    const before = tf.memory().numTensors;
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(name, tensorSpec), {
          selector: ([k]) => k,
          maxLength: 5,
        }),
        fc.option(fc.dictionary(name, fc.string()), { nil: undefined }),
        (specs, meta) => {
          const named = specs.filter(([k]) => k !== '__metadata__');
          const t: Record<string, tf.Tensor> = {};
          for (const [k, s] of named) {
            Object.defineProperty(t, k, {
              value: tf.tensor(s.values, s.shape, s.dtype),
              enumerable: true,
              configurable: true,
            });
          }
          try {
            const bytes = saveSafetensors(t, meta);
            const back = loadSafetensors(bytes);
            try {
              expect(Object.keys(back)).toEqual(Object.keys(t));
              for (const k of Object.keys(t)) {
                expect(back[k].dtype).toBe(t[k].dtype);
                expect(back[k].shape).toEqual(t[k].shape);
                expect(sameValues(back[k].dataSync(), t[k].dataSync())).toBe(true);
              }
              expect(safetensorsMetadata(bytes)).toEqual(meta ?? {});
            } finally {
              disposeAll(back);
            }
          } finally {
            disposeAll(t);
          }
        },
      ),
      { numRuns: 200 },
    );
    expect(tf.memory().numTensors).toBe(before);
  });

  /** Valid files to mutate: one written by saveSafetensors, one by hand with every dtype. */
  function bases(): Uint8Array[] {
    const t = {
      w: tf.tensor2d([
        [1, 2, 3],
        [4, 5, 6],
      ]),
      ids: tf.tensor1d([7, -8, 9], 'int32'),
      e: tf.tensor1d([]),
    };
    const a = saveSafetensors(t, { format: 'pt', who: 'rnnkit' });
    disposeAll(t);
    const data = new Uint8Array([...u16le([0x3c00, 0x4049]), ...i64le([5n]), ...f64le([0.5])]);
    const b = build(
      {
        h: entry('F16', [1], 0, 2),
        bf: entry('BF16', [1], 2, 4),
        l: entry('I64', [1, 1], 4, 12),
        d: entry('F64', [], 12, 20),
        __metadata__: { x: 'y' },
      },
      data,
    );
    return [a, b];
  }

  type Mutation =
    | ByteMutation
    | { kind: 'char'; pos: number; value: string }
    | { kind: 'data'; pos: number; value: number }
    | { kind: 'length'; value: bigint };

  const mutation: fc.Arbitrary<Mutation> = fc.oneof(
    ...byteMutations,
    // JSON-significant characters inside the header make structurally different headers
    fc.record({
      kind: fc.constant('char' as const),
      pos: fc.nat(),
      value: fc.constantFrom(...'{}[]",:-0123456789e.\\ '.split('')),
    }),
    // random bits in the tensor data: odd float patterns, I64 values out of int32 range
    fc.record({
      kind: fc.constant('data' as const),
      pos: fc.nat(),
      value: fc.integer({ min: 0, max: 255 }),
    }),
    fc.record({
      kind: fc.constant('length' as const),
      value: fc.oneof(
        fc.bigInt({ min: 0n, max: 300n }),
        fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
      ),
    }),
  );

  function apply(bytes: Uint8Array, m: Mutation): Uint8Array {
    const len = bytes.length;
    switch (m.kind) {
      case 'char': {
        const n =
          len >= 8 ? Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true)) : 0;
        const span = Math.min(n, len - 8);
        if (!(span > 0)) return bytes;
        const out = bytes.slice();
        out[8 + (m.pos % span)] = m.value.charCodeAt(0);
        return out;
      }
      case 'data': {
        const span = Math.min(24, len);
        if (span === 0) return bytes;
        const out = bytes.slice();
        out[len - 1 - (m.pos % span)] = m.value;
        return out;
      }
      case 'length': {
        if (len < 8) return bytes;
        const out = bytes.slice();
        new DataView(out.buffer).setBigUint64(0, m.value, true);
        return out;
      }
      default:
        return applyByteMutation(bytes, m);
    }
  }

  it('mutated or truncated files either load or throw SafetensorsError, quickly, leaking nothing', () => {
    const seen = fuzzLoader({
      files: bases(),
      mutation,
      apply,
      load: loadSafetensors,
      rejects: (e) => e instanceof SafetensorsError,
      prefix: /^loadSafetensors: /,
      numRuns: 500,
      kindLength: 25,
    });
    // the property was not vacuous: some mutants loaded, and many different checks fired
    expect(seen.loaded).toBeGreaterThan(5);
    expect(seen.rejected.size).toBeGreaterThanOrEqual(6);
  });
});
