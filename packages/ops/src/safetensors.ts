import * as tf from '@tensorflow/tfjs-core';
import { otherFileKind } from './file-kind.js';
import { describeValue } from './guards.js';
import { fail, parseHeader } from './safetensors-header.js';
import { decodeValues, encodeValues } from './tensor-bytes.js';

const parse = (bytes: Uint8Array) => parseHeader(bytes, otherFileKind);

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
