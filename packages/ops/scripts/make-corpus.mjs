// Writes the hostile safetensors corpus that src/safetensors.test.ts loads: every file in
// test-corpus/safetensors/ is malformed and must make loadSafetensors throw SafetensorsError
// with a specific message (the test keeps the expected message of each file).
//   node scripts/make-corpus.mjs
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'test-corpus', 'safetensors');
mkdirSync(out, { recursive: true });
for (const f of readdirSync(out)) if (f.endsWith('.safetensors')) rmSync(join(out, f));

const enc = new TextEncoder();

/** 8-byte little-endian length (default: the header's byte length), header, data. */
function file(header, data = new Uint8Array(0), length) {
  const h =
    header instanceof Uint8Array
      ? header
      : enc.encode(typeof header === 'string' ? header : JSON.stringify(header));
  const bytes = new Uint8Array(8 + h.length + data.length);
  new DataView(bytes.buffer).setBigUint64(0, length ?? BigInt(h.length), true);
  bytes.set(h, 8);
  bytes.set(data, 8 + h.length);
  return bytes;
}

function f32(...values) {
  return new Uint8Array(new Float32Array(values).buffer);
}

const t = (dtype, shape, begin, end) => ({ dtype, shape, data_offsets: [begin, end] });

const corpus = {
  // the 8-byte length field itself
  empty: new Uint8Array(0),
  'truncated-length-field': new Uint8Array([16, 0, 0, 0, 0]),
  'header-length-exceeds-file': file('{"a":1}', new Uint8Array(0), 1000n),
  'header-length-2pow63': file('{}', new Uint8Array(0), 2n ** 63n),
  'header-length-max-u64': file('{}', new Uint8Array(0), 2n ** 64n - 1n),
  // the header text
  'header-not-json': file('{"a": {"dtype": "F32", '),
  'header-trailing-garbage': file('{}\u0000\u0000\u0000'),
  'header-array': file('[{"dtype":"F32","shape":[1],"data_offsets":[0,4]}]', f32(1)),
  'header-null': file('null'),
  'header-invalid-utf8': file(
    new Uint8Array([...enc.encode('{"a'), 0xff, 0xfe, ...enc.encode('":{}}')]),
  ),
  'duplicate-keys': file(
    '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}',
    f32(1, 2),
  ),
  'duplicate-keys-escaped': file(
    '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"\\u0061":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}',
    f32(1, 2),
  ),
  // what Python's safetensors (serde_json) rejects although JSON.parse takes it
  'header-utf8-bom': file(
    new Uint8Array([
      0xef,
      0xbb,
      0xbf,
      ...enc.encode('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}'),
    ]),
    f32(1),
  ),
  'shape-float-literal': file('{"a":{"dtype":"F32","shape":[1.0],"data_offsets":[0,4]}}', f32(1)),
  'offsets-float-literal': file('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4.0]}}', f32(1)),
  'offsets-exponent-literal': file(
    '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4e0]}}',
    f32(1),
  ),
  'key-lone-surrogate': file(
    '{"a\\ud800":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}',
    f32(1),
  ),
  'metadata-lone-surrogate': file(
    '{"__metadata__":{"k":"x\\udc00"},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}',
    f32(1),
  ),
  'duplicate-field-in-entry': file(
    '{"a":{"dtype":"F32","shape":[1],"dtype":"I64","data_offsets":[0,4]}}',
    f32(1),
  ),
  // __metadata__
  'metadata-non-string': file({ __metadata__: { format: 'pt', version: 1 } }),
  'metadata-not-object': file({ __metadata__: 'pt' }),
  // one tensor's description
  'entry-not-object': file({ a: 5 }),
  'unknown-dtype': file({ a: t('C64', [1], 0, 8) }, new Uint8Array(8)),
  'dtype-prototype-key': file({ a: t('constructor', [1], 0, 4) }, f32(1)),
  'missing-dtype': file({ a: { shape: [1], data_offsets: [0, 4] } }, f32(1)),
  'negative-dimension': file({ a: t('F32', [-1, 2], 0, 8) }, f32(1, 2)),
  'fractional-dimension': file({ a: t('F32', [1.5], 0, 4) }, f32(1)),
  'shape-not-array': file(
    { a: { dtype: 'F32', shape: 4, data_offsets: [0, 16] } },
    f32(1, 2, 3, 4),
  ),
  'deeply-nested-shape': file(
    `{"a":{"dtype":"F32","shape":${'['.repeat(10000)}${']'.repeat(10000)},"data_offsets":[0,0]}}`,
  ),
  'huge-dims-overflow': file({ a: t('F32', [2 ** 32, 2 ** 32, 2 ** 32], 0, 0) }),
  'huge-dim-unsafe-integer': file(
    `{"a":{"dtype":"F32","shape":[9007199254740993],"data_offsets":[0,0]}}`,
  ),
  'shape-offset-mismatch': file({ a: t('F32', [2, 3], 0, 20) }, new Uint8Array(20)),
  'offsets-reversed': file({ a: t('F32', [0], 8, 0) }, new Uint8Array(8)),
  'offsets-not-pair': file({ a: { dtype: 'F32', shape: [1], data_offsets: [0] } }, f32(1)),
  'offsets-huge': file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,1e300]}}`, f32(1)),
  'offsets-past-end': file({ a: t('F32', [2], 0, 8) }, f32(1)),
  // how the tensors tile the data
  'overlapping-offsets': file({ a: t('F32', [2], 0, 8), b: t('F32', [2], 4, 12) }, f32(1, 2, 3)),
  'hole-between-tensors': file({ a: t('F32', [1], 0, 4), b: t('F32', [1], 8, 12) }, f32(1, 2, 3)),
  'trailing-data': file({ a: t('F32', [1], 0, 4) }, f32(1, 2)),
  'truncated-data': file({ a: t('F32', [2], 0, 8), b: t('F32', [3], 8, 20) }, f32(1, 2, 3, 4)),
  // values
  'i64-out-of-int32-range': (() => {
    const data = new Uint8Array(8 + 16);
    const v = new DataView(data.buffer);
    v.setFloat32(0, 1.5, true);
    v.setFloat32(4, 2.5, true);
    v.setBigInt64(8, 7n, true);
    v.setBigInt64(16, 2n ** 31n, true);
    return file({ ok: t('F32', [2], 0, 8), ids: t('I64', [2], 8, 24) }, data);
  })(),
};

for (const [name, bytes] of Object.entries(corpus)) {
  writeFileSync(join(out, `${name}.safetensors`), bytes);
}
console.log(`wrote ${Object.keys(corpus).length} files to ${out}`);
