import { ModelFileError } from '../errors.js';
import { type Dtype, decodeValues } from '../tensor-bytes.js';
import { PyGlobal, PyTuple, type PyValue, STORAGE_TYPES, type TensorRef } from './pickle-values.js';

/** Storage element types, by torch storage class: bytes per element and what tfjs dtype they become. */
const DTYPES = {
  FloatStorage: { bytes: 4, out: 'float32' },
  DoubleStorage: { bytes: 8, out: 'float32' },
  HalfStorage: { bytes: 2, out: 'float32' },
  BFloat16Storage: { bytes: 2, out: 'float32' },
  LongStorage: { bytes: 8, out: 'int32' },
  IntStorage: { bytes: 4, out: 'int32' },
  ShortStorage: { bytes: 2, out: 'int32' },
  CharStorage: { bytes: 1, out: 'int32' },
  ByteStorage: { bytes: 1, out: 'int32' },
  BoolStorage: { bytes: 1, out: 'bool' },
} as const satisfies Record<(typeof STORAGE_TYPES)[number], { bytes: number; out: string }>;
export type StorageType = keyof typeof DTYPES;

/** The storage types tensor-bytes decodes (the others are small integers and bool). */
const CODECS: Partial<Record<StorageType, Dtype>> = {
  FloatStorage: 'F32',
  DoubleStorage: 'F64',
  HalfStorage: 'F16',
  BFloat16Storage: 'BF16',
  LongStorage: 'I64',
  IntStorage: 'I32',
};

/** A storage a pickle refers to by persistent id: its key in the file, element type and length. */
export class StorageRef {
  constructor(
    readonly type: StorageType,
    readonly key: string,
    readonly numel: number,
    /** elements to skip: legacy files could point into a larger storage */
    readonly base = 0,
    /** elements of the storage as stored in the file */
    readonly rootNumel = numel,
  ) {}
  get elementBytes(): number {
    return DTYPES[this.type].bytes;
  }
}

/** A tensor ready to decode: checked against its storage's size. */
export interface TensorSpec {
  storage: StorageRef;
  offset: number;
  shape: number[];
  strides: number[];
  numel: number;
  dtype: 'float32' | 'int32' | 'bool';
}

function count(v: PyValue): number | null {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : null;
}

/**
 * The storage named by a persistent id: ('storage', torch.XStorage, key, location, numel) in the
 * zip format, with a sixth item in the legacy format (view metadata: (key, offset, numel) or None).
 */
export function storageFromPid(fn: string, pid: PyValue): StorageRef {
  const bad = (why: string): never => {
    throw new ModelFileError(`${fn}: malformed storage reference in the pickle: ${why}`);
  };
  if (!(pid instanceof PyTuple) || pid.items[0] !== 'storage') {
    return bad('expected a tuple ("storage", type, key, location, size)');
  }
  const [, type, key, , numel, view] = pid.items;
  if (!(type instanceof PyGlobal) || !(STORAGE_TYPES as readonly string[]).includes(type.name)) {
    return bad('the storage type is not a torch storage class');
  }
  if (typeof key !== 'string') return bad('the storage key is not a string');
  const n = count(numel);
  if (n === null) return bad('the storage size is not a non-negative integer');
  if (view instanceof PyTuple) {
    // (view key, offset, size): the data is stored under `key`, the view starts `offset` into it
    const [, offset, size] = view.items;
    const o = count(offset);
    const s = count(size);
    if (o === null || s === null || o + s > n) {
      return bad('the storage view does not fit in its storage');
    }
    return new StorageRef(type.name as StorageType, key, s, o, n);
  }
  return new StorageRef(type.name as StorageType, key, n);
}

/** Checks a rebuilt tensor's storage, offset, shape and strides; reads no data. */
export function tensorSpec(fn: string, key: string, t: TensorRef): TensorSpec {
  const bad = (why: string): never => {
    throw new ModelFileError(`${fn}: tensor "${key}": ${why}`);
  };
  if (!(t.storage instanceof StorageRef)) return bad('its storage is not a storage reference');
  const offset = count(t.offset);
  if (offset === null) return bad('the storage offset is not a non-negative integer');
  const dims = (v: PyValue, what: string): number[] => {
    const items = v instanceof PyTuple ? v.items : Array.isArray(v) ? v : null;
    const out = items?.map(count);
    if (!out || out.some((d) => d === null))
      bad(`the ${what} is not a tuple of non-negative integers`);
    return out as number[];
  };
  const shape = dims(t.size, 'size');
  const strides = dims(t.stride, 'stride');
  if (shape.length !== strides.length) {
    bad(`size has ${shape.length} dimensions but stride has ${strides.length}`);
  }
  const storage = t.storage;
  let numel = 1;
  let last = offset;
  for (let i = 0; i < shape.length; i++) {
    numel *= shape[i];
    last += (shape[i] - 1) * strides[i];
  }
  if (numel > 0 && (!Number.isSafeInteger(numel) || last >= storage.numel)) {
    bad(
      `size [${shape}] with stride [${strides}] from offset ${offset} reaches past its storage of ${storage.numel} elements`,
    );
  }
  return { storage, offset, shape, strides, numel, dtype: DTYPES[storage.type].out };
}

/** Decodes a whole storage (its bytes as stored) to float32, int32 or bool (uint8) values. */
export function decodeStorage(
  fn: string,
  s: StorageRef,
  data: Uint8Array,
): Float32Array | Int32Array | Uint8Array {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const fail = (msg: string): never => {
    throw new ModelFileError(`${fn}: storage "${s.key}": ${msg}`);
  };
  const codec = CODECS[s.type];
  if (codec) return decodeValues(view, codec, data.byteLength, fail);
  const n = data.byteLength / s.elementBytes;
  if (s.type === 'BoolStorage') return data.slice();
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    out[i] =
      s.type === 'ShortStorage'
        ? view.getInt16(i * 2, true)
        : s.type === 'CharStorage'
          ? view.getInt8(i)
          : view.getUint8(i);
  }
  return out;
}

/** The tensor's values in row-major order, gathered through its strides from its decoded storage. */
export function gather(
  spec: TensorSpec,
  storage: Float32Array | Int32Array | Uint8Array,
): Float32Array | Int32Array | Uint8Array {
  const out =
    spec.dtype === 'float32'
      ? new Float32Array(spec.numel)
      : spec.dtype === 'int32'
        ? new Int32Array(spec.numel)
        : new Uint8Array(spec.numel);
  const { shape, strides } = spec;
  const idx = new Array<number>(shape.length).fill(0);
  let at = spec.storage.base + spec.offset;
  for (let n = 0; n < spec.numel; n++) {
    out[n] = storage[at];
    // odometer over the dimensions, last fastest
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++idx[d] < shape[d]) {
        at += strides[d];
        break;
      }
      at -= (shape[d] - 1) * strides[d];
      idx[d] = 0;
    }
  }
  return out;
}
