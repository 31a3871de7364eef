// The safetensors header: read, checked against the file's size, and checked as Python's safetensors
// (serde_json) reads it, beyond JSON.parse.
import { SafetensorsError } from './errors.js';
import { describeValue, fmtShape } from './guards.js';
import { DTYPE_BYTES, type Dtype } from './tensor-bytes.js';

/**
 * The safetensors format: 8-byte little-endian header length N, N bytes of JSON
 * ({ name: { dtype, shape, data_offsets: [begin, end] }, __metadata__?: { string: string } }),
 * then the raw little-endian data, offsets relative to its start.
 */

const MAX_HEADER = 100_000_000; // the reference implementation's limit

export interface Entry {
  name: string;
  dtype: Dtype;
  shape: number[];
  begin: number;
  end: number;
}

export interface Parsed {
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

export function fail(msg: string): never {
  throw new SafetensorsError(`loadSafetensors: ${msg}`);
}

/**
 * Checks a safetensors file's header against its size and returns its tensors and metadata.
 * `otherKind` names what a file whose header length cannot be right looks like instead (see
 * file-kind.ts), for a clearer message than the header length.
 */
export function parseHeader(
  bytes: Uint8Array,
  otherKind: (bytes: Uint8Array) => string | null = () => null,
): Parsed {
  if (!(bytes instanceof Uint8Array)) {
    throw new TypeError(
      `loadSafetensors(bytes): expected a Uint8Array, got ${describeValue(bytes)}`,
    );
  }
  if (bytes.length < 8)
    fail(`file too short: expected at least 8 bytes (header length), got ${bytes.length}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = view.getBigUint64(0, true);
  const other = n > BigInt(bytes.length - 8) || n > BigInt(MAX_HEADER) ? otherKind(bytes) : null;
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

/**
 * What Python's safetensors (serde_json) rejects and JSON.parse takes, found in the header text
 * (valid JSON): a key twice in one object at any depth (JSON.parse silently keeps the last one, so
 * two readers could see different files), a string with a lone surrogate escape such as "\ud800"
 * (not a Rust string), a number with a fraction or an exponent in a tensor's shape or data_offsets
 * (`1.0`: not an integer to serde). Returns the first problem, or null.
 */
export function scanHeader(text: string): string | null {
  // one entry per open bracket: the keys seen so far in an object (null for an array) and the key
  // whose value the bracket opened
  const stack: Array<{ keys: Set<string> | null; key: string | null }> = [];
  let key: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      const raw = text.slice(i, j + 1);
      const value = raw.includes('\\u') ? (JSON.parse(raw) as string) : null;
      if (value !== null && /\p{Surrogate}/u.test(value))
        return `header has a string with a lone surrogate escape (${raw.slice(0, 40)}), which is not valid Unicode`;
      const seen = stack[stack.length - 1]?.keys;
      if (seen) {
        let k = j + 1;
        while (k < text.length && /\s/.test(text[k])) k++;
        if (text[k] === ':') {
          key = value ?? (JSON.parse(raw) as string);
          if (seen.has(key)) return `header has the key "${key}" twice`;
          seen.add(key);
        }
      }
      i = j;
    } else if (c === '{' || c === '[') {
      stack.push({ keys: c === '{' ? new Set() : null, key });
      key = null;
    } else if (c === '}' || c === ']') stack.pop();
    else if (c === '-' || (c >= '0' && c <= '9')) {
      let j = i;
      while (j < text.length && /[-+.\deE]/.test(text[j])) j++;
      const top = stack[stack.length - 1]!;
      const field = top.key;
      if (
        stack.length === 3 &&
        (field === 'shape' || field === 'data_offsets') &&
        /[.eE]/.test(text.slice(i, j))
      )
        return `tensor "${stack[1]!.key}": ${field} must hold integers written without a fraction or exponent, got ${text.slice(i, j)}`;
      i = j - 1;
    }
  }
  return null;
}
