import { PickleSecurityError } from '../errors.js';
import { PickleInput } from './pickle-input.js';
import { NOT_LITERAL, readLiteral } from './pickle-literals.js';
import {
  allowGlobal,
  callGlobal,
  PyDict,
  PyTuple,
  type PyValue,
  TensorRef,
} from './pickle-values.js';

/**
 * A restricted unpickler for what torch.save writes (protocols 0-5 as far as torch uses them). It
 * builds plain values only (pickle-values.ts): a Python global outside the allow-list throws
 * PickleSecurityError the moment the pickle names it, and allowed ones are never called.
 */

/** Hostile-input bounds: memo entries, stack plus mark depth. */
const MAX_MEMO = 1_000_000;
const MAX_STACK = 1_000_000;

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
  const inp = new PickleInput(bytes, start, fn);
  const { fail, u8, u16, u32, u64, line, textInt } = inp;
  const memo = new Map<number, PyValue>();
  const stack: PyValue[] = [];
  /** where each open MARK is in the stack, innermost last */
  const marks: number[] = [];
  /** the start of the innermost mark's items */
  const base = () => (marks.length ? marks[marks.length - 1] : 0);

  const push = (v: PyValue) => {
    if (stack.length + marks.length >= MAX_STACK) fail(`stack deeper than ${MAX_STACK}`);
    stack.push(v);
  };
  const pop = (): PyValue => {
    if (stack.length === base()) fail('stack underflow');
    return stack.pop() as PyValue;
  };
  const top = (): PyValue => {
    if (stack.length === base()) fail('stack underflow');
    return stack[stack.length - 1];
  };
  const popMark = (): PyValue[] => {
    const m = marks.pop();
    if (m === undefined) fail('no mark to pop to');
    return stack.splice(m as number);
  };
  const put = (k: number) => {
    if (!memo.has(k) && memo.size >= MAX_MEMO) fail(`memo larger than ${MAX_MEMO} entries`);
    memo.set(k, top());
  };
  const get = (k: number) => {
    if (!memo.has(k)) fail(`memo key ${k} was never stored`);
    push(memo.get(k) as PyValue);
  };
  const global = (module: string, name: string) => allowGlobal(fn, module, name);
  const call = (f: PyValue, args: PyValue) => callGlobal(f, args, fail);

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
        return { value: pop(), end: inp.pos };
      case 0x28: // MARK
        if (stack.length + marks.length >= MAX_STACK) fail(`stack deeper than ${MAX_STACK}`);
        marks.push(stack.length);
        break;
      case 0x30: // POP
        if (stack.length === base()) popMark();
        else pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        push(top());
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
      default: {
        const v = readLiteral(op, inp);
        if (v === NOT_LITERAL) fail(`unsupported opcode 0x${op.toString(16).padStart(2, '0')}`);
        else push(v);
      }
    }
  }
}
