import { safetensorsMetadata } from '../safetensors.js';
import { isZip, listZip, type ZipEntry } from './zip.js';

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

/** ModelProto's first fields: ir_version (varint) then one of these field tags. */
const ONNX_NEXT_TAGS = new Set([0x12, 0x1a, 0x22, 0x28, 0x32, 0x3a, 0x42, 0x72]);

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

/** What a file is, from its first bytes (and a zip's member names); never throws for non-zips. */
export function describeFile(fn: string, bytes: Uint8Array): FileInfo {
  if (bytes.length === 0) return { kind: 'unknown', description: 'an empty file' };
  if (isZip(bytes)) return describeZip(fn, bytes);
  if (bytes[0] === 0x80 && bytes.length > 2 && bytes[1] <= 5) {
    // torch.save's legacy format starts with its magic number pickled as a LONG1
    return bytes[1] === 2 && bytes[2] === 0x8a
      ? { kind: 'torch-legacy', description: 'a PyTorch checkpoint (legacy torch.save format)' }
      : { kind: 'pickle', description: 'a Python pickle that is not a torch.save checkpoint' };
  }
  if (isSafetensors(bytes)) {
    let meta: Record<string, string>;
    try {
      meta = safetensorsMetadata(bytes);
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
  if (bytes[0] === 0x08 && bytes.length > 3 && bytes[1] > 0 && bytes[1] < 0x20) {
    if (ONNX_NEXT_TAGS.has(bytes[2]))
      return { kind: 'onnx', description: 'an ONNX model (protobuf)' };
  }
  const head = [...bytes.subarray(0, 8)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
  return { kind: 'unknown', description: `an unrecognised file (first bytes ${head})` };
}
