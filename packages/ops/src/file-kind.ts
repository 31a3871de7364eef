/**
 * What a file is, from its first bytes (and a zip's member names): one sniffer for every loader's
 * messages. loadSafetensors says "this is not a safetensors file: it looks like a zip archive ..."
 * rather than "header length 8388353902997807139 is too large" (otherFileKind); loadTorchCheckpoint
 * and loadModel say what they were given and what to do with it (describeFile).
 */
import { parseHeader } from './safetensors-header.js';
import { isZip, listZip, type ZipEntry } from './torch/zip.js';

/** The metadata key of an rnnkit model file (saveModel in @rnnkit/heads). */
export const MODEL_CONFIG_KEY = 'rnnkit.config';

export type FileKind =
  | 'torch-zip'
  | 'torch-legacy'
  | 'torchscript'
  | 'pickle'
  | 'zip'
  | 'rnnkit-model'
  | 'safetensors'
  | 'onnx'
  | 'unknown';

export interface FileInfo {
  kind: FileKind;
  /** for messages: "a safetensors file without rnnkit.config (a bare state dict)" */
  description: string;
  /** zip members, for the zip kinds */
  entries?: ZipEntry[];
}

const starts = (b: Uint8Array, sig: number[], at = 0) => sig.every((v, i) => b[at + i] === v);

/** A PROTO opcode (protocol 2 to 5) first: how every pickle torch.save writes starts. */
const isPickle = (b: Uint8Array) => b.length > 2 && b[0] === 0x80 && b[1] >= 2 && b[1] <= 5;

/** ModelProto's first fields: ir_version (field 1, varint) then one of these field tags. */
const ONNX_NEXT_TAGS = new Set([0x12, 0x1a, 0x22, 0x28, 0x32, 0x3a, 0x42, 0x72]);
const isOnnx = (b: Uint8Array) =>
  b.length > 3 && b[0] === 0x08 && b[1] > 0 && b[1] < 0x20 && ONNX_NEXT_TAGS.has(b[2]);
const ONNX = 'an ONNX model (protobuf)';

/** Formats no loader reads, named alike by every loader. */
const FOREIGN: Array<[number[], string]> = [
  [[0x1f, 0x8b], 'a gzip file'],
  [[0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59], 'a NumPy .npy file'],
  [[0x89, 0x48, 0x44, 0x46], 'an HDF5 file (e.g. a Keras .h5 model)'],
];
const foreign = (b: Uint8Array) => FOREIGN.find(([sig]) => starts(b, sig))?.[1] ?? null;

/** What a file that is not safetensors looks like ("a zip archive (...)"), or null if none is known. */
export function otherFileKind(bytes: Uint8Array): string | null {
  if (isZip(bytes))
    return 'a zip archive (what torch.save writes: a PyTorch checkpoint, .pt/.pth/.bin)';
  if (isPickle(bytes))
    return 'a Python pickle (a legacy torch.save checkpoint or a pickled object)';
  if (isOnnx(bytes)) return ONNX;
  const other = foreign(bytes);
  if (other !== null) return other;
  const head = bytes.subarray(0, Math.min(bytes.length, 64));
  if (
    head.length >= 8 &&
    head.every((c) => c === 9 || c === 10 || c === 13 || (c >= 32 && c < 127))
  )
    return `a text file (it starts with ${JSON.stringify(new TextDecoder().decode(head.subarray(0, 24)))})`;
  return null;
}

function isSafetensors(bytes: Uint8Array): boolean {
  if (bytes.length < 10 || bytes[8] !== 0x7b) return false; // '{'
  const n = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  return n >= 2n && n <= BigInt(bytes.length - 8);
}

function describeZip(fn: string, bytes: Uint8Array): FileInfo {
  const entries = listZip(fn, bytes);
  const names = entries.map((e) => e.name);
  const pkl = names.filter((n) => /^[^/]+\/data\.pkl$/.test(n));
  if (pkl.length === 1) {
    const root = pkl[0].slice(0, -'data.pkl'.length);
    if (names.some((n) => n.startsWith(`${root}code/`) || n === `${root}constants.pkl`)) {
      return {
        kind: 'torchscript',
        description: 'a TorchScript archive (torch.jit.save), whose pickle names compiled classes',
        entries,
      };
    }
    return { kind: 'torch-zip', description: 'a PyTorch checkpoint (torch.save)', entries };
  }
  const shown = names.slice(0, 5).map((n) => JSON.stringify(n));
  return {
    kind: 'zip',
    description: `a zip archive without a data.pkl pickle (${names.length} member${names.length === 1 ? '' : 's'}${shown.length ? `: ${shown.join(', ')}${names.length > 5 ? ', ...' : ''}` : ''})`,
    entries,
  };
}

function describeSafetensors(bytes: Uint8Array): FileInfo {
  let meta: Record<string, string>;
  try {
    meta = parseHeader(bytes).metadata;
  } catch (e) {
    return {
      kind: 'safetensors',
      description: `a malformed safetensors file (${(e as Error).message})`,
    };
  }
  return Object.hasOwn(meta, MODEL_CONFIG_KEY)
    ? {
        kind: 'rnnkit-model',
        description: `an rnnkit model file (safetensors with ${MODEL_CONFIG_KEY})`,
      }
    : {
        kind: 'safetensors',
        description: `a safetensors file without ${MODEL_CONFIG_KEY} (a bare state dict)`,
      };
}

/** What a file is, for loadTorchCheckpoint and loadModel; never throws for non-zips. */
export function describeFile(fn: string, bytes: Uint8Array): FileInfo {
  if (bytes.length === 0) return { kind: 'unknown', description: 'an empty file' };
  if (isZip(bytes)) return describeZip(fn, bytes);
  if (isPickle(bytes)) {
    // torch.save's legacy format starts with its magic number pickled as a LONG1
    return bytes[1] === 2 && bytes[2] === 0x8a
      ? { kind: 'torch-legacy', description: 'a PyTorch checkpoint (legacy torch.save format)' }
      : { kind: 'pickle', description: 'a Python pickle that is not a torch.save checkpoint' };
  }
  if (isSafetensors(bytes)) return describeSafetensors(bytes);
  if (isOnnx(bytes)) return { kind: 'onnx', description: ONNX };
  const head = [...bytes.subarray(0, 8)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
  return {
    kind: 'unknown',
    description: foreign(bytes) ?? `an unrecognised file (first bytes ${head})`,
  };
}
