import { type UnzipFileInfo, unzipSync } from 'fflate';
import { ModelFileError } from '../errors.js';

/** One member of a zip archive as its central directory declares it. */
export interface ZipEntry {
  name: string;
  /** bytes stored in the archive */
  size: number;
  /** bytes once inflated, as declared */
  originalSize: number;
  /** 0 stored, 8 deflate */
  compression: number;
}

/** Deflate cannot expand by more than this factor; a larger declared size is a lie (or a bomb). */
const MAX_DEFLATE_RATIO = 1032;
/** The largest member we inflate: what one typed array can hold everywhere. */
export const MAX_MEMBER_BYTES = 2 ** 31 - 1;
/** Every central-directory record takes at least this many bytes. */
const MIN_RECORD = 46;

export function isZip(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 4 &&
    bytes[0] === 0x50 &&
    bytes[1] === 0x4b &&
    ((bytes[2] === 3 && bytes[3] === 4) || (bytes[2] === 5 && bytes[3] === 6))
  );
}

function run<T>(fn: string, body: () => T): T {
  try {
    return body();
  } catch (e) {
    if (e instanceof ModelFileError) throw e;
    throw new ModelFileError(
      `${fn}: the zip archive is malformed or truncated (${(e as Error).message})`,
    );
  }
}

/** The members of a zip archive, without inflating anything; duplicate names are an error. */
export function listZip(fn: string, bytes: Uint8Array): ZipEntry[] {
  const entries: ZipEntry[] = [];
  const seen = new Set<string>();
  run(fn, () =>
    unzipSync(bytes, {
      filter: (f: UnzipFileInfo) => {
        if (entries.length * MIN_RECORD >= bytes.length) {
          throw new ModelFileError(
            `${fn}: the zip archive declares more members than its ${bytes.length} bytes can hold`,
          );
        }
        if (seen.has(f.name))
          throw new ModelFileError(`${fn}: the zip archive holds "${f.name}" twice`);
        seen.add(f.name);
        entries.push({ ...f });
        return false;
      },
    }),
  );
  return entries;
}

/**
 * The contents of the named members (stored or deflated). Declared sizes are checked before
 * anything is inflated: at most MAX_MEMBER_BYTES each, at most what deflate can produce from the
 * stored bytes, and inflated output is cut at the declared size; a member that yields fewer bytes
 * than declared is truncated.
 */
export function readZip(
  fn: string,
  bytes: Uint8Array,
  entries: ZipEntry[],
  names: Set<string>,
): Map<string, Uint8Array> {
  for (const e of entries) {
    if (!names.has(e.name)) continue;
    if (e.compression !== 0 && e.compression !== 8) {
      throw new ModelFileError(
        `${fn}: zip member "${e.name}" uses compression method ${e.compression}; only stored (0) and deflate (8) are supported`,
      );
    }
    const limit = e.compression === 0 ? e.size : e.size * MAX_DEFLATE_RATIO + 1024;
    if (e.originalSize > Math.min(limit, MAX_MEMBER_BYTES)) {
      throw new ModelFileError(
        `${fn}: zip member "${e.name}" declares ${e.originalSize} bytes from ${e.size} stored bytes, more than ${e.compression === 0 ? 'it stores' : 'deflate can produce'}${e.originalSize > MAX_MEMBER_BYTES ? ` or the limit of ${MAX_MEMBER_BYTES}` : ''}`,
      );
    }
  }
  const files = run(fn, () => unzipSync(bytes, { filter: (f) => names.has(f.name) }));
  const out = new Map<string, Uint8Array>();
  for (const e of entries) {
    const data = files[e.name];
    if (data === undefined) continue;
    if (data.length !== e.originalSize) {
      throw new ModelFileError(
        `${fn}: zip member "${e.name}" is truncated: ${data.length} of its ${e.originalSize} bytes`,
      );
    }
    out.set(e.name, data);
  }
  return out;
}
