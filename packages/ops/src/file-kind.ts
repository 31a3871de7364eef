/**
 * What a file that is not safetensors looks like, from its first bytes, so that loadSafetensors can
 * say "this is a PyTorch checkpoint" rather than "header length 8388353902997807139 is too large".
 */

const starts = (b: Uint8Array, sig: number[], at = 0) => sig.every((v, i) => b[at + i] === v);

/** A description of the format `bytes` look like ("a zip archive (...)"), or null if none is known. */
export function otherFileKind(bytes: Uint8Array): string | null {
  if (starts(bytes, [0x50, 0x4b, 0x03, 0x04]))
    return 'a zip archive (what torch.save writes: a PyTorch checkpoint, .pt/.pth/.bin)';
  if (bytes[0] === 0x80 && bytes[1] >= 2 && bytes[1] <= 5)
    return 'a Python pickle (a legacy torch.save checkpoint or a pickled object)';
  if (starts(bytes, [0x1f, 0x8b])) return 'a gzip file';
  if (starts(bytes, [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59])) return 'a NumPy .npy file';
  if (starts(bytes, [0x89, 0x48, 0x44, 0x46])) return 'an HDF5 file (e.g. a Keras .h5 model)';
  // ONNX: a protobuf ModelProto, which starts with ir_version (field 1, varint) then producer_name,
  // opset_import or graph (fields 2..8, length-delimited)
  if (
    bytes[0] === 0x08 &&
    bytes[1] > 0 &&
    bytes[1] < 0x20 &&
    [0x12, 0x1a, 0x22, 0x3a, 0x42].includes(bytes[2])
  )
    return 'an ONNX model (protobuf)';
  const head = bytes.subarray(0, Math.min(bytes.length, 64));
  if (
    head.length >= 8 &&
    head.every((c) => c === 9 || c === 10 || c === 13 || (c >= 32 && c < 127))
  )
    return `a text file (it starts with ${JSON.stringify(new TextDecoder().decode(head.subarray(0, 24)))})`;
  return null;
}
