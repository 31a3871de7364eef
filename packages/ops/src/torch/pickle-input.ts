import { ModelFileError } from '../errors.js';

/** Bytes of one integer the reader accepts (LONG1/LONG4 and text integers): more is hostile. */
const MAX_INT_BYTES = 64;

const utf8 = new TextDecoder('utf-8', { fatal: true });
const latin1 = new TextDecoder('latin1');

const small = (v: bigint): number | bigint =>
  v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;

/** The unpickler's input: a position in the bytes, and bounds-checked reads of opcode arguments. */
export class PickleInput {
  readonly view: DataView;

  constructor(
    readonly bytes: Uint8Array,
    public pos: number,
    readonly fn: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Throws ModelFileError naming the position. */
  fail = (msg: string): never => {
    throw new ModelFileError(`${this.fn}: malformed pickle at byte ${this.pos}: ${msg}`);
  };

  /** The offset of the next n bytes, consumed. */
  at = (n: number): number => {
    if (n < 0 || this.pos + n > this.bytes.length) this.fail(`truncated (needs ${n} more bytes)`);
    this.pos += n;
    return this.pos - n;
  };

  take = (n: number): Uint8Array => this.bytes.subarray(this.at(n), this.pos);
  u8 = (): number => this.bytes[this.at(1)];
  u16 = (): number => this.view.getUint16(this.at(2), true);
  u32 = (): number => this.view.getUint32(this.at(4), true);
  i32 = (): number => this.view.getInt32(this.at(4), true);
  f64be = (): number => this.view.getFloat64(this.at(8), false);

  /** An 8-byte length, at most the file's size. */
  u64 = (): number => {
    const n = this.view.getBigUint64(this.at(8), true);
    if (n > BigInt(this.bytes.length)) this.fail(`length ${n} runs past the end of the file`);
    return Number(n);
  };

  /** A text argument up to the next newline (latin-1). */
  line = (): string => {
    const end = this.bytes.indexOf(0x0a, this.pos);
    if (end < 0) this.fail('truncated (a text argument has no end of line)');
    const s = latin1.decode(this.bytes.subarray(this.pos, end));
    this.pos = end + 1;
    return s;
  };

  latin1 = (n: number): string => latin1.decode(this.take(n));

  str = (n: number): string => {
    const raw = this.take(n);
    try {
      return utf8.decode(raw);
    } catch {
      return this.fail('a string is not valid UTF-8');
    }
  };

  /** A little-endian two's-complement integer of n bytes (LONG1, LONG4). */
  long = (n: number): number | bigint => {
    if (n > MAX_INT_BYTES) this.fail(`an integer of ${n} bytes`);
    const raw = this.take(n);
    let v = 0n;
    for (let i = raw.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(raw[i]);
    if (raw.length > 0 && raw[raw.length - 1] & 0x80) v -= 1n << BigInt(8 * raw.length);
    return small(v);
  };

  /** A text integer (INT, LONG, PUT, GET arguments). */
  textInt = (s: string): number | bigint => {
    const t = s.replace(/L$/, '');
    if (!/^[-+]?\d{1,200}$/.test(t)) this.fail(`not an integer: ${JSON.stringify(s.slice(0, 40))}`);
    return small(BigInt(t));
  };
}
