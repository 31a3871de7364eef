import type { PickleInput } from './pickle-input.js';
import type { PyValue } from './pickle-values.js';

/** What readLiteral returns for an opcode that is not a literal. */
export const NOT_LITERAL: unique symbol = Symbol('not a literal opcode');

/**
 * The pickle opcodes that push a literal (None, bools, ints, floats, strings, bytes): reads the
 * operand that follows `op` in `inp` and returns the value, or NOT_LITERAL for any other opcode.
 */
export function readLiteral(op: number, inp: PickleInput): PyValue | typeof NOT_LITERAL {
  const { fail, u8, u16, u32, u64, line, str, long, textInt } = inp;
  switch (op) {
    case 0x4e: // NONE
      return null;
    case 0x88: // NEWTRUE
    case 0x89: // NEWFALSE
      return op === 0x88;
    case 0x4a: // BININT
      return inp.i32();
    case 0x4b: // BININT1
      return u8();
    case 0x4d: // BININT2
      return u16();
    case 0x8a: // LONG1
      return long(u8());
    case 0x8b: // LONG4
      return long(u32());
    case 0x49: {
      // INT (text; I00/I01 are False/True)
      const s = line();
      return s === '00' ? false : s === '01' ? true : textInt(s);
    }
    case 0x4c: // LONG (text)
      return textInt(line());
    case 0x47: // BINFLOAT (big-endian)
      return inp.f64be();
    case 0x46: {
      // FLOAT (text)
      const s = line();
      const v = Number(s);
      if (s.trim() === '' || Number.isNaN(v))
        fail(`not a float: ${JSON.stringify(s.slice(0, 40))}`);
      return v;
    }
    case 0x58: // BINUNICODE
      return str(u32());
    case 0x8c: // SHORT_BINUNICODE
      return str(u8());
    case 0x8d: // BINUNICODE8
      return str(u64());
    case 0x56: // UNICODE (text, raw-unicode-escape)
      return line().replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (_, u, w) => {
        const cp = Number.parseInt(u ?? w, 16);
        return cp <= 0x10ffff ? String.fromCodePoint(cp) : fail(`code point ${cp} in a string`);
      });
    case 0x55: // SHORT_BINSTRING (Python 2 str)
      return inp.latin1(u8());
    case 0x54: // BINSTRING
      return inp.latin1(u32());
    case 0x43: // SHORT_BINBYTES
      return inp.take(u8()).slice();
    case 0x42: // BINBYTES
      return inp.take(u32()).slice();
    case 0x8e: // BINBYTES8
      return inp.take(u64()).slice();
    default:
      return NOT_LITERAL;
  }
}
