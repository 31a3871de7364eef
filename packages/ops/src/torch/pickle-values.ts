import { PickleSecurityError } from '../errors.js';

/**
 * The values the restricted unpickler builds, and its allow-list: the only Python globals a
 * checkpoint may name. Allowed globals are never called; `callGlobal` builds what they stand for.
 */

/** A Python tuple (lists are JS arrays). */
export class PyTuple {
  constructor(readonly items: PyValue[]) {}
}

/** A Python dict or OrderedDict, in insertion order. */
export class PyDict {
  readonly map = new Map<PyValue, PyValue>();
}

/** An allow-listed global, e.g. torch.FloatStorage. */
export class PyGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}
  get path(): string {
    return `${this.module}.${this.name}`;
  }
}

/** What torch._utils._rebuild_tensor_v2 would build: a view into a storage. */
export class TensorRef {
  constructor(
    readonly storage: PyValue,
    readonly offset: PyValue,
    readonly size: PyValue,
    readonly stride: PyValue,
  ) {}
}

export type PyValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | PyValue[]
  | PyTuple
  | PyDict
  | PyGlobal
  | TensorRef
  | object;

const REBUILD_TENSOR = new Set(['_rebuild_tensor_v2', '_rebuild_tensor']);
export const STORAGE_TYPES = [
  'FloatStorage',
  'DoubleStorage',
  'HalfStorage',
  'BFloat16Storage',
  'LongStorage',
  'IntStorage',
  'ShortStorage',
  'CharStorage',
  'ByteStorage',
  'BoolStorage',
] as const;

/** The globals a pickle may name; anything else is a PickleSecurityError. */
const ALLOWED = new Set<string>([
  'collections.OrderedDict',
  'torch._utils._rebuild_tensor_v2',
  'torch._utils._rebuild_tensor',
  'torch._utils._rebuild_parameter',
  ...STORAGE_TYPES.map((s) => `torch.${s}`),
]);

/** The allowed global `module.name`; any other throws PickleSecurityError naming it. */
export function allowGlobal(fn: string, module: string, name: string): PyGlobal {
  const path = `${module}.${name}`;
  if (!ALLOWED.has(path)) {
    throw new PickleSecurityError(
      `${fn}: the pickle refers to the global ${path}, which is not allowed; a checkpoint may only name torch's tensor and storage types and collections.OrderedDict (nothing in the file was run)`,
      path,
    );
  }
  return new PyGlobal(module, name);
}

/** REDUCE / NEWOBJ of an allowed global: the value it stands for (`fail` for anything else). */
export function callGlobal(f: PyValue, args: PyValue, fail: (msg: string) => never): PyValue {
  if (!(f instanceof PyGlobal)) return fail('REDUCE of something that is not a global');
  if (!(args instanceof PyTuple)) return fail(`${f.path} called without an argument tuple`);
  const a = args.items;
  if (f.path === 'collections.OrderedDict') {
    const d = new PyDict();
    if (a.length === 0) return d;
    if (a.length === 1 && Array.isArray(a[0])) {
      for (const kv of a[0]) {
        if (!(kv instanceof PyTuple) || kv.items.length !== 2) fail('OrderedDict of non-pairs');
        d.map.set((kv as PyTuple).items[0], (kv as PyTuple).items[1]);
      }
      return d;
    }
    return fail('OrderedDict with unexpected arguments');
  }
  if (f.module === 'torch._utils' && REBUILD_TENSOR.has(f.name)) {
    if (a.length < 4) fail(`${f.path} with ${a.length} arguments`);
    return new TensorRef(a[0], a[1], a[2], a[3]);
  }
  if (f.path === 'torch._utils._rebuild_parameter') {
    if (!(a[0] instanceof TensorRef)) fail(`${f.path} of something that is not a tensor`);
    return a[0];
  }
  return fail(`${f.path} is allowed only as a storage type, not called`);
}
