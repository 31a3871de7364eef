import * as tf from '@tensorflow/tfjs-core';
import { SafetensorsError } from './errors.js';
import { otherFileKind } from './file-kind.js';
import { describeValue, fmtShape } from './guards.js';
import { scanHeader } from './safetensors-header.js';
import { DTYPE_BYTES, type Dtype, decodeValues, encodeValues } from './tensor-bytes.js';

/**
 * The safetensors format: 8-byte little-endian header length N, N bytes of JSON
 * ({ name: { dtype, shape, data_offsets: [begin, end] }, __metadata__?: { string: string } }),
 * then the raw little-endian data, offsets relative to its start.
 */

const MAX_HEADER = 100_000_000; // the reference implementation's limit

interface Entry {
  name: string;
  dtype: Dtype;
  shape: number[];
  begin: number;
  end: number;
}

interface Parsed {
  entries: Entry[];
  metadata: Record<string, string>;
  dataStart: number;
}

/** A header value as JSON for messages: at most 80 characters, and safe for hostile nesting. */
function show(v: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(v);
  } catch {
    // nested too deeply for JSON.stringify's recursion
  }
  if (text === undefined) return describeValue(v);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function fail(msg: string): never {
  throw new SafetensorsError(`loadSafetensors: ${msg}`);
}

function parse(bytes: Uint8Array): Parsed {
  if (!(bytes instanceof Uint8Array)) {
    throw new TypeError(
      `loadSafetensors(bytes): expected a Uint8Array, got ${describeValue(bytes)}`,
    );
  }
  if (bytes.length < 8)
    fail(`file too short: expected at least 8 bytes (header length), got ${bytes.length}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = view.getBigUint64(0, true);
  const other =
    n > BigInt(bytes.length - 8) || n > BigInt(MAX_HEADER) ? otherFileKind(bytes) : null;
  if (other !== null) {
    fail(
      `this is not a safetensors file: it looks like ${other}. Save the tensors with safetensors (safetensors.torch.save_file in Python) and load that file`,
    );
  }
  if (n > BigInt(bytes.length - 8)) {
    fail(`header length ${n} is larger than the ${bytes.length - 8} bytes after the length field`);
  }
  if (bytes[8] === 0xef && bytes[9] === 0xbb && bytes[10] === 0xbf)
    fail(
      'header starts with a UTF-8 byte order mark; expected "{" (Python safetensors rejects it)',
    );
  if (n > BigInt(MAX_HEADER)) fail(`header length ${n} exceeds the limit of ${MAX_HEADER} bytes`);
  const headerLen = Number(n);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLen));
  } catch {
    fail('header is not valid UTF-8');
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    fail(`header is not valid JSON (${(e as Error).message})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) {
    fail(
      `header must be a JSON object, got ${Array.isArray(header) ? 'an array' : describeValue(header)}`,
    );
  }
  const problem = scanHeader(text);
  if (problem !== null) fail(problem);

  const dataStart = 8 + headerLen;
  const dataLen = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  const entries: Entry[] = [];
  for (const [name, info] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (info === null) continue; // as Python safetensors: no metadata
      if (typeof info !== 'object' || Array.isArray(info))
        fail('__metadata__ must be an object of strings');
      for (const [k, v] of Object.entries(info as Record<string, unknown>)) {
        if (typeof v !== 'string')
          fail(`__metadata__["${k}"] must be a string, got ${describeValue(v)}`);
        Object.defineProperty(metadata, k, {
          value: v,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      continue;
    }
    entries.push(parseEntry(name, info, dataLen));
  }
  // Tensors must tile the data buffer exactly: no overlap, no hole, nothing past the end.
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let pos = 0;
  for (const e of sorted) {
    if (e.begin < pos)
      fail(
        `tensor "${e.name}" data_offsets [${e.begin}, ${e.end}] overlap the previous tensor (ends at ${pos})`,
      );
    if (e.begin > pos)
      fail(`tensor "${e.name}" starts at ${e.begin}, leaving a hole after byte ${pos} of the data`);
    pos = e.end;
  }
  if (pos !== dataLen) fail(`tensors cover ${pos} bytes of data but the file has ${dataLen}`);
  return { entries, metadata, dataStart };
}

function parseEntry(name: string, info: unknown, dataLen: number): Entry {
  if (info === null || typeof info !== 'object' || Array.isArray(info)) {
    fail(
      `tensor "${name}": expected an object { dtype, shape, data_offsets }, got ${describeValue(info)}`,
    );
  }
  const { dtype, shape, data_offsets: offsets } = info as Record<string, unknown>;
  if (typeof dtype !== 'string' || !Object.hasOwn(DTYPE_BYTES, dtype)) {
    fail(
      `tensor "${name}": unsupported dtype ${describeValue(dtype)}; expected one of ${Object.keys(DTYPE_BYTES).join(', ')}`,
    );
  }
  if (!Array.isArray(shape) || shape.some((d) => !Number.isSafeInteger(d) || d < 0)) {
    fail(`tensor "${name}": shape must be an array of non-negative integers, got ${show(shape)}`);
  }
  // a zero dimension makes the tensor empty whatever the other dimensions are
  let numel = (shape as number[]).includes(0) ? 0 : 1;
  for (const d of numel === 0 ? [] : (shape as number[])) {
    numel *= d;
    if (numel > dataLen) {
      // also catches products that overflow: no tensor can hold more elements than the file has bytes
      fail(
        `tensor "${name}": shape ${fmtShape(shape as number[])} needs more bytes than the file's ${dataLen} bytes of data`,
      );
    }
  }
  if (
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    offsets.some((o) => !Number.isSafeInteger(o) || o < 0) ||
    offsets[0] > offsets[1]
  ) {
    fail(
      `tensor "${name}": data_offsets must be [begin, end] with 0 <= begin <= end, got ${show(offsets)}`,
    );
  }
  const [begin, end] = offsets as number[];
  if (end > dataLen)
    fail(`tensor "${name}": data_offsets [${begin}, ${end}] run past the ${dataLen} bytes of data`);
  const want = numel * DTYPE_BYTES[dtype as Dtype];
  if (end - begin !== want) {
    fail(
      `tensor "${name}": shape ${fmtShape(shape as number[])} of ${dtype} needs ${want} bytes, but data_offsets [${begin}, ${end}] hold ${end - begin}`,
    );
  }
  return { name, dtype: dtype as Dtype, shape: shape as number[], begin, end };
}

let warnedFloat64 = false;

/** Once per process, as PyTorch warns: F64 tensors are read as float32 (tfjs has no float64). */
function warnFloat64(name: string): void {
  if (warnedFloat64) return;
  warnedFloat64 = true;
  console.warn(
    `loadSafetensors: tensor "${name}" (and any other F64 tensor) is float64; it is read as float32, which keeps about 7 significant digits (warned once)`,
  );
}

/**
 * Reads a safetensors file. F32, F16, BF16 and F64 become float32 tensors (F64 with a warning,
 * once per process); I32 and I64 become int32 (an I64 value outside int32 is an error). Malformed files throw SafetensorsError; nothing is allocated
 * before the whole header has been checked against the file's size.
 */
export function loadSafetensors(bytes: Uint8Array): Record<string, tf.Tensor> {
  const { entries, dataStart } = parse(bytes);
  const out: Array<[string, tf.Tensor]> = [];
  try {
    for (const e of entries) {
      if (e.dtype === 'F64') warnFloat64(e.name);
      const view = new DataView(
        bytes.buffer,
        bytes.byteOffset + dataStart + e.begin,
        e.end - e.begin,
      );
      const values = decodeValues(view, e.dtype, e.end - e.begin, (msg) =>
        fail(`tensor "${e.name}": ${msg}`),
      );
      out.push([
        e.name,
        tf.tensor(values, e.shape, values instanceof Int32Array ? 'int32' : 'float32'),
      ]);
    }
  } catch (err) {
    tf.dispose(out.map(([, t]) => t));
    throw err;
  }
  return Object.fromEntries(out);
}

/** The `__metadata__` object of a safetensors file (string to string), checked like loadSafetensors. */
export function safetensorsMetadata(bytes: Uint8Array): Record<string, string> {
  return parse(bytes).metadata;
}

/** Throws unless `s` is well-formed Unicode (no lone surrogate), which a safetensors reader needs. */
function wellFormed(s: string, what: string): void {
  if (/\p{Surrogate}/u.test(s))
    throw new TypeError(
      `${what} ${JSON.stringify(s)} has a lone surrogate (not valid Unicode), which Python's safetensors cannot read; expected well-formed text`,
    );
}

/** Writes float32 tensors as F32 and int32 tensors as I32, with optional `__metadata__`. */
export function saveSafetensors(
  tensors: Record<string, tf.Tensor>,
  metadata?: Record<string, string>,
): Uint8Array {
  if (tensors === null || typeof tensors !== 'object') {
    throw new TypeError(
      `saveSafetensors(tensors): expected an object of tensors, got ${describeValue(tensors)}`,
    );
  }
  const header: Record<string, unknown> = {};
  if (metadata !== undefined) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string')
        throw new TypeError(
          `saveSafetensors(metadata): "${k}" must be a string, got ${describeValue(v)}`,
        );
      wellFormed(k, 'saveSafetensors(metadata): the key');
      wellFormed(v, `saveSafetensors(metadata): "${k}" holds`);
    }
    header.__metadata__ = metadata;
  }
  const parts: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    if (name === '__metadata__')
      throw new TypeError(
        'saveSafetensors(tensors): "__metadata__" is reserved; pass metadata separately',
      );
    wellFormed(name, 'saveSafetensors(tensors): the key');
    if (!(t instanceof tf.Tensor) || t.isDisposed) {
      throw new TypeError(
        `saveSafetensors(tensors): "${name}" must be a live tf.Tensor, got ${describeValue(t)}`,
      );
    }
    if (t.dtype !== 'float32' && t.dtype !== 'int32') {
      throw new TypeError(
        `saveSafetensors(tensors): "${name}" must be float32 or int32, got ${t.dtype}`,
      );
    }
    const raw = encodeValues(t.dataSync() as Float32Array | Int32Array);
    Object.defineProperty(header, name, {
      value: {
        dtype: t.dtype === 'float32' ? 'F32' : 'I32',
        shape: t.shape,
        data_offsets: [offset, offset + raw.length],
      },
      enumerable: true,
    });
    parts.push(raw);
    offset += raw.length;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((new TextEncoder().encode(json).length + 8) % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let pos = 8 + headerBytes.length;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}
