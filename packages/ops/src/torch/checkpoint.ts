import * as tf from '@tensorflow/tfjs-core';
import { ModelFileError } from '../errors.js';
import { describeFile, type FileInfo } from '../file-kind.js';
import { describeValue } from '../guards.js';
import { unpickle } from './pickle.js';
import { PyDict, PyTuple, type PyValue, TensorRef } from './pickle-values.js';
import { decodeStorage, gather, type StorageRef, storageFromPid, tensorSpec } from './storage.js';
import { readZip, type ZipEntry } from './zip.js';

const FN = 'loadTorchCheckpoint';
/** torch.save's legacy format: magic number, then protocol version, as pickles. */
const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;
const LEGACY_PROTOCOL = 1001;
/** Hostile-input bounds: tensor entries made while flattening, nesting depth, output elements. */
const MAX_ENTRIES = 100_000;
const MAX_DEPTH = 1000;
const MAX_OUTPUT_ELEMENTS = 2 ** 28;

function fail(msg: string): never {
  throw new ModelFileError(`${FN}: ${msg}`);
}

const HINTS: Partial<Record<FileInfo['kind'], string>> = {
  'rnnkit-model': '; load it with loadModel from @rnnkit/heads',
  safetensors: '; read it with loadSafetensors',
  onnx: '; rnnkit does not read ONNX: save the weights with torch.save(model.state_dict(), path)',
  torchscript: '; save the weights with torch.save(model.state_dict(), path) instead',
  pickle: ' (legacy torch.save files start with its magic number)',
};

/** Storages seen in the pickle, by key; one key must always name the same storage. */
class Storages {
  readonly byKey = new Map<string, StorageRef>();
  load = (pid: PyValue): StorageRef => {
    const s = storageFromPid(FN, pid);
    const prev = this.byKey.get(s.key);
    if (prev && (prev.type !== s.type || prev.rootNumel !== s.rootNumel)) {
      fail(`storage "${s.key}" is referred to as two different storages`);
    }
    if (!prev) this.byKey.set(s.key, s);
    return s;
  };
}

function pyKey(k: PyValue): string {
  if (typeof k === 'string') return k;
  if (typeof k === 'number' || typeof k === 'bigint') return String(k);
  if (typeof k === 'boolean') return k ? 'True' : 'False';
  if (k === null) return 'None';
  if (k instanceof PyTuple) return `(${k.items.map(pyKey).join(', ')})`;
  return fail(`a dict key is ${describeValue(k)}; expected a string or number`);
}

type Container = PyDict | PyTuple | PyValue[];

const isContainer = (v: PyValue): v is Container =>
  v instanceof PyDict || v instanceof PyTuple || Array.isArray(v);

/**
 * The tensors under `root`, keyed by dotted path; other leaves (numbers, strings) are skipped.
 * Each container is flattened once and its list reused where the pickle refers to it again, so
 * shared containers cost their size once; the entries made in all are bounded (MAX_ENTRIES).
 */
function flatten(root: PyValue): Array<[string, TensorRef]> {
  if (root instanceof TensorRef) return [['tensor', root]];
  if (!isContainer(root)) return [];
  const done = new Map<object, Array<[string, TensorRef]>>();
  const path = new Set<object>();
  let entries = 0;
  const spend = () => {
    if (++entries > MAX_ENTRIES)
      fail(`the checkpoint holds more than ${MAX_ENTRIES} tensor entries`);
  };
  const flat = (v: Container, key: string, depth: number): Array<[string, TensorRef]> => {
    const cached = done.get(v);
    if (cached) return cached;
    if (depth > MAX_DEPTH) fail(`containers nested deeper than ${MAX_DEPTH}`);
    if (path.has(v)) fail(`a container contains itself (at "${key}")`);
    path.add(v);
    const out: Array<[string, TensorRef]> = [];
    const visit = (k: () => string, x: PyValue) => {
      if (x instanceof TensorRef) {
        spend();
        out.push([k(), x]);
      } else if (isContainer(x)) {
        const name = k();
        for (const [sub, t] of flat(x, key === '' ? name : `${key}.${name}`, depth + 1)) {
          spend();
          out.push([`${name}.${sub}`, t]);
        }
      }
    };
    if (v instanceof PyDict) for (const [k, x] of v.map) visit(() => pyKey(k), x);
    else {
      const items = v instanceof PyTuple ? v.items : v;
      for (let i = 0; i < items.length; i++) visit(() => String(i), items[i]);
    }
    path.delete(v);
    done.set(v, out);
    return out;
  };
  const out = flat(root, '', 0);
  const seen = new Set<string>();
  for (const [k] of out) {
    if (seen.has(k)) fail(`two tensors have the dotted key "${k}"`);
    seen.add(k);
  }
  return out;
}

function readZipCheckpoint(bytes: Uint8Array, entries: ZipEntry[]) {
  const pkl = entries.find((e) => /^[^/]+\/data\.pkl$/.test(e.name)) as ZipEntry;
  const root = pkl.name.slice(0, -'data.pkl'.length);
  const order = entries.find((e) => e.name === `${root}byteorder`);
  const head = readZip(FN, bytes, entries, new Set([pkl.name, ...(order ? [order.name] : [])]));
  if (order && new TextDecoder().decode(head.get(order.name)) !== 'little') {
    fail('the checkpoint was written on a big-endian machine; only little-endian is supported');
  }
  const storages = new Storages();
  const { value } = unpickle(head.get(pkl.name) as Uint8Array, 0, {
    fn: FN,
    persistentLoad: storages.load,
  });
  const refs = flatten(value);
  const specs = refs.map(([k, t]) => [k, tensorSpec(FN, k, t)] as const);
  const used = new Set(specs.map(([, s]) => s.storage.key));
  const names = new Map([...used].map((k) => [`${root}data/${k}`, k]));
  for (const name of names.keys()) {
    if (!entries.some((e) => e.name === name))
      fail(`the archive has no "${name}" for a tensor's storage`);
  }
  const files = readZip(FN, bytes, entries, new Set(names.keys()));
  const data = new Map([...files].map(([name, d]) => [names.get(name) as string, d]));
  return { specs, data };
}

function readLegacy(bytes: Uint8Array) {
  const none = { fn: FN, persistentLoad: () => fail('unexpected storage in the file header') };
  const magic = unpickle(bytes, 0, none);
  if (magic.value !== LEGACY_MAGIC)
    fail("a pickle that does not start with torch.save's magic number");
  const proto = unpickle(bytes, magic.end, none);
  if (proto.value !== LEGACY_PROTOCOL)
    fail(`legacy protocol version ${String(proto.value)}; expected ${LEGACY_PROTOCOL}`);
  const info = unpickle(bytes, proto.end, none);
  if (!(info.value instanceof PyDict) || info.value.map.get('little_endian') !== true) {
    fail('the checkpoint was written on a big-endian machine; only little-endian is supported');
  }
  const storages = new Storages();
  const main = unpickle(bytes, info.end, { fn: FN, persistentLoad: storages.load });
  const specs = flatten(main.value).map(([k, t]) => [k, tensorSpec(FN, k, t)] as const);
  const keys = unpickle(bytes, main.end, none);
  if (!Array.isArray(keys.value) || keys.value.some((k) => typeof k !== 'string')) {
    fail('the list of storage keys after the pickle is malformed');
  }
  // each storage: its element count (int64, little-endian), then its bytes
  const data = new Map<string, Uint8Array>();
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = keys.end;
  for (const key of keys.value as string[]) {
    const s = storages.byKey.get(key) ?? fail(`storage "${key}" is stored but never used`);
    if (pos + 8 > bytes.length) fail(`the file is truncated before storage "${key}"`);
    const n = view.getBigInt64(pos, true);
    if (n !== BigInt(s.rootNumel))
      fail(`storage "${key}" holds ${n} elements; the pickle says ${s.rootNumel}`);
    const end = pos + 8 + s.rootNumel * s.elementBytes;
    if (end > bytes.length) fail(`the file is truncated inside storage "${key}"`);
    data.set(key, bytes.subarray(pos + 8, end));
    pos = end;
  }
  return { specs, data };
}

/**
 * Reads what `torch.save` writes (the zip format of PyTorch 1.6+, and the legacy format): every
 * tensor, keyed by its dotted path in nested dicts and lists (`model.rnn.weight_ih_l0`,
 * `optimizer.state.0.exp_avg`; a lone tensor is `tensor`); numbers, strings and other non-tensor
 * values are skipped. float32/float16/bfloat16/float64 become float32 tensors, int64/int32/int16/
 * int8/uint8 int32 (an int64 outside int32 is an error), bool stays bool; views (offsets, strides,
 * shared storages) are copied out in row-major order. The pickle is read by a restricted unpickler:
 * a global other than torch's tensor/storage rebuilders and OrderedDict throws PickleSecurityError
 * and nothing in the file is run. Anything malformed, truncated or not a checkpoint throws
 * ModelFileError saying what the file is; no tensors are left behind on failure.
 */
export function loadTorchCheckpoint(bytes: Uint8Array): Record<string, tf.Tensor> {
  if (!(bytes instanceof Uint8Array)) {
    throw new TypeError(`${FN}(bytes): expected a Uint8Array, got ${describeValue(bytes)}`);
  }
  const info = describeFile(FN, bytes);
  let read: ReturnType<typeof readLegacy>;
  if (info.kind === 'torch-zip') read = readZipCheckpoint(bytes, info.entries as ZipEntry[]);
  else if (info.kind === 'torch-legacy') read = readLegacy(bytes);
  else {
    throw new ModelFileError(
      `${FN}(bytes): this is ${info.description}; expected a torch.save checkpoint (a zip with data.pkl, or the legacy pickle format)${HINTS[info.kind] ?? ''}`,
    );
  }
  const { specs, data } = read;
  let total = 0;
  for (const [key, spec] of specs) {
    const d = data.get(spec.storage.key);
    if (d === undefined)
      fail(`tensor "${key}": its storage "${spec.storage.key}" is not in the file`);
    const want = spec.storage.rootNumel * spec.storage.elementBytes;
    if (d.length !== want) {
      fail(
        `tensor "${key}": its storage holds ${d.length} bytes, but ${spec.storage.rootNumel} ${spec.storage.type} elements need ${want}`,
      );
    }
    total += spec.numel;
    if (total > MAX_OUTPUT_ELEMENTS)
      fail(`the tensors hold more than ${MAX_OUTPUT_ELEMENTS} elements`);
  }
  const decoded = new Map<string, Float32Array | Int32Array | Uint8Array>();
  const out: Array<[string, tf.Tensor]> = [];
  try {
    for (const [key, spec] of specs) {
      const s = spec.storage;
      if (!decoded.has(s.key))
        decoded.set(s.key, decodeStorage(FN, s, data.get(s.key) as Uint8Array));
      const values = gather(spec, decoded.get(s.key) as Float32Array | Int32Array | Uint8Array);
      out.push([key, tf.tensor(values, spec.shape, spec.dtype)]);
    }
  } catch (e) {
    tf.dispose(out.map(([, t]) => t));
    throw e;
  }
  return Object.fromEntries(out);
}
