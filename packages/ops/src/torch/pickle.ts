import { ModelFileError, PickleSecurityError } from '../errors.js';

/**
 * A restricted unpickler for what torch.save writes (protocols 0-5 as far as torch uses them). It
 * builds plain values only: Python globals outside ALLOWED throw PickleSecurityError the moment the
 * pickle names them, and the allowed ones are never "called": REDUCE on them builds a value here.
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

/** Hostile-input bounds: memo entries, stack plus mark depth, bytes of one integer. */
const MAX_MEMO = 1_000_000;
const MAX_STACK = 1_000_000;
const MAX_INT_BYTES = 64;

const utf8 = new TextDecoder('utf-8', { fatal: true });
const latin1 = new TextDecoder('latin1');

export interface UnpickleOptions {
  /** what to name in messages, e.g. "loadTorchCheckpoint" */
  fn: string;
  /** turns a persistent id (torch: a storage tuple) into a value */
  persistentLoad: (pid: PyValue) => PyValue;
}

/** Unpickles the pickle that starts at `start`; returns its value and the offset after STOP. */
export function unpickle(
  bytes: Uint8Array,
  start: number,
  opts: UnpickleOptions,
): { value: PyValue; end: number } {
  const { fn } = opts;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = start;
  let stack: PyValue[] = [];
  /** the stacks saved by MARK, innermost last */
  const marks: PyValue[][] = [];
  const memo = new Map<number, PyValue>();

  const fail = (msg: string): never => {
    throw new ModelFileError(`${fn}: malformed pickle at byte ${pos}: ${msg}`);
  };
  const need = (n: number) => {
    if (n < 0 || pos + n > bytes.length) fail(`truncated (needs ${n} more bytes)`);
  };
  /** the offset of the next n bytes, consumed */
  const at = (n: number): number => {
    need(n);
    pos += n;
    return pos - n;
  };
  const take = (n: number): Uint8Array => bytes.subarray(at(n), pos);
  const u8 = () => bytes[at(1)];
  const u16 = () => view.getUint16(at(2), true);
  const u32 = () => view.getUint32(at(4), true);
  const u64 = () => {
    const n = view.getBigUint64(at(8), true);
    if (n > BigInt(bytes.length)) fail(`length ${n} runs past the end of the file`);
    return Number(n);
  };
  const line = (): string => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) fail('truncated (a text argument has no end of line)');
    const s = latin1.decode(bytes.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const str = (n: number): string => {
    const raw = take(n);
    try {
      return utf8.decode(raw);
    } catch {
      return fail('a string is not valid UTF-8');
    }
  };
  const push = (v: PyValue) => {
    if (stack.length + marks.length >= MAX_STACK) fail(`stack deeper than ${MAX_STACK}`);
    stack.push(v);
  };
  const pop = (): PyValue => {
    if (stack.length === 0) fail('stack underflow');
    return stack.pop() as PyValue;
  };
  const top = (): PyValue => {
    if (stack.length === 0) fail('stack underflow');
    return stack[stack.length - 1];
  };
  const popMark = (): PyValue[] => {
    const items = stack;
    const prev = marks.pop();
    if (prev === undefined) fail('no mark to pop to');
    stack = prev as PyValue[];
    return items;
  };
  const put = (k: number) => {
    if (!memo.has(k) && memo.size >= MAX_MEMO) fail(`memo larger than ${MAX_MEMO} entries`);
    memo.set(k, top());
  };
  const get = (k: number) => {
    if (!memo.has(k)) fail(`memo key ${k} was never stored`);
    push(memo.get(k) as PyValue);
  };
  const global = (module: string, name: string): PyGlobal => {
    const path = `${module}.${name}`;
    if (!ALLOWED.has(path)) {
      throw new PickleSecurityError(
        `${fn}: the pickle refers to the global ${path}, which is not allowed; a checkpoint may only name torch's tensor and storage types and collections.OrderedDict (nothing in the file was run)`,
        path,
      );
    }
    return new PyGlobal(module, name);
  };
  const int = (raw: Uint8Array): number | bigint => {
    if (raw.length > MAX_INT_BYTES) fail(`an integer of ${raw.length} bytes`);
    let v = 0n;
    for (let i = raw.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(raw[i]);
    if (raw.length > 0 && raw[raw.length - 1] & 0x80) v -= 1n << BigInt(8 * raw.length);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(v)
      : v;
  };
  const textInt = (s: string): number | bigint => {
    const t = s.replace(/L$/, '');
    if (!/^[-+]?\d{1,200}$/.test(t)) fail(`not an integer: ${JSON.stringify(s.slice(0, 40))}`);
    const v = BigInt(t);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(v)
      : v;
  };
  /** REDUCE / NEWOBJ of an allowed global: build the value it stands for. */
  const call = (f: PyValue, args: PyValue): PyValue => {
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
  };

  for (;;) {
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        if (u8() > 5) fail('pickle protocol newer than 5');
        break;
      case 0x95: // FRAME
        u64();
        break;
      case 0x2e: // STOP
        return { value: pop(), end: pos };
      case 0x28: // MARK
        if (stack.length + marks.length >= MAX_STACK) fail(`stack deeper than ${MAX_STACK}`);
        marks.push(stack);
        stack = [];
        break;
      case 0x30: // POP
        if (stack.length === 0) popMark();
        else pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        push(top());
        break;
      case 0x4e: // NONE
        push(null);
        break;
      case 0x88: // NEWTRUE
      case 0x89: // NEWFALSE
        push(op === 0x88);
        break;
      case 0x4a: // BININT
        push(view.getInt32(at(4), true));
        break;
      case 0x4b: // BININT1
        push(u8());
        break;
      case 0x4d: // BININT2
        push(u16());
        break;
      case 0x8a: // LONG1
        push(int(take(u8())));
        break;
      case 0x8b: // LONG4
        push(int(take(u32())));
        break;
      case 0x49: {
        // INT (text; I00/I01 are False/True)
        const s = line();
        push(s === '00' ? false : s === '01' ? true : textInt(s));
        break;
      }
      case 0x4c: // LONG (text)
        push(textInt(line()));
        break;
      case 0x47: // BINFLOAT (big-endian)
        push(view.getFloat64(at(8), false));
        break;
      case 0x46: {
        // FLOAT (text)
        const s = line();
        const v = Number(s);
        if (s.trim() === '' || Number.isNaN(v))
          fail(`not a float: ${JSON.stringify(s.slice(0, 40))}`);
        push(v);
        break;
      }
      case 0x58: // BINUNICODE
        push(str(u32()));
        break;
      case 0x8c: // SHORT_BINUNICODE
        push(str(u8()));
        break;
      case 0x8d: // BINUNICODE8
        push(str(u64()));
        break;
      case 0x56: // UNICODE (text, raw-unicode-escape)
        push(
          line().replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (_, u, w) => {
            const cp = Number.parseInt(u ?? w, 16);
            return cp <= 0x10ffff ? String.fromCodePoint(cp) : fail(`code point ${cp} in a string`);
          }),
        );
        break;
      case 0x55: // SHORT_BINSTRING (Python 2 str)
        push(latin1.decode(take(u8())));
        break;
      case 0x54: // BINSTRING
        push(latin1.decode(take(u32())));
        break;
      case 0x43: // SHORT_BINBYTES
        push(take(u8()).slice());
        break;
      case 0x42: // BINBYTES
        push(take(u32()).slice());
        break;
      case 0x8e: // BINBYTES8
        push(take(u64()).slice());
        break;
      case 0x29: // EMPTY_TUPLE
        push(new PyTuple([]));
        break;
      case 0x85: // TUPLE1
      case 0x86: // TUPLE2
      case 0x87: {
        // TUPLE3
        const n = op - 0x84;
        const items: PyValue[] = [];
        for (let i = 0; i < n; i++) items.unshift(pop());
        push(new PyTuple(items));
        break;
      }
      case 0x74: // TUPLE
        push(new PyTuple(popMark()));
        break;
      case 0x5d: // EMPTY_LIST
        push([]);
        break;
      case 0x6c: // LIST
        push(popMark());
        break;
      case 0x7d: // EMPTY_DICT
        push(new PyDict());
        break;
      case 0x64: {
        // DICT
        const items = popMark();
        if (items.length % 2) fail('DICT with an odd number of items');
        const d = new PyDict();
        for (let i = 0; i < items.length; i += 2) d.map.set(items[i], items[i + 1]);
        push(d);
        break;
      }
      case 0x61: {
        // APPEND
        const v = pop();
        const list = top();
        if (!Array.isArray(list)) fail('APPEND to something that is not a list');
        (list as PyValue[]).push(v);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        const list = top();
        if (!Array.isArray(list)) fail('APPENDS to something that is not a list');
        for (const v of items) (list as PyValue[]).push(v);
        break;
      }
      case 0x73: {
        // SETITEM
        const v = pop();
        const k = pop();
        const d = top();
        if (!(d instanceof PyDict)) fail('SETITEM on something that is not a dict');
        (d as PyDict).map.set(k, v);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        const d = top();
        if (!(d instanceof PyDict)) fail('SETITEMS on something that is not a dict');
        if (items.length % 2) fail('SETITEMS with an odd number of items');
        for (let i = 0; i < items.length; i += 2) (d as PyDict).map.set(items[i], items[i + 1]);
        break;
      }
      case 0x62: {
        // BUILD: torch sets attributes (OrderedDict._metadata) that a reader of tensors ignores
        pop();
        const target = top();
        if (!(target instanceof PyDict || target instanceof TensorRef)) {
          fail('BUILD on something that is not a dict or tensor');
        }
        break;
      }
      case 0x70: // PUT (text)
        put(Number(textInt(line())));
        break;
      case 0x71: // BINPUT
        put(u8());
        break;
      case 0x72: // LONG_BINPUT
        put(u32());
        break;
      case 0x94: // MEMOIZE
        put(memo.size);
        break;
      case 0x67: // GET (text)
        get(Number(textInt(line())));
        break;
      case 0x68: // BINGET
        get(u8());
        break;
      case 0x6a: // LONG_BINGET
        get(u32());
        break;
      case 0x63: {
        // GLOBAL "module\nname\n"
        const module = line();
        push(global(module, line()));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string')
          fail('STACK_GLOBAL of non-strings');
        push(global(module as string, name as string));
        break;
      }
      case 0x69: {
        // INST "module\nname\n" with arguments since the mark
        const module = line();
        const g = global(module, line());
        push(call(g, new PyTuple(popMark())));
        break;
      }
      case 0x6f: {
        // OBJ: mark, class, arguments
        const [cls, ...args] = popMark();
        push(call(cls, new PyTuple(args)));
        break;
      }
      case 0x52: // REDUCE
      case 0x81: {
        // NEWOBJ
        const args = pop();
        push(call(pop(), args));
        break;
      }
      case 0x51: // BINPERSID
        push(opts.persistentLoad(pop()));
        break;
      case 0x50: // PERSID (text)
        push(opts.persistentLoad(line()));
        break;
      case 0x82: // EXT1
      case 0x83: // EXT2
      case 0x84: {
        // EXT4: a global by copyreg extension code, which no torch checkpoint uses
        const code = op === 0x82 ? u8() : op === 0x83 ? u16() : u32();
        throw new PickleSecurityError(
          `${fn}: the pickle refers to a global by extension code ${code}, which is not allowed (nothing in the file was run)`,
          `extension code ${code}`,
        );
      }
      default:
        fail(`unsupported opcode 0x${op.toString(16).padStart(2, '0')}`);
    }
  }
}
